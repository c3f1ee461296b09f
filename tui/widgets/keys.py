"""Keys as users read them, from the bindings themselves.

The key bar, the help screen, the command palette and the README's key tables are all made
from the classes' BINDINGS, so they cannot disagree: a binding's `description` is its short
label (key bar), its `tooltip` the longer sentence (help, palette) when it has one.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

from textual.binding import Binding
from textual.dom import DOMNode
from textual.keys import format_key
from textual.screen import Screen

_NAMES = {"slash": "/", "question_mark": "?", "escape": "esc", "space": "space", "enter": "enter"}


def key_display(binding: Binding) -> str:
    """`ctrl+r`, `/`, `space`, `X`: what to press, as the README and help spell it."""
    if binding.key_display:
        return binding.key_display
    return "/".join(_one_key(key) for key in binding.key.split(","))


def _one_key(key: str) -> str:
    *modifiers, name = key.split("+")
    name = _NAMES.get(name) or format_key(name)
    return "+".join([*modifiers, name])


@dataclass(frozen=True)
class Key:
    key: str
    help: str
    """A sentence, for the help screen and the README."""
    action: str


@cache
def bindings_of(cls: type) -> dict[str, Binding]:
    """Key → binding that `cls` declares or inherits, its own first (they win, as in
    Textual); only ours: Textual's own (tab, ctrl+c …) are named in the help by hand."""
    merged: dict[str, Binding] = {}
    for base in cls.__mro__:
        if not base.__module__.startswith("tui."):
            continue
        for binding in base.__dict__.get("BINDINGS", []):
            for made in Binding.make_bindings([binding]):
                merged.setdefault(made.key, made)
    return merged


@cache
def keys_of(cls: type) -> list[Key]:
    """The keys of `cls`'s bindings, one per action, in the order the help lists them."""
    merged = bindings_of(cls)
    keys: list[Key] = []
    seen: set[str] = set()
    for binding in merged.values():
        if binding.action in seen or not binding.description:
            continue  # e.g. both j and down: listed once
        seen.add(binding.action)
        keys.append(
            Key(key_display(binding), binding.tooltip or binding.description, binding.action)
        )
    return keys


def active_actions(screen: Screen) -> list[tuple[DOMNode, Binding]]:
    """What the keys do on `screen` now, focused widget first: each enabled binding with a
    description and the node it acts on (the key bar and the palette both list these).

    A key the focused widget binds without showing it (the table's enter) yields to the
    screen's own binding for that key, which the screen runs for it (drill-down, open).
    """
    own = bindings_of(type(screen))
    actions = []
    for node, binding, enabled, _tooltip in screen.active_bindings.values():
        if not binding.show and node is not screen and binding.key in own:
            node, binding = screen, own[binding.key]
            name = binding.action.partition("(")[0]
            enabled = screen.check_action(name, ()) is not False
        if enabled and binding.description:
            actions.append((node, binding))
    return actions


def markdown_table(keys: list[Key]) -> str:
    """The README's table of `keys`."""
    rows = ["| Key | Does |", "|---|---|"]
    rows += [f"| `{k.key}` | {k.help} |" for k in keys]
    return "\n".join(rows)
