"""The web service: REST API under ``/api/v1``, its settings, and its authentication."""
