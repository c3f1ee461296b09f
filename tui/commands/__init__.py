"""Headless commands, one module per area; `tui.cli` puts them together."""
