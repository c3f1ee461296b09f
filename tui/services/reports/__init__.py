"""Comparing the models: per-model metrics with confidence intervals, and their exports."""
