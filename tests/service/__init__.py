"""Tests of spyglass.service."""
