"""Analyses of generated apps: static security, smoke, load tests and AI review."""
