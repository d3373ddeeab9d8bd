"""Secrets in file content: the rules (``rules``) and the analyzer that applies them
(``analyzer``)."""
