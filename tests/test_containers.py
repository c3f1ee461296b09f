"""Running generated apps in the real Docker engine: build, start, answer, sync, logs, stop,
remove — and each error a user will meet."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest
from conftest import (
    BACKEND_DOCKERFILE,
    BUSYBOX_IMAGE,
    remove_docker_objects,
    unique_slug,
    write_container_app,
)
from sqlalchemy import select

from tui.config import PortRange, load_settings
from tui.db import Database
from tui.db.locks import try_lock
from tui.db.models import AppStatus, AuditLog, ContainerizedTest, GeneratedApplication
from tui.errors import ComposeError, ContainerError, DockerUnavailableError
from tui.services.apps import get_app_detail, list_applications
from tui.services.containers import KEPT_CAPABILITIES, ContainerService
from tui.services.health import check_health
from tui.services.instance import instance_id
from tui.services.ports import allocate_ports, release_ports
from tui.services.scanner import scan_apps

pytestmark = pytest.mark.docker

SHIFTED_RANGES = (PortRange(6101, 6199), PortRange(9101, 9199))


@dataclass
class Scene:
    """One generated app on disk and in the database, and the service that runs it."""

    db: Database
    service: ContainerService
    slug: str
    root: Path
    client: object
    lines: list[str] = field(default_factory=list)

    @property
    def app_dir(self) -> Path:
        return self.root / self.slug / "app1"

    def status(self) -> AppStatus:
        with self.db.session() as s:
            return s.scalars(
                select(GeneratedApplication.status).where(
                    GeneratedApplication.model_slug == self.slug,
                    GeneratedApplication.app_number == 1,
                )
            ).one()

    def containers(self) -> list:
        return self.client.containers.list(all=True, filters={"label": f"thesis.model={self.slug}"})

    def audit(self) -> list[tuple[str, str]]:
        with self.db.session() as s:
            rows = s.scalars(select(AuditLog).order_by(AuditLog.id))
            return [(row.action, str(row.outcome)) for row in rows]

    def start(self):
        return self.service.start(self.slug, 1, self.lines.append)


@pytest.fixture
def scene(tmp_path, docker_client, busybox_image, sqlite_db) -> Iterator[Scene]:
    slug = unique_slug()
    root = tmp_path / "apps"
    write_container_app(root, slug)
    scan_apps(sqlite_db, root)
    service = ContainerService(sqlite_db, load_settings())
    yield Scene(sqlite_db, service, slug, root, docker_client)
    service.close()
    remove_docker_objects(docker_client, slug)


def get(port: int) -> httpx.Response:
    return httpx.get(f"http://127.0.0.1:{port}/", timeout=5)


def test_start_builds_and_serves_each_service_on_its_allocated_loopback_port(scene) -> None:
    target = scene.start()
    assert scene.status() == AppStatus.RUNNING
    assert get(target.backend_port).text == f"backend of {scene.slug} app 1\n"
    assert get(target.frontend_port).text == f"frontend of {scene.slug} app 1\n"
    # The build output streamed to the sink, step by step, and into actions.log.
    assert any(line.startswith("Step 1/") for line in scene.lines)
    log_file = load_settings().logs_dir / scene.slug / "app1" / "actions.log"
    assert "== start done" in log_file.read_text()

    by_service = {c.labels["thesis.service"]: c for c in scene.containers()}
    assert set(by_service) == {"backend", "frontend"}
    backend = by_service["backend"]
    assert backend.name == f"thesis-{scene.slug}-app1-backend"
    assert backend.labels["thesis.model"] == scene.slug and backend.labels["thesis.app"] == "1"
    host = backend.attrs["HostConfig"]
    assert host["PortBindings"] == {
        "5000/tcp": [{"HostIp": "127.0.0.1", "HostPort": str(target.backend_port)}]
    }
    assert host["NanoCpus"] == 1_000_000_000 and host["Memory"] == 512 * 2**20
    assert host["RestartPolicy"] == {"Name": "on-failure", "MaximumRetryCount": 3}
    assert "no-new-privileges:true" in host["SecurityOpt"] and host["Init"] is True
    # Capabilities dropped but for the few a web app needs: the frontend still binds port 80.
    assert [cap.removeprefix("CAP_") for cap in host["CapDrop"]] == ["ALL"]
    assert {cap.removeprefix("CAP_") for cap in host["CapAdd"]} == set(KEPT_CAPABILITIES)
    assert "GREETING=hello" in backend.attrs["Config"]["Env"]
    assert list(backend.attrs["NetworkSettings"]["Networks"]) == [f"thesis-{scene.slug}-app1"]
    assert scene.audit() == [("container.start", "success")]


def test_a_second_start_reuses_the_containers_and_a_port_change_recreates_them(scene) -> None:
    scene.start()
    first = {c.name: c.id for c in scene.containers()}
    scene.service.stop(scene.slug, 1)
    scene.start()
    assert {c.name: c.id for c in scene.containers()} == first

    scene.service.stop(scene.slug, 1)
    release_ports(scene.db, scene.slug, 1)
    allocate_ports(scene.db, scene.slug, 1, *SHIFTED_RANGES)
    target = scene.start()
    recreated = {c.name: c.id for c in scene.containers()}
    assert recreated.keys() == first.keys() and recreated != first
    assert target.backend_port in SHIFTED_RANGES[0]
    assert get(target.backend_port).status_code == 200


def test_health_check_records_a_containerized_test_per_service(scene) -> None:
    target = scene.start()
    results = check_health(scene.service, scene.slug, 1)
    assert {(r.service, r.healthy, r.http_status) for r in results} == {
        ("backend", True, 200),
        ("frontend", True, 200),
    }
    with scene.db.session() as s:
        rows = {row.service_endpoint: row for row in s.scalars(select(ContainerizedTest))}
    backend = rows[f"http://127.0.0.1:{target.backend_port}/"]
    assert backend.status == "completed" and backend.test_type == "health"
    assert backend.result_data["http_status"] == 200 and backend.execution_duration >= 0
    assert backend.completed_at >= backend.started_at


def test_health_check_says_plainly_when_the_app_listens_on_another_port(scene) -> None:
    (scene.app_dir / "docker-compose.yml").write_text(
        "services:\n  backend:\n    build: ./backend\n    ports: ['7000:7000']\n"
    )
    scene.start()
    [result] = check_health(scene.service, scene.slug, 1, timeout=1.5)
    assert not result.healthy
    assert "no answer at http://127.0.0.1:" in result.error
    assert "listening on container port 7000" in result.error
    with scene.db.session() as s:
        row = s.scalars(select(ContainerizedTest)).one()
    assert row.status == "failed" and row.error_message == result.error


def test_status_sync_reads_every_app_from_docker_in_one_pass(scene) -> None:
    other = scene.root / "other"
    write_container_app(other, scene.slug, 2)
    scan_apps(scene.db, other)
    scene.start()
    report = scene.service.sync_status()
    assert report.checked == 2 and report.changed == 0
    with scene.db.session() as s:
        checked = list(s.scalars(select(GeneratedApplication.last_status_check)))
    assert all(value is not None for value in checked)

    for container in scene.containers():  # stopped behind our back
        container.stop(timeout=5)
    assert scene.service.sync_status().changed == 1
    assert scene.status() == AppStatus.STOPPED
    for container in scene.containers():
        container.remove()
    scene.service.sync_status()
    assert scene.status() == AppStatus.NOT_CREATED


def test_logs_stream_per_service_and_are_saved_without_duplicates(scene) -> None:
    target = scene.start()
    get(target.backend_port)
    follower = scene.service.follow_logs(scene.slug, 1, follow=False)
    lines = list(follower.lines())
    assert "backend | backend starting" in lines
    assert any(line.startswith("backend | ") and "response:200" in line for line in lines)
    saved = load_settings().logs_dir / scene.slug / "app1" / "backend.log"
    first = saved.read_text()
    assert first.count("backend starting") == 1
    again = list(scene.service.follow_logs(scene.slug, 1, follow=False).lines())
    assert "backend | backend starting" in again  # shown again from the saved history …
    assert saved.read_text() == first  # … but not written twice


def test_following_logs_shows_new_lines_until_closed(scene) -> None:
    target = scene.start()
    follower = scene.service.follow_logs(scene.slug, 1, follow=True)
    seen = []
    for line in follower.lines():
        seen.append(line)
        if line == "backend | backend starting":
            get(target.backend_port)  # produces a new line while we follow
        if "response:200" in line:
            follower.close()
    assert seen.index("backend | backend starting") < len(seen) - 1


def test_stop_then_remove_with_images_leaves_nothing_behind(scene) -> None:
    target = scene.start()
    assert scene.service.stop(scene.slug, 1) == 2
    assert scene.status() == AppStatus.STOPPED
    with pytest.raises(httpx.TransportError):
        get(target.backend_port)
    assert scene.service.remove(scene.slug, 1, images=True) == 2
    assert scene.status() == AppStatus.NOT_CREATED
    label = {"label": f"thesis.model={scene.slug}"}
    assert scene.containers() == []
    assert scene.client.networks.list(filters=label) == []
    assert scene.client.images.list(filters=label) == []
    assert [a for a, _ in scene.audit()] == [
        "container.start",
        "container.stop",
        "container.remove",
    ]


def test_a_failing_build_marks_the_app_failed_and_the_log_shows_why(scene) -> None:
    (scene.app_dir / "backend" / "Dockerfile").write_text(
        f"FROM {BUSYBOX_IMAGE}\nRUN echo compiling && exit 3\n"
    )
    with pytest.raises(ContainerError) as raised:
        scene.service.build(scene.slug, 1, scene.lines.append)
    assert "build of backend failed" in raised.value.msg
    assert "returned a non-zero code: 3" in raised.value.msg
    assert "compiling" in scene.lines
    assert scene.status() == AppStatus.FAILED
    assert scene.audit() == [("container.build", "failure")]


def test_a_base_image_missing_offline_says_so_and_the_reason_stays_on_the_app(scene) -> None:
    (scene.app_dir / "backend" / "Dockerfile").write_text(
        "FROM thesis-test-absent/python AS base\nFROM base\nCMD ['true']\n"
    )
    with pytest.raises(ContainerError) as raised:
        scene.service.build(scene.slug, 1, scene.lines.append)
    assert raised.value.msg.startswith(
        "build of backend failed: its base image thesis-test-absent/python:latest is not on "
        "this machine and could not be pulled ("
    )
    assert "docker load" in raised.value.msg
    assert scene.status() == AppStatus.FAILED
    detail = get_app_detail(scene.db, app_id(scene))
    assert detail.status_detail == raised.value.msg
    (row,) = list_applications(scene.db).rows
    assert row.status_detail == raised.value.msg


def test_networks_of_other_apps_or_duplicates_left_by_older_versions_do_not_stop_a_start(
    scene,
) -> None:
    name = f"thesis-{scene.slug}-app1"
    labels = {"thesis.model": scene.slug}
    scene.client.networks.create(f"{name}0", labels=labels)  # app10: a longer name
    for _ in range(2):  # what two racing starts of an older version left
        scene.client.networks.create(name, labels=labels, check_duplicate=False)
    target = scene.start()
    assert get(target.backend_port).status_code == 200
    left = [n.name for n in scene.client.networks.list(names=[name]) if n.name == name]
    assert left == [name]


def test_only_this_instances_containers_are_counted(scene, busybox_image) -> None:
    scene.client.containers.create(
        busybox_image,
        ["sleep", "1"],
        labels={"thesis.model": scene.slug, "thesis.app": "7", "thesis.instance": "another-db"},
    )
    scene.start()
    report = scene.service.sync_status()
    assert report.containers == 2  # this app's two; not the other instance's


def test_another_process_working_on_the_app_is_said_plainly(scene) -> None:
    with try_lock(scene.db, f"app:{instance_id(scene.db)}:{app_id(scene)}") as mine:
        assert mine
        with pytest.raises(ContainerError, match="another thesis process is working on it"):
            scene.start()
    assert scene.containers() == []


def app_id(scene: Scene) -> int:
    with scene.db.session() as s:
        return s.scalars(select(GeneratedApplication.id)).one()


def test_a_host_port_already_taken_stops_the_start_before_anything_is_made(scene) -> None:
    ports = allocate_ports(scene.db, scene.slug, 1, *SHIFTED_RANGES)
    with socket.socket() as squatter:
        squatter.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # earlier tests' TIME_WAIT
        squatter.bind(("127.0.0.1", ports.backend_port))
        squatter.listen()
        with pytest.raises(ContainerError) as raised:
            scene.start()
    assert f"host port {ports.backend_port} (backend of service backend)" in raised.value.msg
    assert f"thesis ports release {scene.slug} 1" in raised.value.msg
    assert scene.containers() == []
    assert scene.status() == AppStatus.FAILED


def test_a_malformed_compose_file_is_refused_with_nothing_changed(scene) -> None:
    (scene.app_dir / "docker-compose.yml").write_text("services:\n  backend: [unclosed\n")
    with pytest.raises(ComposeError, match=r"docker-compose\.yml is malformed"):
        scene.start()
    assert scene.status() == AppStatus.NOT_CREATED
    assert scene.containers() == []
    assert scene.audit() == [("container.start", "failure")]


def test_an_image_only_service_that_cannot_be_pulled_is_named(scene) -> None:
    (scene.app_dir / "docker-compose.yml").write_text(
        "services:\n  backend:\n    build: ./backend\n    ports: ['5000:5000']\n"
        "    depends_on: [db]\n  db:\n    image: thesis-test-missing/postgres:15\n"
    )
    with pytest.raises(ContainerError) as raised:
        scene.start()
    assert raised.value.msg.startswith(
        "service db uses image thesis-test-missing/postgres:15, which is not on this machine "
        "and cannot be pulled"
    )
    assert scene.containers() == []
    assert scene.status() == AppStatus.FAILED


def test_a_container_that_exits_at_once_fails_the_start_and_is_not_left_running(scene) -> None:
    (scene.app_dir / "backend" / "Dockerfile").write_text(
        BACKEND_DOCKERFILE.replace(
            'CMD ["sh", "-c", "echo backend starting;', 'CMD ["sh", "-c", "echo boom; exit 3;'
        )
    )
    with pytest.raises(ContainerError) as raised:
        scene.start()
    assert "service backend exited at once with code 3 (boom)" in raised.value.msg
    assert scene.status() == AppStatus.FAILED
    assert {c.status for c in scene.containers()} <= {"exited", "created"}
    # The failure survives a status sync: the stopped containers do not hide it.
    scene.service.sync_status()
    assert scene.status() == AppStatus.FAILED


def test_without_a_docker_engine_actions_fail_with_one_clear_line(scene, monkeypatch) -> None:
    monkeypatch.setenv("THESIS_DOCKER_HOST", "unix:///nonexistent/docker.sock")
    service = ContainerService(scene.db, load_settings())
    with pytest.raises(DockerUnavailableError) as raised:
        service.start(scene.slug, 1)
    assert raised.value.msg.startswith(
        "Docker is unavailable: no engine answers at unix:///nonexistent/docker.sock"
    )
    assert "\n" not in raised.value.msg
    assert scene.status() == AppStatus.NOT_CREATED
    with pytest.raises(DockerUnavailableError):
        service.sync_status()


def test_two_actions_on_one_app_at_once_are_refused(scene) -> None:
    import threading

    entered, release = threading.Event(), threading.Event()

    def slow_sink(line: str) -> None:
        entered.set()
        release.wait(30)

    worker = threading.Thread(target=scene.service.build, args=(scene.slug, 1, slow_sink))
    worker.start()
    try:
        assert entered.wait(30)
        with pytest.raises(ContainerError, match="another action is still running on it"):
            scene.service.stop(scene.slug, 1)
    finally:
        release.set()
        worker.join(60)
