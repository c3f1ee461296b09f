"""The scaffold every generated app shares: ports from the allocation, credentials from the
template, dependencies a model adds checked."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tui.errors import ValidationError
from tui.services.compose import load_compose
from tui.services.generation.scaffold import WRITTEN, Frame, scaffold_files
from tui.services.generation.templates import load_templates


def frame(backend: int = 5123, frontend: int = 8123) -> Frame:
    return Frame(load_templates().get("todo-list").template, backend, frontend, "acme_m app 2")


def write(root: Path, files: dict[str, str]) -> None:
    for relative, text in files.items():
        path = root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)


def test_the_compose_file_publishes_the_allocated_ports_the_code_listens_on(tmp_path) -> None:
    files = scaffold_files(frame(), secret_key="k" * 64)
    assert not set(WRITTEN) & set(files)  # the model's to write
    write(tmp_path, files | {p: "x" for p in WRITTEN})
    plan = load_compose(tmp_path)  # read as any app's compose file is
    backend, frontend = plan.service("backend"), plan.service("frontend")
    assert backend is not None and frontend is not None
    assert backend.container_port == 5123 and backend.environment["PORT"] == "5123"
    assert frontend.container_port == 8123 and frontend.environment["PORT"] == "8123"
    assert frontend.environment["VITE_API_URL"] == "http://127.0.0.1:5123"
    # The test user of the template, for the app to create and the functional test to use.
    assert backend.environment["ADMIN_USERNAME"] == "admin"
    assert backend.environment["ADMIN_PASSWORD"] == "T0do-admin-pw"
    assert backend.environment["SECRET_KEY"] == "k" * 64
    assert [s.name for s in plan.services] == ["backend", "frontend"]
    assert plan.notes == ()
    assert "PORT" in files["backend/run.py"] and "from app import app" in files["backend/run.py"]
    assert "process.env.PORT" in files["frontend/vite.config.js"]


def test_each_app_gets_a_secret_key_of_its_own() -> None:
    first, second = scaffold_files(frame())[".env"], scaffold_files(frame())[".env"]
    key = next(line for line in first.splitlines() if line.startswith("SECRET_KEY="))
    assert len(key) == len("SECRET_KEY=") + 64 and key not in second


def test_a_models_dependencies_join_the_scaffolds_when_they_are_plain() -> None:
    files = scaffold_files(
        frame(), requirements=["requests==2.32.3", "# a comment", "", "marshmallow>=3,<4"],
        npm={"axios": "^1.7.2", "@tanstack/react-query": "5.51.1"},
    )  # fmt: skip
    lines = files["backend/requirements.txt"].splitlines()
    assert lines[-2:] == ["requests==2.32.3", "marshmallow>=3,<4"] and "flask>=3.0,<4" in lines
    dependencies = json.loads(files["frontend/package.json"])["dependencies"]
    assert dependencies["axios"] == "^1.7.2" and dependencies["react"] == "^18.3.1"


@pytest.mark.parametrize(
    "line",
    ["-e git+https://example.com/x.git", "--index-url http://evil/", "https://x/y.whl",
     "./local", "flask; os_name == 'nt'", "name @ file:///etc"],
)  # fmt: skip
def test_a_requirement_that_is_not_a_name_and_versions_is_refused(line: str) -> None:
    with pytest.raises(ValidationError, match="refused requirement"):
        scaffold_files(frame(), requirements=[line])


@pytest.mark.parametrize(
    ("name", "version"),
    [("axios", "git+https://x/y.git"), ("axios", "file:../x"), ("../x", "1.0.0"),
     ("left-pad", "http://evil/x.tgz"), ("Axios", "1.0.0")],
)  # fmt: skip
def test_an_npm_dependency_that_is_not_from_the_registry_is_refused(name, version) -> None:
    with pytest.raises(ValidationError, match="refused npm"):
        scaffold_files(frame(), npm={name: version})
