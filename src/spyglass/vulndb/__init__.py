"""Vulnerability data: feeds (``feeds/``), the normalised model (``model``), the store
(``store``: ``VulnStore.candidates`` for the matcher), updates (``update``) and offline
bundles (``bundle``)."""
