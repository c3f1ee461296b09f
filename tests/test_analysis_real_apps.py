"""Static analyses on apps as real generated ones are: unpinned requirements, and one app
whose files trip a tool among many that do not."""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import subprocess
import sys
from functools import partial
from pathlib import Path

import pytest

from tests.analysis_apps import write_clean_app, write_vulnerable_app
from tui.config import load_settings
from tui.db.models import AnalysisStatus
from tui.services.analyses import get_analysis
from tui.services.analysis.audits import read_requirements, settle_unchecked
from tui.services.analysis.registry import parse_types
from tui.services.analysis.runner import AnalysisService
from tui.services.analysis.sources import ToolReport
from tui.services.scanner import scan_apps

SECURITY = parse_types("security")


def analyse(db, apps_list, *, tools):
    service = AnalysisService(db, load_settings())
    lines: list[str] = []
    task_ids = service.create(apps_list, SECURITY, tools=tools)
    return asyncio.run(service.run(task_ids, lines.append)), lines


def test_requirement_lines_are_pinned_or_said_why_not(tmp_path: Path) -> None:
    path = tmp_path / "requirements.txt"
    path.write_text(
        "# a comment\n"
        "Flask\n"
        "flask-cors==4.0.0  # pinned, with a comment\n"
        "requests>=2.31\n"
        "Werkzeug[watchdog] == 3.0.1 ; python_version >= '3.8'\n"
        "-r /etc/passwd\n"
        "--index-url http://evil.example/simple\n"
        "gunicorn==21.2.0 \\\n"
        "    --hash=sha256:abc\n"
        "numpy==1.*\n"
        "git+https://github.com/x/y.git\n"
        "\n"
    )
    listed = [(r.number, r.name, r.problem) for r in read_requirements(path)]
    assert listed == [
        (2, "", "no pinned version"),
        (3, "flask-cors", ""),
        (4, "", "no pinned version"),
        (5, "Werkzeug", ""),
        (6, "", "an option or include, not followed"),
        (7, "", "an option or include, not followed"),
        (8, "gunicorn", ""),
        (10, "", "no pinned version"),
        (11, "", "no pinned version"),
    ]


def audit_requirements(db, tmp_path: Path, requirements: str, tools: str):
    """One app whose backend has `requirements`, analysed: (result, log lines, pip-audit's
    report)."""
    app = write_clean_app(tmp_path / "apps", "acme", 1)
    (app / "backend" / "requirements.txt").write_text(requirements)
    scan_apps(db, tmp_path / "apps")
    (result,), lines = analyse(db, [("acme", 1)], tools=tools)
    assert result.status == AnalysisStatus.COMPLETED, result.error
    return result, lines, get_analysis(db, result.task_id).results["tools"]["pip-audit"]


def test_an_app_with_only_unpinned_requirements_completes_with_pip_audit_skipped(
    sqlite_db, tmp_path
) -> None:
    result, lines, pip_audit = audit_requirements(
        sqlite_db, tmp_path, "Flask\nflask-cors\n", "bandit,pip-audit"
    )
    assert pip_audit["status"] == "skipped"
    assert pip_audit["reason"].startswith("no pinned requirements to check: ")
    assert pip_audit["unchecked"] == [
        "backend/requirements.txt:1 Flask (no pinned version)",
        "backend/requirements.txt:2 flask-cors (no pinned version)",
    ]
    assert result.summary["tools"]["pip-audit"].startswith("skipped: no pinned requirements")
    assert not any("vulnerabilities" in line for line in lines)


def test_pinned_and_unpinned_lines_offline_skip_as_unreachable_and_list_the_unpinned(
    sqlite_db, tmp_path
) -> None:
    _, _, pip_audit = audit_requirements(sqlite_db, tmp_path, "Flask\npyyaml==5.3\n", "pip-audit")
    assert (pip_audit["status"], pip_audit["reason"]) == ("skipped", "database unreachable")
    assert pip_audit["unchecked"] == ["backend/requirements.txt:1 Flask (no pinned version)"]


def test_an_audit_that_checked_some_lines_is_partial_and_says_which_it_did_not() -> None:
    report = ToolReport("pip-audit", "ok", checked=1)
    report.unchecked.append("requirements.txt:1 Flask (no pinned version)")
    settle_unchecked(report, "requirements")
    assert report.status == "partial"
    assert report.reason == (
        "1 requirements not checked: requirements.txt:1 Flask (no pinned version)"
    )


def poison_eslint(tmp_path: Path, body: str) -> tuple[Path, Path]:
    """An analyzers folder whose eslint records each run in `runs` and runs `body`."""
    copy = tmp_path / "fake-analyzers"
    copy.mkdir()
    shutil.copy(load_settings().analyzers_dir / "pylintrc", copy / "pylintrc")
    program = copy / "node_modules" / ".bin" / "eslint"
    program.parent.mkdir(parents=True)
    runs = tmp_path / "runs"
    program.write_text(f"#!/bin/sh\necho run >> {runs}\n{body}\n")
    program.chmod(0o755)
    return copy, runs


def js_apps(root: Path, count: int, poisoned: int | None = None) -> list[tuple[str, int]]:
    for number in range(1, count + 1):
        app = write_clean_app(root, "acme", number)
        name = "poison.js" if number == poisoned else "main.js"
        (app / "frontend").mkdir()
        (app / "frontend" / name).write_text("export const x = 1;\n")
    return [("acme", number) for number in range(1, count + 1)]


