"""What we create in Docker, named and labelled: no SDK needed to read or write a name.

Everything we create carries labels naming the model, app and service, and has a
deterministic name (`thesis-<model>-app<N>-<service>`), so one `docker ps` with a label
filter finds every app's containers — never a random per-build project name.
"""

from __future__ import annotations

import hashlib
import re
from typing import Any

LABEL_MODEL = "thesis.model"
LABEL_APP = "thesis.app"
LABEL_SERVICE = "thesis.service"
LABEL_ROLE = "thesis.role"
LABEL_INSTANCE = "thesis.instance"
"""Which ThesisApp database created the object (see instance.py)."""
LABEL_CONFIG = "thesis.config"
"""Hash of what a container was created with; a different hash means recreate it."""


def _docker_name(text: str) -> str:
    """`text` as a container/network name part: [a-zA-Z0-9_.-], starting alphanumeric."""
    return re.sub(r"[^A-Za-z0-9_.-]+", "-", text).strip("-.") or "x"


def project_name(model_slug: str, app_number: int) -> str:
    """The app's network name and the prefix of its container names."""
    return f"thesis-{_docker_name(model_slug)}-app{app_number}"


def _distinct(clean: str, original: str) -> str:
    """`clean` as is when cleaning changed nothing, else with a short hash of `original`:
    services named `web!` and `web?` must not share a container or an image."""
    if clean == original:
        return clean
    return f"{clean}-{hashlib.sha256(original.encode()).hexdigest()[:8]}"


def container_name(model_slug: str, app_number: int, service: str) -> str:
    return f"{project_name(model_slug, app_number)}-{_distinct(_docker_name(service), service)}"


def _image_part(text: str) -> str:
    """`text` as one path component of an image name: lower case, and between alphanumerics
    only `.`, `_`, `__` or dashes (Docker's reference grammar)."""

    def separator(match: re.Match[str]) -> str:
        run = match.group(0)
        return run if run in (".", "_", "__") or set(run) == {"-"} else "-"

    return re.sub(r"[^a-z0-9]+", separator, text.lower()).strip("._-")


def image_tag(model_slug: str, app_number: int, service: str) -> str:
    """`thesis/<model>-app<N>-<service>:latest`, lower case as image names must be.

    Where lower-casing or cleaning changed the slug, a short hash of it keeps two models
    (`GPT-4o`, `gpt-4o`) from sharing images.
    """
    model = _distinct(_image_part(model_slug) or "model", model_slug)
    part = _distinct(_image_part(service) or "service", service)
    return f"thesis/{model}-app{app_number}-{part}:latest"


def app_labels(model_slug: str, app_number: int, instance: str) -> dict[str, str]:
    """The labels of every object made for the app by the ThesisApp `instance`."""
    return {LABEL_MODEL: model_slug, LABEL_APP: str(app_number), LABEL_INSTANCE: instance}


def app_filter(model_slug: str, app_number: int) -> dict[str, Any]:
    """A docker `filters=` argument matching exactly this app's objects. Not by instance:
    names are deterministic (`thesis-<model>-app<N>-…`), so an app's objects are its own,
    older ones made before instance labels included."""
    return {"label": [f"{LABEL_MODEL}={model_slug}", f"{LABEL_APP}={app_number}"]}


def config_hash(config: dict[str, Any]) -> str:
    text = repr(sorted((k, repr(v)) for k, v in config.items()))
    return hashlib.sha256(text.encode()).hexdigest()[:16]
