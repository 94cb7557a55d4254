"""The config layer: the deployment spec (every default), its sources, first-class errors, the rules, and the
resolver that turns a spec into what the constructs build."""
