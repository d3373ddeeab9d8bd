"""Layers to inventory: each layer read once, as a stream, by analyzers that ask for paths."""
