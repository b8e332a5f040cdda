"""Thin translators between a platform and the core Assistant."""
