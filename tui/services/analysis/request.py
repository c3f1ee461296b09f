"""The apps an analysis request names, written as `model/N` words.

The TUI's start form shows the chosen apps this way and reads back what the user edits:
`openai_gpt-4o/1 openai_gpt-4o/3-5, anthropic_claude/2` is four apps of one model and one
of another. Ranges keep a batch of apps short to type.
"""

from __future__ import annotations

import re

from tui.errors import ValidationError

_WORD = re.compile(r"^(?P<slug>[^/\s]+)/(?P<first>\d+)(?:-(?P<last>\d+))?$")
MAX_APPS = 1000


def parse_app_list(text: str) -> list[tuple[str, int]]:
    """`model/N` and `model/N-M` words (space or comma separated) as (model, N), in order."""
    apps: list[tuple[str, int]] = []
    for word in text.replace(",", " ").split():
        match = _WORD.match(word)
        if match is None:
            raise ValidationError(f"“{word}” is not an app: write model/N or model/N-M")
        first = int(match["first"])
        last = int(match["last"] or first)
        if first < 1 or last < first:
            raise ValidationError(f"“{word}”: app numbers start at 1 and ranges go up")
        for number in range(first, last + 1):
            if (match["slug"], number) not in apps:
                apps.append((match["slug"], number))
        if len(apps) > MAX_APPS:
            raise ValidationError(f"More than {MAX_APPS} apps in one request; use a batch job")
    if not apps:
        raise ValidationError("Name at least one app, e.g. openai_gpt-4o/1")
    return apps


def format_app_list(apps: list[tuple[str, int]]) -> str:
    """The inverse of `parse_app_list`: consecutive numbers of a model become a range."""
    words: list[str] = []
    run_slug, first, last = None, 0, 0
    for slug, number in [*apps, (None, 0)]:
        if slug == run_slug and number == last + 1:
            last = number
            continue
        if run_slug is not None:
            words.append(f"{run_slug}/{first}" + (f"-{last}" if last > first else ""))
        run_slug, first, last = slug, number, number
    return " ".join(words)
