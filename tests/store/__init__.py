"""Tests of spyglass.store."""
