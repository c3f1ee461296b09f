"""Reusable UI parts."""
