"""Serving containers behind one seam (``runtime.py``: ``ServingRuntime``): one package per runtime, holding its
image table, its environment and its ``ServingRuntime`` implementation. Imports nothing at package level."""
