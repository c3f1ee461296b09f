"""Keys as users read them, from the bindings themselves.

The key bar, the help screen, the command palette and the README's key tables are all made
from the classes' BINDINGS, so they cannot disagree: a binding's `description` is its short
label (key bar), its `tooltip` the longer sentence (help, palette) when it has one.
"""

from __future__ import annotations

from dataclasses import dataclass

from textual.binding import Binding
from textual.keys import format_key

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
    label: str
    """Short, for the key bar."""
    help: str
    """A sentence, for the help screen and the palette."""
    action: str
    shown: bool
    """On the key bar (False: navigation, listed only in the help)."""


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
            Key(
                key_display(binding),
                binding.description,
                binding.tooltip or binding.description,
                binding.action,
                binding.show,
            )
        )
    return keys


def markdown_table(keys: list[Key]) -> str:
    """The README's table of `keys`."""
    rows = ["| Key | Does |", "|---|---|"]
    rows += [f"| `{k.key}` | {k.help} |" for k in keys]
    return "\n".join(rows)
