"""App folders and compose files made to hurt: each is refused or recorded as that app's
problem in one clear line; nothing crashes, hangs, or leaks our secrets into an app."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from conftest import thesis
from sqlalchemy import select

from tui.config import load_settings
from tui.db.models import GeneratedApplication
from tui.errors import ComposeError
from tui.services.compose import load_compose
from tui.services.scanner import scan_apps
from tui.services.untrusted import UntrustedInputError, load_json, load_yaml, read_regular

COMPOSE = "services:\n  backend:\n    build: ./backend\n    ports: ['5000:5000']\n"
ALIAS_BOMB = "a: &a [x,x,x,x,x,x,x,x,x]\n" + "".join(
    f"{chr(98 + i)}: &{chr(98 + i)} [{','.join([f'*{chr(97 + i)}'] * 9)}]\n" for i in range(8)
)


def app(root: Path, number: int, compose: str = COMPOSE, slug: str = "acme") -> Path:
    folder = root / slug / f"app{number}"
    (folder / "backend").mkdir(parents=True)
    (folder / "backend" / "Dockerfile").write_text("FROM scratch\n")
    (folder / "backend" / "app.py").write_text("print('hi')\n")
    (folder / "docker-compose.yml").write_text(compose)
    return folder


def rows(db) -> dict[int, GeneratedApplication]:
    with db.session() as session:
        return {a.app_number: a for a in session.scalars(select(GeneratedApplication))}


def test_one_bad_app_is_recorded_and_the_scan_goes_on(sqlite_db, tmp_path) -> None:
    root = tmp_path / "apps"
    app(root, 1, "services:\n  web:\n    build: .\n    ports: 5\n")
    app(root, 2, "services:\n  web:\n    image: !!binary aGVsbG8=\n")
    odd = app(root, 3)
    (odd / os.fsdecode(b"caf\xe9.py")).write_text("x = 1\n")
    deep = app(root, 4)
    chain = [deep / "d"]
    for _ in range(1099):  # os.makedirs (and shutil.rmtree) recurse too deep for this
        chain.append(chain[-1] / "d")
    for folder in chain:
        folder.mkdir()
    app(root, 5, ALIAS_BOMB)
    app(root, 6, "a: &a [*a]\n")
    app(root, 7)
    try:
        report = scan_apps(sqlite_db, root)
    finally:
        for folder in reversed(chain):
            folder.rmdir()
    assert report.found == 6 and report.added == 6
    assert [(Path(p).name, r) for p, r in report.skipped] == [
        ("app4", "cannot be read: folders nested deeper than 32 levels")
    ]
    found = rows(sqlite_db)
    assert sorted(found) == [1, 2, 3, 5, 6, 7]
    assert found[1].app_metadata["services"]["web"]["ports"] == ["5"]
    assert found[2].app_metadata["services"]["web"]["image"] == "hello"
    assert found[3].app_metadata["files"] == 4
    assert "alias bomb" in found[5].app_metadata["error"]
    assert "contains itself" in found[6].app_metadata["error"]


def test_a_folder_name_with_a_trailing_newline_is_not_an_app(sqlite_db, tmp_path) -> None:
    root = tmp_path / "apps"
    (root / "acme" / "app1\n").mkdir(parents=True)
    (root / "acme\n" / "app2").mkdir(parents=True)
    report = scan_apps(sqlite_db, root)
    assert report.found == 0 and len(report.skipped) == 2


def test_scanning_a_parent_folder_marks_nothing_missing(sqlite_db, tmp_path) -> None:
    root = tmp_path / "lab" / "apps"
    app(root, 1)
    app(root, 2)
    assert scan_apps(sqlite_db, root).added == 2
    for parent in (root.parent, tmp_path):
        report = scan_apps(sqlite_db, parent)
        assert report.missing == 0
    assert all(row.missing_since is None for row in rows(sqlite_db).values())
    (root / "acme" / "app2" / "docker-compose.yml").unlink()
    for path in sorted((root / "acme" / "app2").rglob("*"), reverse=True):
        path.rmdir() if path.is_dir() else path.unlink()
    (root / "acme" / "app2").rmdir()
    assert scan_apps(sqlite_db, root).missing == 1  # the folder it belongs to still counts


def test_a_fresh_install_creates_the_apps_folder_and_says_how_to_fill_it(tmp_path) -> None:
    apps_dir = load_settings().apps_dir
    assert not apps_dir.exists()
    run = thesis("apps", "scan")
    assert run.returncode == 0, run.stderr
    assert apps_dir.is_dir()
    assert "Scanned 0 apps" in run.stdout and "THESIS_APPS_DIR" in run.stdout


def test_control_characters_in_names_are_printed_escaped(tmp_path, monkeypatch) -> None:
    root = tmp_path / "apps"
    (root / "acme" / "app\x1b[31m1").mkdir(parents=True)
    run = thesis("apps", "scan", str(root))
    assert run.returncode == 0, run.stderr
    assert "\x1b" not in run.stderr and "app\\x1b[31m1" in run.stderr


# --- compose files ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("compose", "message"),
    [
        (ALIAS_BOMB, "expands to more than 100,000 nodes"),
        ("services: &s {web: {image: x, depends_on: *s}}\n", "contains itself"),
        ("x: " + "[" * 100_000 + "]" * 100_000 + "\n", "nested deeper than 64 levels"),
        ("services:\n  web:\n    build: /etc\n", "service web: build /etc is outside"),
        (
            "services:\n  web:\n    image: x\n    env_file: /etc/shadow\n",
            "service web: env_file /etc/shadow is outside the app's folder",
        ),
        ("services: {web: {image: x}}\n" + "#" * 600_000, "larger than 512 KiB"),
    ],
)
def test_hostile_compose_files_are_refused_in_one_line(tmp_path, compose, message) -> None:
    folder = app(tmp_path, 1, compose)
    with pytest.raises(ComposeError) as refused:
        load_compose(folder)
    assert message in str(refused.value) and "\n" not in str(refused.value)


def test_a_depends_on_chain_two_thousand_deep_is_ordered(tmp_path) -> None:
    services = "".join(f"  s{n}:\n    image: x\n    depends_on: [s{n + 1}]\n" for n in range(2000))
    folder = app(tmp_path, 1, f"services:\n{services}  s2000:\n    image: x\n")
    plan = load_compose(folder)
    assert [s.name for s in plan.services][:2] == ["s2000", "s1999"]


def test_an_env_file_linked_out_of_the_app_is_refused(tmp_path) -> None:
    outside = tmp_path / "user.env"
    outside.write_text("THESIS_OPENROUTER_API_KEY=sk-or-v1-secret\n")
    folder = app(
        tmp_path / "apps",
        1,
        "services:\n  web:\n    image: x\n"
        "    environment: {STOLEN: '${THESIS_OPENROUTER_API_KEY}'}\n",
    )
    (folder / ".env").symlink_to(outside)
    with pytest.raises(ComposeError, match=r"^the app's \.env is outside the app's folder$"):
        load_compose(folder)


def test_our_secrets_are_never_interpolated_into_an_app(tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("THESIS_OPENROUTER_API_KEY", "sk-or-v1-0123456789")
    load_settings()
    folder = app(
        tmp_path / "apps",
        1,
        "services:\n  web:\n    image: x\n    environment:\n"
        "      A: '${THESIS_OPENROUTER_API_KEY}'\n      B: '${COPIED}'\n      C: plain\n",
    )
    (folder / ".env").write_text(
        "THESIS_OPENROUTER_API_KEY=from-the-app\nCOPIED=sk-or-v1-0123456789\n"
    )
    plan = load_compose(folder)
    assert plan.services[0].environment == {"A": "", "C": "plain"}
    assert any("never hands its secrets" in note for note in plan.notes)
    assert any("B dropped" in note for note in plan.notes)


# --- untrusted reads ----------------------------------------------------------------------


def test_fifos_devices_and_deep_json_are_refused_without_hanging(tmp_path) -> None:
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    with pytest.raises(UntrustedInputError, match="not a regular file"):
        read_regular(fifo, 1024, "the results file")
    with pytest.raises(UntrustedInputError, match="not a regular file"):
        read_regular(Path("/dev/zero"), 1024, "the models file")
    with pytest.raises(UntrustedInputError, match="nested too deeply"):
        load_json("[" * 100_000 + "]" * 100_000, "the results file")
    assert load_yaml("a: !!binary aGVsbG8=\nb: .nan\n", "x") == {"a": "hello", "b": "nan"}
