"""The Docker engine through its SDK: connecting, and turning its errors into ours.

What we name and label is in docker_names.py; the read-only calls of the status sync go
through docker_api.py, without the SDK.
"""

from __future__ import annotations

import ipaddress
import socket
import urllib.parse
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import docker
import docker.errors
import requests.exceptions
import urllib3.exceptions

from tui.config import Settings
from tui.errors import ContainerError, DockerUnavailableError
from tui.services.docker_api import API_TIMEOUT, no_engine, silent_for

LOCAL_SOCKET = "unix:///var/run/docker.sock"


def engine_id(docker_host: str) -> str:
    """Which Docker engine a setting of THESIS_DOCKER_HOST means, the same on every machine:
    a remote one (`tcp://…`, `ssh://…`) by its address; a local socket by this host's name
    and the socket's path (one path on two machines is two engines)."""
    host = docker_host.strip() or LOCAL_SOCKET
    if host.startswith(("tcp://", "ssh://", "http://", "https://")):
        return host
    return f"{socket.gethostname()}:{host.removeprefix('unix://')}"


def connect(settings: Settings) -> docker.DockerClient:
    """A client for the engine in the settings, or DockerUnavailableError saying why not."""
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
        reason = silent_for(settings.docker_timeout) if timed_out else _reason(exc)
        raise no_engine(settings.docker_host, reason) from None
    except Exception as exc:  # ssh://: paramiko's own (no route, refused key, unknown host)
        if engine_reach(settings.docker_host) != "ssh":
            raise
        reason = _reason(exc)
        if "known_hosts" in reason:
            reason += " (connect once with ssh to accept its host key)"
        raise no_engine(settings.docker_host, reason) from None
    return client


def engine_reach(docker_host: str) -> str:
    """How this machine reaches what an engine's apps publish on their machine's loopback:
    "here" (an engine on this machine: a socket, or tcp:// to a loopback address), "ssh"
    (through the SSH connection: tunnels.py) or "away" (tcp:// to another machine)."""
    host = docker_host.strip()
    if not host or host.startswith(("unix://", "npipe://", "/")):
        return "here"
    if host.startswith("ssh://"):
        return "ssh"
    try:
        name = urllib.parse.urlsplit(host).hostname or ""
    except ValueError:
        return "away"
    if name == "localhost":
        return "here"
    try:
        address = ipaddress.ip_address(name)
    except ValueError:
        return "away"
    return "here" if address.is_loopback or address.is_unspecified else "away"


def reach_hint(docker_host: str, ports: list[int]) -> str | None:
    """For an engine on another machine, how a user opens an app's `ports` from here (they
    are on that machine's loopback); None for an engine on this machine."""
    reach = engine_reach(docker_host)
    if reach == "here":
        return None
    if reach == "away":
        return "(those addresses are on the engine's machine: open them there)"
    try:
        parts = urllib.parse.urlsplit(docker_host.strip())
        port = parts.port
    except ValueError:
        return "(those addresses are on the engine's machine)"
    where = (f"{parts.username}@" if parts.username else "") + (parts.hostname or "")
    forwards = " ".join(f"-L {p}:127.0.0.1:{p}" for p in ports)
    return (
        "(those addresses are on the engine's machine; to open them here: "
        f"ssh -N {forwards}{f' -p {port}' if port else ''} {where})"
    )


def ssh_transport(client: docker.DockerClient) -> Any:
    """The live SSH transport of a client of an ssh:// engine (the SDK's own connection,
    opened again if it dropped)."""
    adapter = getattr(client.api, "_custom_adapter", None)
    ssh = getattr(adapter, "ssh_client", None)
    if ssh is None:
        raise DockerUnavailableError("Docker is unavailable: the ssh:// client has no connection")
    transport = ssh.get_transport()
    if transport is None or not transport.is_active():
        try:
            adapter._connect()
        except Exception as exc:  # paramiko's
            raise DockerUnavailableError(
                f"Docker is unavailable: the SSH connection was lost ({_reason(exc)})"
            ) from None
        transport = ssh.get_transport()
    return transport


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
            text = text[index - (text[index - 1] == "[") :]
            break
    text = text.replace("[Errno None] ", "")  # paramiko's "could not connect", no errno
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
