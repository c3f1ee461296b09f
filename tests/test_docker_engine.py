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
