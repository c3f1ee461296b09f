"""Two themes: one for terminals with 256 or more colours, one for 16-colour terminals.

Textual's default accent (orange) becomes bright red on a 16-colour terminal, so every
dialog border looked like an error, and dark input backgrounds became black, so a field
could not be told from the dialog. `thesis` picks colours whose nearest 16-colour match
means the same thing (accent → cyan, panels and fields → bright black); `thesis-16` uses the
terminal's own ANSI colours, chosen when the terminal has only 16 (TERM=xterm, the Linux
console) or when THESIS_THEME says so.
"""

from __future__ import annotations

from textual.theme import Theme

THESIS = Theme(
    name="thesis",
    primary="#3b82f6",
    secondary="#2563a8",
    accent="#2aa198",
    warning="#e0c040",
    error="#e5484d",
    success="#4caf50",
    foreground="#e0e0e0",
    background="#121212",
    surface="#1c1c1c",
    panel="#333333",
    dark=True,
    variables={"bar": "#333333"},
)

THESIS_16 = Theme(
    name="thesis-16",
    ansi=True,
    primary="ansi_blue",
    secondary="ansi_cyan",
    accent="ansi_cyan",
    warning="ansi_yellow",
    error="ansi_red",
    success="ansi_green",
    foreground="ansi_default",
    background="ansi_default",
    surface="ansi_default",
    panel="ansi_bright_black",
    boost="ansi_default",
    dark=True,
    variables={
        "bar": "ansi_bright_black",
        "text-muted": "ansi_white",
        "ansi-background": "ansi_black",
        "ansi-foreground": "ansi_white",
        "border-blurred": "ansi_bright_black",
        "block-cursor-foreground": "ansi_black",
        "block-cursor-background": "ansi_white",
        "input-cursor-background": "ansi_white",
        "input-cursor-foreground": "ansi_black",
        "input-selection-background": "ansi_bright_blue",
        "input-selection-foreground": "ansi_black",
        "screen-selection-background": "ansi_bright_blue",
        "screen-selection-foreground": "ansi_black",
        "footer-key-foreground": "ansi_cyan",
        "scrollbar": "ansi_bright_black",
        "scrollbar-hover": "ansi_white",
        "scrollbar-active": "ansi_white",
        "datatable--cursor-background": "ansi_blue",
        "datatable--cursor-foreground": "ansi_bright_white",
    },
)

THEMES = {theme.name: theme for theme in (THESIS, THESIS_16)}
VARIABLES = {"bar": "#333333"}
"""Our own theme variables, for any other theme a user picks from the palette: `$bar` is
the background of the status line, the key bar and input fields."""


def pick_theme(setting: str, color_system: str | None) -> str:
    """The theme to use: the setting's, or by the terminal's colours when it says "auto"."""
    if setting != "auto":
        return setting
    return "thesis-16" if color_system in ("standard", "windows") else "thesis"
