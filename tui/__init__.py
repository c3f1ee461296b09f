"""ThesisApp TUI: catalogue, run and analyse LLM-generated web applications."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("thesis-tui")
except PackageNotFoundError:  # running from a source tree that was never installed
    __version__ = "0.0.0+source"
