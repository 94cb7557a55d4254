"""Serving containers: one package per runtime (image per region and version, environment, model directory)."""
