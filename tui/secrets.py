"""ThesisApp's own secrets: kept out of everything it writes and of every subprocess.

`load_settings` remembers the configured secret values (API keys, the database password);
`redact` replaces them in any text before it is written to a results file, a log, a row or
shown; `scrubbed_environment` is the environment a tool subprocess gets: without our secret
variables, without variables named like secrets, and without any variable holding one of
our secret values under another name.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Mapping
from typing import Any

SECRET_VARIABLES = frozenset(
    {"THESIS_OPENROUTER_API_KEY", "OPENROUTER_API_KEY", "THESIS_ZAP_API_KEY",
     "THESIS_DATABASE_URL", "DATABASE_URL", "PGPASSWORD"}
)  # fmt: skip
"""Variables whose value is one of ThesisApp's secrets (or holds one: a database URL)."""
_SECRET_NAME = re.compile(r"API_?KEY|TOKEN|SECRET|PASSWORD|PASSWD|CREDENTIAL", re.IGNORECASE)
MASK = "***"
_MIN_SECRET = 4
"""Shorter values are not treated as secrets: masking every `abc` would garble text."""

_known: set[str] = set()


def remember(values: Iterable[str | None]) -> None:
    """Add secret values to redact from now on (the process keeps them until it ends)."""
    for value in values:
        if value and len(value) >= _MIN_SECRET:
            _known.add(value)


def known() -> frozenset[str]:
    return frozenset(_known)


def is_secret_variable(name: str) -> bool:
    return name.upper() in SECRET_VARIABLES or bool(_SECRET_NAME.search(name))


def redact(text: str) -> str:
    """`text` with every remembered secret value replaced by `***`."""
    if not _known or not text:
        return text
    for value in sorted(_known, key=len, reverse=True):
        if value in text:
            text = text.replace(value, MASK)
    return text


def redact_value(value: Any) -> Any:
    """`redact` through a JSON-like value (dicts, lists, strings)."""
    if not _known:
        return value
    if isinstance(value, str):
        return redact(value)
    if isinstance(value, dict):
        return {redact_value(key): redact_value(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [redact_value(item) for item in value]
    return value


def holds_secret(value: str) -> bool:
    return any(secret in value for secret in _known)


def scrubbed_environment(base: Mapping[str, str] | None = None) -> dict[str, str]:
    """`base` (default: this process's environment) without anything secret."""
    source = os.environ if base is None else base
    return {
        name: value
        for name, value in source.items()
        if not is_secret_variable(name) and not holds_secret(value)
    }
