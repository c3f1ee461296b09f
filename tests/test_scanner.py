"""Scanning a folder of generated apps: what a user gets in the catalogue."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import assert_one_line_error
from sqlalchemy import select

from tui.db.models import AppStatus, GeneratedApplication, ModelCapability
from tui.errors import ScanError
from tui.services.scanner import scan_apps

COMPOSE = """\
services:
  backend:
    build: ./backend
    ports: ["5000:5000"]
  frontend:
    build: {context: ./frontend}
    ports: ["3000:80"]
"""


def make_app(
    root: Path, slug: str, number: int, *, compose: str | None = COMPOSE, nested: str = ""
) -> Path:
    app = root / slug / nested / f"app{number}"
    (app / "backend").mkdir(parents=True)
    (app / "frontend" / "src").mkdir(parents=True)
    (app / "backend" / "app.py").write_text("from flask import Flask\napp = Flask(__name__)\n")
    (app / "frontend" / "src" / "App.jsx").write_text("export default () => null;\n")
    (app / "frontend" / "node_modules").mkdir()
    (app / "frontend" / "node_modules" / "huge.js").write_text("x\n" * 1000)
    if compose is not None:
        (app / "docker-compose.yml").write_text(compose)
    return app


def apps_by_key(db) -> dict[tuple[str, int], GeneratedApplication]:
    with db.session() as s:
        return {(a.model_slug, a.app_number): a for a in s.scalars(select(GeneratedApplication))}


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    root = tmp_path / "apps"
    make_app(root, "openai_gpt-4o", 1)
    make_app(root, "openai_gpt-4o", 2, compose=None)
    make_app(root, "anthropic_claude-3.5-sonnet", 3, nested="flask_apps")
    return root


def test_scan_registers_every_app_with_its_metadata(db, tree) -> None:
    report = scan_apps(db, tree)
    assert (report.found, report.added, report.models_created) == (3, 3, 2)
    apps = apps_by_key(db)
    first = apps[("openai_gpt-4o", 1)]
    assert first.status == AppStatus.NOT_CREATED
    assert first.app_metadata["languages"] == {"javascript": 1, "python": 2}
    assert first.app_metadata["files"] == 3  # node_modules is skipped
    assert first.app_metadata["services"]["frontend"] == {
        "build": "./frontend",
        "image": None,
        "ports": ["3000:80"],
    }
    assert len(first.content_hash) == 64
    assert apps[("openai_gpt-4o", 2)].status == AppStatus.NO_COMPOSE
    assert ("anthropic_claude-3.5-sonnet", 3) in apps
    with db.session() as s:
        model = s.scalars(
            select(ModelCapability).where(ModelCapability.canonical_slug == "openai_gpt-4o")
        ).one()
        assert (model.provider, model.model_name) == ("openai", "gpt-4o")


def test_rescan_is_idempotent_and_notices_changes(db, tree) -> None:
    scan_apps(db, tree)
    before = {key: (app.id, app.content_hash) for key, app in apps_by_key(db).items()}
    again = scan_apps(db, tree)
    assert (again.added, again.updated, again.unchanged) == (0, 0, 3)
    (tree / "openai_gpt-4o" / "app1" / "backend" / "app.py").write_text("print('changed')\n")
    changed = scan_apps(db, tree)
    assert (changed.updated, changed.unchanged) == (1, 2)
    after = apps_by_key(db)
    assert after[("openai_gpt-4o", 1)].id == before[("openai_gpt-4o", 1)][0]
    assert after[("openai_gpt-4o", 1)].content_hash != before[("openai_gpt-4o", 1)][1]


def test_a_compose_file_added_later_turns_no_compose_into_not_created(db, tree) -> None:
    scan_apps(db, tree)
    (tree / "openai_gpt-4o" / "app2" / "docker-compose.yml").write_text(COMPOSE)
    scan_apps(db, tree)
    assert apps_by_key(db)[("openai_gpt-4o", 2)].status == AppStatus.NOT_CREATED


def test_a_vanished_folder_is_marked_missing_and_cleared_when_back(db, tree) -> None:
    scan_apps(db, tree)
    moved = tree.parent / "aside"
    (tree / "openai_gpt-4o" / "app1").rename(moved)
    report = scan_apps(db, tree)
    assert report.missing == 1
    assert apps_by_key(db)[("openai_gpt-4o", 1)].missing_since is not None
    moved.rename(tree / "openai_gpt-4o" / "app1")
    scan_apps(db, tree)
    assert apps_by_key(db)[("openai_gpt-4o", 1)].missing_since is None


def test_folders_that_do_not_parse_are_reported_and_skipped(db, tree) -> None:
    for name in ("app0", "app31", "appX", "app01"):
        (tree / "openai_gpt-4o" / name).mkdir()
    (tree / "bad..slug" / "app1").mkdir(parents=True)
    (tree / "stray.txt").write_text("")
    report = scan_apps(db, tree)
    reasons = {Path(path).name: reason for path, reason in report.skipped}
    assert set(reasons) == {"app0", "app31", "appX", "app01", "bad..slug", "stray.txt"}
    assert report.found == 3


def test_a_malformed_compose_file_is_recorded_not_fatal(db, tree) -> None:
    (tree / "openai_gpt-4o" / "app1" / "docker-compose.yml").write_text("services: [oops\n")
    scan_apps(db, tree)
    metadata = apps_by_key(db)[("openai_gpt-4o", 1)].app_metadata
    assert metadata["error"].startswith("malformed compose file")


def test_symlinks_out_of_the_tree_are_not_followed(db, tree, tmp_path) -> None:
    secret = tmp_path / "outside"
    secret.mkdir()
    (secret / "secret.py").write_text("KEY = 1\n" * 50)
    os.symlink(secret, tree / "openai_gpt-4o" / "app1" / "backend" / "linked")
    scan_apps(db, tree)
    assert apps_by_key(db)[("openai_gpt-4o", 1)].app_metadata["files"] == 3


def test_a_missing_root_is_a_clear_error(sqlite_db, tmp_path) -> None:
    with pytest.raises(ScanError, match="not a folder"):
        scan_apps(sqlite_db, tmp_path / "nowhere")


def test_cli_scans_and_lists(sqlite_url, tree, tmp_path) -> None:
    def thesis(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "tui", "--database-url", sqlite_url, *args],
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )

    (tree / "openai_gpt-4o" / "app0").mkdir()
    scanned = thesis("apps", "scan", str(tree))
    assert scanned.returncode == 0, scanned.stderr
    assert scanned.stdout.startswith("Scanned 3 apps: 3 added")
    assert "app0: not app1" in scanned.stderr
    listed = json.loads(thesis("apps", "list", "--json").stdout)
    assert [(a["model_slug"], a["app_number"], a["status"]) for a in listed] == [
        ("anthropic_claude-3.5-sonnet", 3, "not_created"),
        ("openai_gpt-4o", 1, "not_created"),
        ("openai_gpt-4o", 2, "no_compose"),
    ]
    assert_one_line_error(thesis("apps", "scan", str(tmp_path / "nowhere")), "not a folder")
