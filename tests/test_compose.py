"""Reading a generated app's compose file: what we will build and run, and what we refuse."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tui.errors import ComposeError
from tui.services.compose import load_compose


def write_app(root: Path, compose: str, files: dict[str, str] | None = None) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    (root / "docker-compose.yml").write_text(compose)
    for name, content in {
        "backend/Dockerfile": "FROM scratch\n",
        "frontend/Dockerfile": "FROM scratch\n",
        **(files or {}),
    }.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(content)
    return root


def test_services_come_in_dependency_order_with_roles_and_container_ports(tmp_path) -> None:
    app = write_app(
        tmp_path / "app1",
        """
name: generated-name-key-docker-compose-v1-rejects
services:
  frontend:
    build: {context: ./frontend}
    ports: ["127.0.0.1:3000:80/tcp"]
    depends_on: {backend: {condition: service_started}}
  backend:
    build: ./backend
    ports: [{target: 5000, published: 5000}]
    expose: ["5001"]
    depends_on: [db]
  db:
    image: postgres:15
""",
    )
    plan = load_compose(app)
    assert [s.name for s in plan.services] == ["db", "backend", "frontend"]
    backend, frontend = plan.service("backend"), plan.service("frontend")
    assert backend and backend.container_ports == (5000, 5001) and backend.role == "backend"
    assert frontend and frontend.container_port == 80 and frontend.role == "frontend"
    assert plan.services[0].role is None and plan.services[0].image == "postgres:15"
    assert backend.build_context == (app / "backend").resolve()
    assert backend.dockerfile == "Dockerfile"


@pytest.mark.parametrize(
    ("names", "expected"),
    [
        (["api", "web"], {"api": "backend", "web": "frontend"}),
        (["server", "nginx"], {"server": "backend", "nginx": "frontend"}),
        (["app"], {"app": "backend"}),
        (["app", "proxy"], {"app": "backend", "proxy": "frontend"}),
    ],
)
def test_roles_are_guessed_from_service_names(tmp_path, names, expected) -> None:
    services = "".join(
        f"  {n}:\n    image: busybox\n    ports: ['{8000 + i}']\n" for i, n in enumerate(names)
    )
    plan = load_compose(write_app(tmp_path / "app1", f"services:\n{services}"))
    assert {s.name: s.role for s in plan.services} == expected


def test_variables_come_from_the_apps_env_file_never_from_our_environment(
    tmp_path, monkeypatch
) -> None:
    monkeypatch.setenv("OUR_SECRET", "do-not-leak")
    monkeypatch.setenv("PORT", "9999")
    app = write_app(
        tmp_path / "app1",
        """
services:
  backend:
    build: ./backend
    ports: ["${PORT}:${PORT}"]
    environment:
      - LEAK=${OUR_SECRET}
      - MODE=${MODE:-production}
      - LITERAL=$$HOME
    env_file: backend/.env
""",
        {".env": "PORT=5005\n", "backend/.env": "# comment\nexport DB_URL='sqlite:///x.db'\n"},
    )
    plan = load_compose(app)
    backend = plan.services[0]
    assert backend.container_ports == (5005,)
    assert backend.environment == {
        "DB_URL": "sqlite:///x.db",
        "LEAK": "",
        "MODE": "production",
        "LITERAL": "$HOME",
    }
    assert any("OUR_SECRET" in note for note in plan.notes)
    assert "do-not-leak" not in repr(plan)


def test_keys_that_reach_the_host_are_ignored_and_said(tmp_path) -> None:
    app = write_app(
        tmp_path / "app1",
        """
services:
  backend:
    build: ./backend
    privileged: true
    volumes: ["/:/host"]
    network_mode: host
""",
    )
    plan = load_compose(app)
    assert plan.notes == (
        "service backend: ignored network_mode, privileged, volumes (not honoured for safety)",
    )


@pytest.mark.parametrize(
    ("compose", "message"),
    [
        ("services: [unclosed", "docker-compose.yml is malformed"),
        ("version: '3'\n", "defines no services"),
        ("services:\n  backend:\n    build: ../../..\n", "is outside the app's folder"),
        ("services:\n  backend:\n    build: ./missing\n", "build folder ./missing does not exist"),
        (
            "services:\n  backend:\n    build: {context: ./backend, dockerfile: Dockerfile.dev}\n",
            "no Dockerfile at backend/Dockerfile.dev",
        ),
        ("services:\n  backend:\n    environment: {A: b}\n", "needs build: or image:"),
        (
            "services:\n  backend:\n    image: x\n    depends_on: [db]\n",
            "depends on unknown service db",
        ),
        (
            "services:\n  a:\n    image: x\n    depends_on: [b]\n  b:\n    image: x\n"
            "    depends_on: [a]\n",
            "depends_on forms a cycle: a -> b -> a",
        ),
        ("services:\n  backend:\n    image: x\n    ports: ['http']\n", "cannot read the port"),
        (
            "services:\n  backend:\n    image: x\n    env_file: ../../secrets.env\n",
            "is outside the app's folder",
        ),
    ],
)
def test_bad_compose_files_get_one_clear_message(tmp_path, compose, message) -> None:
    with pytest.raises(ComposeError) as raised:
        load_compose(write_app(tmp_path / "app1", compose))
    assert message in raised.value.msg
    assert "\n" not in raised.value.msg


def test_a_symlinked_build_folder_cannot_lead_out_of_the_app(tmp_path) -> None:
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    (outside / "Dockerfile").write_text("FROM scratch\n")
    app = write_app(tmp_path / "app1", "services:\n  backend:\n    build: ./linked\n")
    os.symlink(outside, app / "linked")
    with pytest.raises(ComposeError, match="outside the app's folder"):
        load_compose(app)


def test_an_app_without_a_compose_file_is_refused(tmp_path) -> None:
    (tmp_path / "app1").mkdir()
    with pytest.raises(ComposeError, match=r"has no docker-compose\.yml"):
        load_compose(tmp_path / "app1")
