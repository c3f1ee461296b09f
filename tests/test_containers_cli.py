"""`thesis containers …` in real processes against the real engine."""

from __future__ import annotations

import os
import signal
import subprocess
import sys

import httpx
import pytest
from conftest import (
    EngineProxy,
    assert_one_line_error,
    free_port,
    remove_docker_objects,
    thesis,
    unique_slug,
    write_container_app,
)
from sqlalchemy import select

from tui.config import load_settings
from tui.db import open_database
from tui.db.tables import generated_applications


@pytest.fixture
def cli_app(tmp_path, docker_client, busybox_image):
    slug = unique_slug()
    root = tmp_path / "apps"
    write_container_app(root, slug)
    assert thesis("apps", "scan", str(root)).returncode == 0
    yield slug
    remove_docker_objects(docker_client, slug)


@pytest.mark.docker
def test_start_status_logs_stop_remove_from_the_command_line(cli_app) -> None:
    slug = cli_app
    started = thesis("containers", "start", slug, "1")
    assert started.returncode == 0, started.stderr
    assert "Step 1/" in started.stderr  # the build streams to stderr
    first, *checks = started.stdout.splitlines()
    assert first.startswith(f"{slug} app 1 is running: backend http://127.0.0.1:")
    backend_port = int(first.split("http://127.0.0.1:")[1].split("/")[0])
    assert any(line.startswith("backend answered 200 at") for line in checks)
    assert httpx.get(f"http://127.0.0.1:{backend_port}/", timeout=5).status_code == 200

    status = thesis("containers", "status", slug, "1")
    assert status.returncode == 0, status.stderr
    assert status.stdout.splitlines()[0] == f"{slug} app 1: running"
    assert f"127.0.0.1:{backend_port} -> 5000" in status.stdout
    assert thesis("containers", "status").stdout.startswith("Checked 1 apps against 2 containers")

    logs = thesis("containers", "logs", slug, "1")
    assert "backend | backend starting" in logs.stdout.splitlines()

    stopped = thesis("containers", "stop", slug, "1")
    assert stopped.stdout.strip() == f"Stopped 2 containers of {slug} app 1"
    assert f"{slug} app 1: stopped" in thesis("containers", "status", slug, "1").stdout
    removed = thesis("containers", "remove", slug, "1", "--images")
    assert removed.stdout.strip() == f"Removed 2 containers of {slug} app 1 and its images"


