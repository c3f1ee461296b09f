"""A ZAP daemon in a container, for `zap` analyses when no THESIS_ZAP_URL is set but the ZAP
image (THESIS_ZAP_IMAGE, `zaproxy/zap-stable` by default) is on the Docker engine.

The image is never pulled: a lab that wants ZAP pulls it once; without it wapiti scans. The
container shares the host's network so ZAP reaches the apps on 127.0.0.1, where their ports
are published, and ZAP listens on 127.0.0.1 only, on a free port, with a fresh random API
key for this one scan (never logged). It is removed when the scan ends, fails or is
cancelled.
"""

from __future__ import annotations

import asyncio
import secrets
import socket
import time
import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

import docker
import requests

from tui.config import Settings
from tui.errors import DockerUnavailableError, RemoteServiceError, ScanError, ThesisError
from tui.services.analysis.zap_client import ZapClient
from tui.services.docker_engine import connect, docker_errors, engine_reach
from tui.services.images import image_exists

STARTUP_SECONDS = 180.0
"""How long ZAP may take to answer its API after the container starts (Java starts slowly)."""
LABEL = "thesis.role"
"""Every ZAP container ThesisApp starts carries `thesis.role=zap`."""

Log = Callable[[str], None]


def local_zap_image(settings: Settings) -> str | None:
    """THESIS_ZAP_IMAGE when the engine has it; None when it has not, there is no engine, or
    the engine is on another machine (ZAP would run there, but the scan's addresses are the
    tunnels' ends here: THESIS_ZAP_URL or wapiti on this machine scan through them)."""
    if not settings.zap_image or engine_reach(settings.docker_host) != "here":
        return None
    try:
        client = connect(settings)
    except DockerUnavailableError:
        return None
    try:
        found = image_exists(client, settings.zap_image)
    except ThesisError:  # the engine went away or refused the lookup: no ZAP from it
        found = False
    finally:
        client.close()
    return settings.zap_image if found else None


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@asynccontextmanager
async def zap_container(settings: Settings, image: str, log: Log) -> AsyncIterator[tuple[str, str]]:
    """Start ZAP from `image`; yield (its address, its API key) once it answers."""
    port, key = _free_port(), secrets.token_hex(16)
    name = f"thesis-zap-{uuid.uuid4().hex[:10]}"
    command = [
        "zap.sh", "-daemon", "-host", "127.0.0.1", "-port", str(port),
        "-config", f"api.key={key}",
        "-config", "api.addrs.addr.name=127.0.0.1", "-config", "api.addrs.addr.regex=false",
    ]  # fmt: skip
    client = await asyncio.to_thread(connect, settings)
    log(f"-- ZAP: starting {image} as container {name} on 127.0.0.1:{port}")
    try:
        with docker_errors(f"Starting ZAP from {image}"):
            container = await asyncio.to_thread(
                client.containers.run,
                image,
                command,
                name=name,
                detach=True,
                network_mode="host",
                labels={LABEL: "zap"},
                init=True,
            )
    except BaseException:
        client.close()
        raise
    address = f"http://127.0.0.1:{port}"
    try:
        await _wait_until_answering(container, address, key, log)
        yield address, key
    finally:
        await asyncio.shield(asyncio.to_thread(_remove, container, log))
        client.close()


async def _wait_until_answering(container: Any, address: str, key: str, log: Log) -> None:

    probe = ZapClient(address, key, timeout=5.0)
    deadline = time.monotonic() + STARTUP_SECONDS
    while True:
        await asyncio.to_thread(container.reload)
        if container.status in ("exited", "dead"):
            last = _last_line(container).replace(key, "***")
            raise ScanError(f"ZAP's container stopped before it answered: {last}")
        try:
            version = await asyncio.to_thread(lambda: probe.core.version)
        except RemoteServiceError:
            if time.monotonic() > deadline:
                last = _last_line(container).replace(key, "***")
                raise ScanError(
                    f"ZAP's container did not answer within {STARTUP_SECONDS:g}s: {last}"
                ) from None
            await asyncio.sleep(0.5)
            continue
        log(f"-- ZAP {version} is up")
        return


def _last_line(container: Any) -> str:
    try:
        text = container.logs(tail=5).decode("utf-8", "replace")
    except (docker.errors.DockerException, requests.exceptions.RequestException):
        return "its log could not be read"
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    return lines[-1][:200] if lines else "it printed nothing"


def _remove(container: Any, log: Log) -> None:
    try:
        container.remove(force=True)
        log(f"-- ZAP: container {container.name} removed")
    except docker.errors.NotFound:
        pass
    except (docker.errors.DockerException, requests.exceptions.RequestException) as exc:
        log(f"!! ZAP: could not remove container {container.name}: {exc}")
