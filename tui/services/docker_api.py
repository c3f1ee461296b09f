"""The Docker Engine API's read-only calls of the status sync, without the SDK.

The TUI lists its apps' containers every few seconds from its first screen on. The SDK,
with requests and urllib3, is about 11 MB and a fifth of a second to import, so that
listing talks HTTP to the engine with the standard library: over its unix socket, or over
`tcp://` (plain HTTP, as `docker_engine.connect` uses it). Container actions still use the
SDK, imported when the first one runs. Other hosts (`ssh://`) are the SDK's alone: see
`supported`.
"""

from __future__ import annotations

import http.client
import json
import socket
from typing import Any
from urllib.parse import urlencode, urlsplit

from tui.errors import ContainerError, DockerUnavailableError

DEFAULT_SOCKET = "/var/run/docker.sock"
API_TIMEOUT = 60
"""Seconds a call may take once the engine answered its ping (a listing of thousands of
containers is not instant)."""


class _UnixConnection(http.client.HTTPConnection):
    def __init__(self, path: str, timeout: float) -> None:
        super().__init__("localhost", timeout=timeout)
        self._path = path

    def connect(self) -> None:
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sock.settimeout(self.timeout)
        try:
            sock.connect(self._path)
        except OSError:
            sock.close()
            raise
        self.sock = sock


def supported(host: str) -> bool:
    """Whether this client reaches `host` (a THESIS_DOCKER_HOST value; empty: the socket)."""
    return not host or host.split("://", 1)[0] in ("unix", "tcp", "http")


class _Refused(Exception):
    """The engine answered with an error status."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


class EngineAPI:
    """GET requests to one engine; a connection per request (the socket is local and the
    calls are seconds apart), so nothing is left open between refreshes."""

    def __init__(self, host: str, timeout: float = API_TIMEOUT) -> None:
        if not supported(host):
            raise ValueError(f"not a unix:// or tcp:// Docker host: {host}")
        self.host = host
        self.timeout = timeout

    def _connection(self, timeout: float) -> http.client.HTTPConnection:
        if not self.host or self.host.startswith("unix://"):
            return _UnixConnection(self.host.removeprefix("unix://") or DEFAULT_SOCKET, timeout)
        try:
            parts = urlsplit("http://" + self.host.split("://", 1)[1])
            port = parts.port or 2375
        except ValueError as exc:  # "tcp://[::1", "tcp://host:port": not an address
            raise OSError(f"not an address: {exc}") from None
        return http.client.HTTPConnection(parts.hostname or "", port, timeout=timeout)

    def get(self, path: str, params: dict[str, str] | None = None, *, timeout: float = 0) -> bytes:
        """The body of GET `path`; OSError, http.client.HTTPException or _Refused."""
        connection = self._connection(timeout or self.timeout)
        try:
            query = f"?{urlencode(params)}" if params else ""
            connection.request("GET", path + query, headers={"Accept": "application/json"})
            response = connection.getresponse()
            body = response.read()
        finally:
            connection.close()
        if response.status >= 400:
            raise _Refused(response.status, _message(body) or response.reason)
        return body

    def ping(self, timeout: float) -> None:
        self.get("/_ping", timeout=timeout)

    def containers(self, label: str) -> list[dict[str, Any]]:
        """Every container (running or not) carrying `label`, as the engine lists them."""
        body = self.get("/containers/json", {"all": "1", "filters": json.dumps({"label": [label]})})
        listed = json.loads(body)
        if not isinstance(listed, list):
            raise _Refused(200, "the engine's container list is not a list")
        return [entry for entry in listed if isinstance(entry, dict)]


def _message(body: bytes) -> str:
    try:
        message = json.loads(body).get("message", "")
    except (ValueError, AttributeError):
        message = body.decode("utf-8", "replace")
    text = " ".join(str(message).split())
    return text if len(text) <= 240 else "…" + text[-240:]


def _reason(exc: BaseException) -> str:
    if isinstance(exc, _Refused):
        return f"it answered HTTP {exc.status}: {exc.message}"
    if isinstance(exc, http.client.HTTPException):
        return "it closed the connection"
    if isinstance(exc, OSError) and exc.strerror:
        return f"[Errno {exc.errno}] {exc.strerror}"
    return str(exc) or type(exc).__name__


def no_engine(host: str, reason: str) -> DockerUnavailableError:
    """The error of an engine that does not answer at `host` (a THESIS_DOCKER_HOST value),
    for this client and the SDK's (docker_engine.connect) alike."""
    where = host or f"the local socket ({DEFAULT_SOCKET})"
    return DockerUnavailableError(
        f"Docker is unavailable: no engine answers at {where} ({reason}). "
        "Start dockerd or set THESIS_DOCKER_HOST."
    )


def silent_for(timeout: float) -> str:
    """The reason of an engine that accepted the connection and never answered."""
    return f"it did not answer within {timeout:g}s (THESIS_DOCKER_TIMEOUT)"


def connect_api(host: str, timeout: float) -> EngineAPI:
    """A client of the engine at `host` that answered a ping within `timeout` seconds, or
    DockerUnavailableError saying why not."""
    api = EngineAPI(host)
    try:
        api.ping(timeout)
    except (OSError, http.client.HTTPException, _Refused) as exc:
        reason = silent_for(timeout) if isinstance(exc, TimeoutError) else _reason(exc)
        raise no_engine(host, reason) from None
    return api


def list_labelled(api: EngineAPI, label: str) -> list[dict[str, Any]]:
    """`api.containers(label)` with its errors as ours."""
    what = "list containers"
    try:
        return api.containers(label)
    except TimeoutError:
        raise ContainerError(f"{what}: the Docker engine did not answer in time") from None
    except _Refused as exc:
        raise ContainerError(f"{what}: {exc.message}") from None
    except ValueError:
        raise ContainerError(f"{what}: the engine's answer is not JSON") from None
    except (OSError, http.client.HTTPException) as exc:
        raise DockerUnavailableError(
            f"Docker is unavailable: {what} failed ({_reason(exc)})"
        ) from None