@pytest.mark.docker
def test_logs_follow_prints_new_lines_until_interrupted(cli_app) -> None:
    slug = cli_app
    assert thesis("containers", "start", slug, "1", "--no-check").returncode == 0
    follower = subprocess.Popen(
        [sys.executable, "-m", "tui", "containers", "logs", slug, "1", "-f"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=os.environ.copy(),
        # A shell without job control starts background jobs with SIGINT ignored, and a
        # child inherits that: give it ctrl+c as a terminal would, however pytest started.
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )
    try:
        assert follower.stdout.readline().strip() == "backend | backend starting"
        port = thesis("containers", "status", slug, "1").stdout.split("127.0.0.1:")[1].split()[0]
        httpx.get(f"http://127.0.0.1:{port}/", timeout=5)
        assert "response:200" in follower.stdout.readline()  # a line that came after we began
        follower.send_signal(signal.SIGINT)
        assert follower.wait(timeout=10) == 0
        assert "Traceback" not in follower.stderr.read()
    finally:
        follower.kill()


@pytest.mark.docker
def test_a_start_that_fails_ends_with_one_line_naming_the_service(cli_app, tmp_path) -> None:
    app_dir = tmp_path / "apps" / cli_app / "app1"
    (app_dir / "docker-compose.yml").write_text("services:\n  backend: {build: ./nowhere}\n")
    result = thesis("containers", "start", cli_app, "1")
    assert_one_line_error(result, "service backend: build folder ./nowhere does not exist")


def test_without_a_docker_engine_each_command_is_one_line(tmp_path) -> None:
    root = tmp_path / "apps"
    write_container_app(root, "openai_gpt-4o")
    thesis("apps", "scan", str(root))
    env = {"THESIS_DOCKER_HOST": "unix:///nonexistent/docker.sock"}
    for command in (["start", "openai_gpt-4o", "1"], ["status"], ["logs", "openai_gpt-4o", "1"]):
        result = thesis("containers", *command, **env)
        assert_one_line_error(result, "Docker is unavailable: no engine answers at unix://")
    assert_one_line_error(
        thesis("containers", "stop", "openai_gpt-4o", "9"), "No app openai_gpt-4o app 9"
    )


@pytest.mark.parametrize(
    "host",
    ["tcp://[::1", "tcp://host:notaport", "tcp://host:99999", "ssh://", "ssh://[::1",
     "ssh://a@b:notaport", "ssh://" + "x" * 300, "ssh://ü@ö:22", "tcp://:0"],
)  # fmt: skip
def test_a_docker_host_that_is_no_address_is_one_line(host, tmp_path) -> None:
    for command in (["status"], ["start", "openai_gpt-4o", "1"]):
        result = thesis("containers", *command, THESIS_DOCKER_HOST=host)
        if command == ["status"]:
            assert_one_line_error(result, "Docker is unavailable: no engine answers at ")
        else:  # no such app: said before any engine is asked
            assert_one_line_error(result, "No app openai_gpt-4o app 1")


@pytest.mark.docker
def test_logs_follow_says_so_when_the_engine_goes_away(cli_app, tmp_path) -> None:
    assert thesis("containers", "start", cli_app, "1", "--no-check").returncode == 0
    proxy = EngineProxy.to_the_engine(tmp_path / "engine.sock")
    follower = subprocess.Popen(
        [sys.executable, "-m", "tui", "containers", "logs", cli_app, "1", "-f"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "THESIS_DOCKER_HOST": f"unix://{tmp_path / 'engine.sock'}"},
    )
    try:
        assert follower.stdout.readline().strip() == "backend | backend starting"
        proxy.cut()
        assert follower.wait(timeout=30) == 1
        stderr = follower.stderr.read()
        assert stderr.strip().splitlines()[-1].startswith("thesis: Docker is unavailable")
        assert "Traceback" not in stderr
    finally:
        follower.kill()
        proxy.cut()


@pytest.mark.docker
def test_an_engine_that_dies_mid_build_is_one_line(cli_app, tmp_path) -> None:
    backend = tmp_path / "apps" / cli_app / "app1" / "backend"
    dockerfile = (backend / "Dockerfile").read_text()
    (backend / "Dockerfile").write_text(
        dockerfile.replace("COPY", "RUN echo slow-step && sleep 20\nCOPY", 1)
    )
    proxy = EngineProxy.to_the_engine(tmp_path / "engine.sock")
    builder = subprocess.Popen(
        [sys.executable, "-m", "tui", "containers", "build", cli_app, "1"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "THESIS_DOCKER_HOST": f"unix://{tmp_path / 'engine.sock'}"},
    )
    try:
        for line in builder.stderr:
            if "slow-step" in line:
                break
        proxy.cut()
        assert builder.wait(timeout=30) == 1
        rest = builder.stderr.read()
        assert rest.strip().splitlines()[-1] == (
            "thesis: Docker is unavailable: the engine closed the connection during build backend"
        )
        assert "Traceback" not in rest
    finally:
        builder.kill()
        proxy.cut()


@pytest.mark.docker
def test_an_ssh_engine_runs_the_app_and_its_ports_are_reached_through_a_tunnel(
    cli_app, ssh_engine
) -> None:
    """THESIS_DOCKER_HOST=ssh://… (a real sshd of the test's, in front of this machine's
    engine): the app is built and started over SSH, the engine it runs on is recorded, and
    its health check and a load test reach it through a tunnel's end on this machine's
    loopback, not at its published port."""
    slug = cli_app
    host = ssh_engine["THESIS_DOCKER_HOST"]
    started = thesis("containers", "start", slug, "1", **ssh_engine)
    assert started.returncode == 0, started.stderr
    published = int(started.stdout.splitlines()[0].split("http://127.0.0.1:")[1].split("/")[0])
    port = host.rsplit(":", 1)[1]
    assert started.stdout.splitlines()[1] == (
        "(those addresses are on the engine's machine; to open them here: ssh -N "
        f"-L {published}:127.0.0.1:{published} -L {published_frontend(started)}:127.0.0.1:"
        f"{published_frontend(started)} -p {port} {host.removeprefix('ssh://').rsplit(':', 1)[0]})"
    )
    probe = next(line for line in started.stderr.splitlines() if "health: probing backend" in line)
    assert f"(port {published} of {host}, tunnelled)" in probe
    assert f"127.0.0.1:{published}/" not in probe  # the tunnel's own end
    assert any(line.startswith("backend answered 200 at") for line in started.stdout.splitlines())
    assert thesis("containers", "status", slug, "1", **ssh_engine).stdout.startswith(
        f"{slug} app 1: running"
    )
    db = open_database(load_settings().resolved_database_url)
    try:
        with db.read() as connection:
            assert connection.scalar(select(generated_applications.c.docker_host)) == host
    finally:
        db.dispose()
    loaded = thesis("analyze", slug, "1", "--type", "performance", "--users", "2",
                    "--duration", "2", **ssh_engine)  # fmt: skip
    assert loaded.returncode == 0, loaded.stderr
    target = next(line for line in loaded.stderr.splitlines() if "-- locust: " in line)
    assert " on http://127.0.0.1:" in target and f":{published} " not in target
    assert "errors 0.0%" in loaded.stderr
    stopped = thesis("containers", "stop", slug, "1", **ssh_engine)
    assert stopped.stdout.strip() == f"Stopped 2 containers of {slug} app 1"


def published_frontend(started) -> int:
    return int(started.stdout.splitlines()[0].rsplit("http://127.0.0.1:", 1)[1].split("/")[0])


@pytest.mark.docker
def test_an_ssh_engine_out_of_reach_or_unknown_is_one_line(cli_app, ssh_engine, tmp_path) -> None:
    closed = {**ssh_engine, "THESIS_DOCKER_HOST": f"ssh://root@127.0.0.1:{free_port()}"}
    result = thesis("containers", "start", cli_app, "1", **closed)
    assert_one_line_error(result, "Docker is unavailable: no engine answers at ssh://")
    stranger = {**ssh_engine, "HOME": str(tmp_path)}  # no known_hosts: its host key unknown
    result = thesis("containers", "status", **stranger)
    assert_one_line_error(result, "Docker is unavailable: no engine answers at ssh://")
    assert "connect once with ssh to accept its host key" in result.stderr
