"""Analyzers: one module per tool behind the Analyzer protocol (issue 5). No Textual."""
