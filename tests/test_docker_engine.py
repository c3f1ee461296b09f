"""The Docker engine our container features stand on: an image built `FROM scratch` with
the static busybox, run through the docker SDK, answers HTTP on a loopback port."""

from __future__ import annotations

import time

import httpx
import pytest
from conftest import BUSYBOX_LABEL, SESSION_ID, free_port

pytestmark = pytest.mark.docker


def test_busybox_image_serves_http_on_a_loopback_port(docker_client, busybox_image, tmp_path):
    port = free_port()
    container = docker_client.containers.run(
        busybox_image,
        [
            "sh",
            "-c",
            "mkdir -p /www && echo hello-from-busybox > /www/index.html"
            " && httpd -f -p 8080 -h /www",
        ],
        detach=True,
        init=True,  # busybox httpd as PID 1 ignores SIGTERM; tini forwards it
        ports={"8080/tcp": ("127.0.0.1", port)},
        labels={BUSYBOX_LABEL: SESSION_ID},
    )
    try:
        deadline = time.monotonic() + 20
        body = None
        while time.monotonic() < deadline:
            try:
                body = httpx.get(f"http://127.0.0.1:{port}/", timeout=1).text
                break
            except httpx.TransportError:
                container.reload()
                assert container.status in ("created", "running"), container.logs().decode()
                time.sleep(0.1)
        assert body == "hello-from-busybox\n"
        started = time.monotonic()
        container.stop(timeout=10)
        assert time.monotonic() - started < 5
        container.reload()
        assert container.status == "exited"
    finally:
        container.remove(force=True)


@pytest.mark.parametrize(
    ("host", "reach"),
    [
        ("", "here"),
        ("unix:///var/run/docker.sock", "here"),
        ("tcp://127.0.0.1:2375", "here"),
        ("tcp://localhost:2375", "here"),
        ("tcp://[::1]:2375", "here"),
        ("tcp://0.0.0.0:2375", "here"),
        ("ssh://lab@gpu-2", "ssh"),
        ("ssh://lab@127.0.0.1:22", "ssh"),
        ("tcp://192.0.2.7:2375", "away"),
        ("tcp://gpu-2.lab:2376", "away"),
        ("tcp://[not an address", "away"),
    ],
)
def test_how_an_apps_ports_are_reached_follows_the_engines_address(host, reach) -> None:
    from tui.services.docker_engine import engine_reach

    assert engine_reach(host) == reach


def test_an_app_of_a_tcp_engine_on_another_machine_is_out_of_reach_in_one_line(
    sqlite_db, monkeypatch
) -> None:
    """Its ports are on that machine's loopback: a task that needs them says so (nothing is
    asked of that engine)."""
    from tui.config import load_settings
    from tui.errors import ContainerError
    from tui.services.containers import ContainerService

    monkeypatch.setenv("THESIS_DOCKER_HOST", "tcp://192.0.2.7:2375")
    service = ContainerService(sqlite_db, load_settings())
    with pytest.raises(ContainerError, match=r"^The app's port 5003 is published on the loop"):
        service.local_port(5003)
    monkeypatch.setenv("THESIS_DOCKER_HOST", "tcp://127.0.0.1:2375")
    assert ContainerService(sqlite_db, load_settings()).local_port(5003) == 5003


def test_an_app_on_another_machines_engine_says_how_to_open_it_here() -> None:
    from tui.services.docker_engine import reach_hint

    assert reach_hint("", [5003, 8003]) is None
    assert reach_hint("ssh://lab@gpu-2:2222", [5003, 8003]) == (
        "(those addresses are on the engine's machine; to open them here: "
        "ssh -N -L 5003:127.0.0.1:5003 -L 8003:127.0.0.1:8003 -p 2222 lab@gpu-2)"
    )
    assert reach_hint("ssh://gpu-2", [5003]).endswith("ssh -N -L 5003:127.0.0.1:5003 gpu-2)")
    assert reach_hint("tcp://192.0.2.7:2375", [5003]) == (
        "(those addresses are on the engine's machine: open them there)"
    )
