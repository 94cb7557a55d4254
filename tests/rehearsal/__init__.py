"""The deploy rehearsal: the synthesized cloud assembly, deployed as AWS would run it, on loopback."""
