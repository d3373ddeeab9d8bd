"""Tests of spyglass.jobs."""
