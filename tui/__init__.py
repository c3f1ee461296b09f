"""ThesisApp TUI: catalogue, run and analyse LLM-generated web applications."""

__version__ = "0.1.0"
