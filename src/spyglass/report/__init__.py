"""Turning an inventory (and later findings) into what a person or a program reads."""
