"""The Docker engine: connecting, naming what we create, and turning its errors into ours.

Everything we create carries labels naming the model, app and service, and has a
deterministic name (`thesis-<model>-app<N>-<service>`), so one `docker ps` with a label
filter finds every app's containers — never a random per-build project name.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import docker
import docker.errors
import requests.exceptions
import urllib3.exceptions

from tui.config import Settings
from tui.errors import ContainerError, DockerUnavailableError

LABEL_MODEL = "thesis.model"
LABEL_APP = "thesis.app"
LABEL_SERVICE = "thesis.service"
LABEL_ROLE = "thesis.role"
LABEL_INSTANCE = "thesis.instance"
"""Which ThesisApp database created the object (see instance.py)."""
LABEL_CONFIG = "thesis.config"
"""Hash of what a container was created with; a different hash means recreate it."""

API_TIMEOUT = 60


def connect(settings: Settings) -> docker.DockerClient:
    """A client for the engine in the settings, or DockerUnavailableError saying why not."""
    where = settings.docker_host or "the local socket (/var/run/docker.sock)"
    base_url = settings.docker_host or None
    try:
        # A probe with a short timeout: an engine that accepts but never answers is
        # unavailable after THESIS_DOCKER_TIMEOUT seconds. The client we keep has the long
        # API timeout (its sockets carry it: a build step or a log may be quiet a while).
        probe = docker.DockerClient(base_url=base_url, timeout=settings.docker_timeout)
        try:
            probe.ping()
            version = probe.api.api_version
        finally:
            probe.close()
        client = docker.DockerClient(base_url=base_url, timeout=API_TIMEOUT, version=version)
    except (docker.errors.DockerException, requests.exceptions.RequestException) as exc:
        timed_out = isinstance(exc, requests.exceptions.Timeout) or "timed out" in str(exc)
        reason = (
            f"it did not answer within {settings.docker_timeout:g}s (THESIS_DOCKER_TIMEOUT)"
            if timed_out
            else _reason(exc)
        )
        raise DockerUnavailableError(
            f"Docker is unavailable: no engine answers at {where} ({reason}). "
            "Start dockerd or set THESIS_DOCKER_HOST."
        ) from None
    return client


def _reason(exc: BaseException) -> str:
    if isinstance(exc, docker.errors.APIError):
        text = " ".join(str(exc.explanation or exc).split())
        # The engine puts what matters last ("… Bind for 127.0.0.1:5003 failed: port is
        # already allocated"), so keep the end of a long message.
        return text if len(text) <= 240 else "…" + text[-240:]
    # requests wraps the socket error several levels deep; its last clause says most.
    text = " ".join(str(exc).split()) or type(exc).__name__
    for marker in ("Errno", "Connection refused", "No such file"):
        index = text.rfind(marker)
        if index > 0:
            text = text[index:]
            break
    return text.strip("()'\" ")[:160]


@contextmanager
def docker_errors(what: str) -> Iterator[None]:
    """Docker's exceptions as ours: the engine gone, or an API error for `what`."""
    try:
        yield
    except (
        requests.exceptions.RequestException,
        urllib3.exceptions.HTTPError,
        docker.errors.DockerException,
    ) as exc:
        if isinstance(exc, docker.errors.APIError):
            raise ContainerError(f"{what}: {_reason(exc)}") from None
        if isinstance(exc, requests.exceptions.ReadTimeout):
            raise ContainerError(f"{what}: the Docker engine did not answer in time") from None
        if isinstance(
            exc, requests.exceptions.ChunkedEncodingError | urllib3.exceptions.ProtocolError
        ):
            raise DockerUnavailableError(
                f"Docker is unavailable: the engine closed the connection during {what}"
            ) from None
        raise DockerUnavailableError(
            f"Docker is unavailable: {what} failed ({_reason(exc)})"
        ) from None


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
