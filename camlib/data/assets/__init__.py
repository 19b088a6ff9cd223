"""Offline assets: files fetched once from PyPI wheels, Debian packages or URLs, verified by SHA-256, and where they live."""