def test_one_app_that_crashes_a_tool_fails_alone_in_a_run_of_many(
    sqlite_db, tmp_path, monkeypatch
) -> None:
    apps = js_apps(tmp_path / "apps", 5, poisoned=4)
    analyzers, _runs = poison_eslint(
        tmp_path, 'case "$*" in *poison*) echo "crashed on poison.js" >&2; exit 2;; esac\necho "[]"'
    )
    monkeypatch.setenv("THESIS_ANALYZERS_DIR", str(analyzers))
    scan_apps(sqlite_db, tmp_path / "apps")
    results, lines = analyse(sqlite_db, apps, tools="bandit,eslint")
    assert [r.status for r in results] == [AnalysisStatus.COMPLETED] * 3 + [
        AnalysisStatus.FAILED, AnalysisStatus.COMPLETED]  # fmt: skip
    assert results[3].error == "eslint: eslint failed (exit 2): crashed on poison.js"
    assert results[0].summary["tools"] == {"bandit": "ok", "eslint": "ok"}
    assert any("eslint failed over 5 apps" in line and "each half" in line for line in lines)


def test_a_tool_that_hangs_on_every_app_is_not_split_down_to_each_app(
    sqlite_db, tmp_path, monkeypatch
) -> None:
    apps = js_apps(tmp_path / "apps", 4)
    analyzers, runs = poison_eslint(tmp_path, "exec sleep 30")
    monkeypatch.setenv("THESIS_ANALYZERS_DIR", str(analyzers))
    monkeypatch.setenv("THESIS_TOOL_TIMEOUT", "0.5")
    scan_apps(sqlite_db, tmp_path / "apps")
    results, _ = analyse(sqlite_db, apps, tools="eslint")
    assert {r.status for r in results} == {AnalysisStatus.FAILED}
    assert all("timed out after 0.5s" in r.error for r in results)
    # all four, the first half, its two apps, then the second half once: not one per app.
    assert runs.read_text().count("run") == 5


@pytest.mark.parametrize("poisoned", [1, 2])
def test_apps_keep_their_findings_when_another_app_fails_a_tool(
    sqlite_db, tmp_path, monkeypatch, poisoned
) -> None:
    root = tmp_path / "apps"
    write_vulnerable_app(root, "acme", 1)
    write_vulnerable_app(root, "acme", 2)
    (root / "acme" / f"app{poisoned}" / "frontend" / "src" / "poison.js").write_text("x\n")
    analyzers, _ = poison_eslint(tmp_path, 'case "$*" in *poison*) exit 2;; esac\necho "[]"')
    monkeypatch.setenv("THESIS_ANALYZERS_DIR", str(analyzers))
    scan_apps(sqlite_db, root)
    results, _ = analyse(sqlite_db, [("acme", 1), ("acme", 2)], tools="bandit,eslint")
    statuses = {r.task_id: r.status for r in results}
    good = results[2 - poisoned]
    assert statuses[good.task_id] == AnalysisStatus.COMPLETED
    assert statuses[results[poisoned - 1].task_id] == AnalysisStatus.FAILED
    assert any(f.rule_id == "B602" for f in get_analysis(sqlite_db, good.task_id).findings)


def test_tools_never_see_our_secrets_in_their_environment(sqlite_db, tmp_path, monkeypatch):
    monkeypatch.setenv("THESIS_OPENROUTER_API_KEY", "sk-or-v1-never-for-tools")
    monkeypatch.setenv("THESIS_ZAP_API_KEY", "zap-key-never-for-tools")
    monkeypatch.setenv("SOME_SERVICE_TOKEN", "token-never-for-tools")
    monkeypatch.setenv("COPY_OF_THE_KEY", "sk-or-v1-never-for-tools")
    load_settings()  # the configured secrets are known from here on
    dump = tmp_path / "environment"
    analyzers, _ = poison_eslint(tmp_path, f'env > {dump}\necho "[]"')
    monkeypatch.setenv("THESIS_ANALYZERS_DIR", str(analyzers))
    apps = js_apps(tmp_path / "apps", 1)
    scan_apps(sqlite_db, tmp_path / "apps")
    (result,), _ = analyse(sqlite_db, apps, tools="eslint")
    assert result.status == AnalysisStatus.COMPLETED, result.error
    seen = dump.read_text()
    assert "PATH=" in seen  # the tool got an environment, just not our secrets
    assert "never-for-tools" not in seen and "THESIS_OPENROUTER_API_KEY" not in seen


def test_cli_analyze_with_the_default_tools_completes_on_an_unpinned_app(tmp_path) -> None:
    app = write_vulnerable_app(tmp_path / "apps", "acme", 1)
    (app / "backend" / "requirements.txt").write_text("Flask\nflask-cors\nrequests>=2\n")
    env = {**os.environ, "THESIS_APPS_DIR": str(tmp_path / "apps")}
    run = partial(subprocess.run, capture_output=True, text=True, timeout=300, env=env)
    assert run([sys.executable, "-m", "tui", "apps", "scan"]).returncode == 0
    analysed = run([sys.executable, "-m", "tui", "analyze", "acme", "1"])
    assert analysed.returncode == 0, analysed.stderr
    assert " completed: " in analysed.stdout and " 1 findings" not in analysed.stdout
    task_id = analysed.stdout.split()[0]
    shown = json.loads(run([sys.executable, "-m", "tui", "analyses", "show", task_id,
                            "--json"]).stdout)  # fmt: skip
    pip_audit = shown["results"]["tools"]["pip-audit"]
    assert pip_audit["status"] == "skipped"
    assert pip_audit["reason"].startswith("no pinned requirements to check")
    assert len(pip_audit["unchecked"]) == 3
