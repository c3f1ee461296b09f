"""Static security analysis with the real tools on fixture apps with planted vulnerabilities."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import select

from tests.analysis_apps import fake_tool, write_clean_app, write_vulnerable_app
from tests.conftest import unavailable
from tui.config import load_settings
from tui.db.models import AnalysisStatus, AnalysisTask, SecurityAnalysis
from tui.errors import ThesisError
from tui.services.analyses import get_analysis
from tui.services.analysis.findings import severity
from tui.services.analysis.registry import parse_types
from tui.services.analysis.results import read_results, write_results
from tui.services.analysis.runner import AnalysisService
from tui.services.scanner import scan_apps

SECURITY = parse_types("security")


@pytest.fixture
def eslint_ready() -> None:
    program = load_settings().analyzers_dir / "node_modules" / ".bin" / "eslint"
    if not program.exists():
        unavailable(f"eslint is not installed: run `npm ci --prefix {program.parents[2]}`")


@pytest.fixture
def apps(tmp_path: Path) -> Path:
    root = tmp_path / "apps"
    write_vulnerable_app(root, "acme_vuln", 1)
    write_clean_app(root, "acme_vuln", 2)
    return root


def analyse(db, settings, apps_list, *, tools=None, types=SECURITY):
    service = AnalysisService(db, settings)
    lines: list[str] = []
    task_ids = service.create(apps_list, types, tools=tools)
    results = asyncio.run(service.run(task_ids, lines.append))
    return results, lines


def rules(detail) -> set[tuple[str, str, str, int | None]]:
    return {(f.tool, f.rule_id, f.file, f.line) for f in detail.findings}


def test_every_tool_reports_the_planted_vulnerabilities(sqlite_db, apps, eslint_ready) -> None:
    scan_apps(sqlite_db, apps)
    settings = load_settings()
    (result,), lines = analyse(sqlite_db, settings, [("acme_vuln", 1)])
    assert result.status == AnalysisStatus.COMPLETED, result.error

    detail = get_analysis(sqlite_db, result.task_id)
    found = rules(detail)
    py = "backend/app.py"
    for expected in [
        ("bandit", "B608", py, 16),  # SQL built with %
        ("bandit", "B602", py, 21),  # subprocess with shell=True
        ("bandit", "B506", py, 26),  # yaml.load
        ("bandit", "B301", py, 27),  # pickle.loads
        ("bandit", "B201", py, 31),  # debug=True
        ("bandit", "B105", py, 9),  # hard-coded secret
        ("eslint", "no-eval", "frontend/src/calc.js", 2),
        ("eslint", "security/detect-eval-with-expression", "frontend/src/calc.js", 2),
        ("pylint", "E1120 no-value-for-parameter", py, 26),  # yaml.load without Loader
    ]:
        assert expected in found, expected
    # Style advice (pylint C/R) is the quality analysis's, not security's.
    assert not [rule for tool, rule, _, _ in found if tool == "pylint" and rule[0] in "CR"]
    shell = next(f for f in detail.findings if f.rule_id == "B602")
    assert shell.severity == "high" and shell.confidence == "high"
    assert "21     return subprocess.check_output" in shell.code
    assert shell.link.startswith("https://")

    tools = detail.results["tools"]
    assert tools["pip-audit"] == {**tools["pip-audit"], "status": "skipped",
                                  "reason": "database unreachable"}  # fmt: skip
    assert tools["npm-audit"]["status"] == "skipped"
    assert tools["npm-audit"]["reason"] == "database unreachable"
    assert tools["bandit"]["status"] == "ok" and tools["bandit"]["findings"] >= 6

    # The severity columns are counted from the same findings the results file holds.
    with sqlite_db.session() as s:
        row = s.scalars(select(SecurityAnalysis)).one()
        task = s.scalars(select(AnalysisTask)).one()
    severities = [f.severity for f in detail.findings]
    assert row.issues_found == len(detail.findings) == task.summary["total_findings"]
    assert (row.high_count, row.medium_count, row.low_count) == (
        severities.count("high"), severities.count("medium"), severities.count("low"))  # fmt: skip
    assert row.bandit_enabled and row.pylint_enabled and row.eslint_enabled
    assert row.npm_audit_enabled and row.safety_enabled
    assert task.status == AnalysisStatus.COMPLETED and task.progress == 100
    expected_path = settings.results_dir / "acme_vuln" / "app1" / f"{result.task_id}.json"
    assert task.results_path == str(expected_path) and expected_path.is_file()
    assert Path(task.log_path).read_text().count("-- bandit") == 1
    assert any(line.startswith("pip-audit: skipped: database unreachable") for line in lines)


def test_chosen_tools_only_run_and_are_flagged(sqlite_db, apps) -> None:
    scan_apps(sqlite_db, apps)
    (result,), _ = analyse(sqlite_db, load_settings(), [("acme_vuln", 1)], tools="bandit")
    detail = get_analysis(sqlite_db, result.task_id)
    assert set(detail.results["tools"]) == {"bandit"}
    assert {f.tool for f in detail.findings} == {"bandit"}
    with sqlite_db.session() as s:
        row = s.scalars(select(SecurityAnalysis)).one()
    assert row.bandit_enabled and not row.pylint_enabled and row.enabled_tools == ["bandit"]


def test_many_apps_share_one_scan_and_each_keeps_its_own_findings(sqlite_db, apps) -> None:
    scan_apps(sqlite_db, apps)
    results, lines = analyse(
        sqlite_db, load_settings(), [("acme_vuln", 1), ("acme_vuln", 2)], tools="bandit,pylint"
    )
    assert [r.status for r in results] == [AnalysisStatus.COMPLETED] * 2
    vulnerable, clean = (get_analysis(sqlite_db, r.task_id) for r in results)
    assert len(vulnerable.findings) >= 7
    assert clean.findings == [] and clean.results["tools"]["pylint"]["status"] == "ok"
    assert sum(line == "-- pylint" for line in lines) == 1  # one pylint process for both


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ("exec sleep 30", "eslint: eslint timed out after 1s and was killed"),
        ("echo this is not json", "eslint: eslint printed output that is not JSON"),
        ("echo boom >&2; exit 2", "eslint: eslint failed (exit 2): boom"),
    ],
)
def test_a_hanging_crashing_or_garbling_tool_fails_the_task_and_keeps_the_others(
    sqlite_db, apps, tmp_path, monkeypatch, body, message
) -> None:
    scan_apps(sqlite_db, apps)
    monkeypatch.setenv("THESIS_ANALYZERS_DIR", str(fake_tool(tmp_path / "x", body)))
    monkeypatch.setenv("THESIS_TOOL_TIMEOUT", "1")
    (result,), _ = analyse(sqlite_db, load_settings(), [("acme_vuln", 1)], tools="bandit,eslint")
    assert result.status == AnalysisStatus.FAILED
    assert result.error.startswith(message)
    detail = get_analysis(sqlite_db, result.task_id)
    assert detail.error_message == result.error
    assert detail.results["tools"]["eslint"]["status"] == "failed"
    assert any(f.rule_id == "B602" for f in detail.findings)  # bandit's findings are kept


def test_cancelling_kills_the_tool_and_marks_the_task_cancelled(
    sqlite_db, apps, tmp_path, monkeypatch
) -> None:
    scan_apps(sqlite_db, apps)
    marker = tmp_path / "started"
    monkeypatch.setenv(
        "THESIS_ANALYZERS_DIR", str(fake_tool(tmp_path / "x", f"echo $$ > {marker}; exec sleep 60"))
    )
    service = AnalysisService(sqlite_db, load_settings())
    (task_id,) = service.create([("acme_vuln", 1)], SECURITY, tools="eslint")

    async def run_then_cancel() -> None:
        job = asyncio.create_task(service.run([task_id]))
        for _ in range(500):
            if marker.exists() and marker.read_text().strip():
                break
            await asyncio.sleep(0.01)
        job.cancel()
        with pytest.raises(asyncio.CancelledError):
            await job

    asyncio.run(run_then_cancel())
    detail = get_analysis(sqlite_db, task_id)
    assert detail.status == "cancelled" and detail.error_message == "cancelled by the user"
    # The tool we started, by its pid: nothing else on a shared machine is looked at.
    assert not Path(f"/proc/{int(marker.read_text())}").exists()


def test_an_unwritable_results_folder_fails_only_that_task(sqlite_db, apps, monkeypatch) -> None:
    scan_apps(sqlite_db, apps)
    (first,), _ = analyse(sqlite_db, load_settings(), [("acme_vuln", 1)], tools="bandit")
    blocker = Path("not-a-folder")
    blocker.write_text("a file where the results folder should be")
    monkeypatch.setenv("THESIS_RESULTS_DIR", str(blocker.resolve()))
    (second,), _ = analyse(sqlite_db, load_settings(), [("acme_vuln", 1)], tools="bandit")
    assert second.status == AnalysisStatus.FAILED
    assert (
        second.error.startswith("Cannot write results to") and "THESIS_RESULTS_DIR" in second.error
    )
    earlier = get_analysis(sqlite_db, first.task_id)  # nothing stored earlier is lost
    assert earlier.status == "completed" and earlier.results_error is None


def test_an_app_without_source_fails_plainly_and_the_others_go_on(sqlite_db, apps) -> None:
    (apps / "acme_vuln" / "app3").mkdir()
    (apps / "acme_vuln" / "app3" / "notes.md").write_text("nothing to analyse\n")
    scan_apps(sqlite_db, apps)
    results, _ = analyse(sqlite_db, load_settings(), [("acme_vuln", 3), ("acme_vuln", 2)],
                         tools="bandit")  # fmt: skip
    assert [r.status for r in results] == [AnalysisStatus.FAILED, AnalysisStatus.COMPLETED]
    assert results[0].error == (
        "acme_vuln app 3 security: no source to analyse (no .py, .js/.jsx, requirements*.txt "
        "or package.json files)"
    )


def test_symlinks_out_of_the_app_are_not_followed(sqlite_db, apps, tmp_path) -> None:
    outside = tmp_path / "outside.py"
    outside.write_text("import subprocess\nsubprocess.call('x', shell=True)\n")
    os.symlink(outside, apps / "acme_vuln" / "app2" / "backend" / "linked.py")
    scan_apps(sqlite_db, apps)
    (result,), _ = analyse(sqlite_db, load_settings(), [("acme_vuln", 2)], tools="bandit")
    assert get_analysis(sqlite_db, result.task_id).findings == []


def test_one_severity_function_maps_every_tool() -> None:
    assert severity("bandit", "HIGH") == "high" and severity("bandit", "LOW") == "low"
    assert severity("pylint", "error") == "medium" and severity("pylint", "convention") == "info"
    assert severity("pylint", "warning", rule_id="eval-used") == "high"
    assert severity("eslint", 2, rule_id="no-unused-vars") == "medium"
    assert severity("eslint", 1, rule_id="security/detect-object-injection") == "high"
    assert severity("npm-audit", "moderate") == "medium"
    assert severity("npm-audit", "critical") == "critical"
    assert severity("pip-audit", None) == "high"
    assert severity("zap", "Informational") == "info"


def test_results_files_are_versioned_and_a_corrupt_one_is_one_clear_error(tmp_path) -> None:
    path = tmp_path / "r" / "x.json"
    write_results(path, {"task_id": "x"})
    assert read_results(path)["schema_version"] == 1
    assert [p.name for p in path.parent.iterdir()] == ["x.json"]  # no temporary left behind
    path.write_text("{half a fi")
    with pytest.raises(ThesisError, match=r"cannot be read"):
        read_results(path)
    path.write_text(json.dumps({"schema_version": 99}))
    with pytest.raises(ThesisError, match=r"schema version 99"):
        read_results(path)


# --- the CLI ---------------------------------------------------------------------------


def thesis(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "tui", *args], capture_output=True, text=True, timeout=300
    )


def test_cli_analyze_streams_the_log_prints_a_summary_and_shows_findings(apps, monkeypatch):
    monkeypatch.setenv("THESIS_APPS_DIR", str(apps))
    assert thesis("apps", "scan").returncode == 0
    run = thesis("analyze", "acme_vuln", "1", "--type", "security", "--tools", "bandit")
    assert run.returncode == 0, run.stderr
    assert "-- bandit" in run.stderr
    task_id, _, summary = run.stdout.strip().partition(" completed: ")
    assert task_id.startswith("security-") and summary.startswith("9 findings (2 high")

    listed = json.loads(thesis("analyses", "list", "--json").stdout)
    assert [(r["task_id"], r["status"], r["findings"]) for r in listed] == [
        (task_id, "completed", 9)
    ]
    shown = thesis("analyses", "show", task_id)
    assert "[high    ] bandit    B602" in shown.stdout and "backend/app.py:21" in shown.stdout
    as_json = json.loads(thesis("analyses", "show", task_id, "--json").stdout)
    assert len(as_json["results"]["findings"]) == 9


def test_cli_errors_are_one_line_with_exit_1(apps, monkeypatch) -> None:
    monkeypatch.setenv("THESIS_APPS_DIR", str(apps))
    thesis("apps", "scan")
    for args, needle in [
        (("analyze", "acme_vuln", "1", "--type", "bogus"), "Unknown analysis type bogus"),
        (("analyze", "acme_vuln", "1", "--tools", "nope"), "Security tools has no nope"),
        (("analyze", "acme_vuln", "9"), "No app acme_vuln app 9"),
        (("analyses", "show", "nope"), "No analysis nope"),
    ]:
        run = thesis(*args)
        assert run.returncode == 1 and run.stdout == ""
        assert run.stderr.count("\n") == 1 and needle in run.stderr, run.stderr


SLOPPY_JS = """\
var total = 0;
export function count(items) {
  let unused = 1;
  if (items.length == 0) {
  }
  return total;
}
"""


def test_quality_reports_style_and_maintainability_findings_without_a_typed_row(
    sqlite_db, apps, eslint_ready
) -> None:
    (apps / "acme_vuln" / "app1" / "frontend" / "src" / "sloppy.js").write_text(SLOPPY_JS)
    scan_apps(sqlite_db, apps)
    (quality,), lines = analyse(
        sqlite_db, load_settings(), [("acme_vuln", 1)], types=parse_types("quality")
    )
    assert quality.status == AnalysisStatus.COMPLETED, quality.error
    assert any(line.startswith("== quality (pylint, eslint) on acme_vuln app 1") for line in lines)
    found = rules(get_analysis(sqlite_db, quality.task_id))
    sloppy = "frontend/src/sloppy.js"
    expected = {("eslint", "no-var", sloppy, 1), ("eslint", "no-unused-vars", sloppy, 3),
                ("eslint", "eqeqeq", sloppy, 4), ("eslint", "no-empty", sloppy, 4)}  # fmt: skip
    assert expected <= found
    assert ("pylint", "C0116 missing-function-docstring", "backend/app.py") in {
        finding[:3] for finding in found
    }
    assert quality.summary["total_findings"] == len(found)
    assert quality.summary["tools"] == {"pylint": "ok", "eslint": "ok"}
    by_tool = quality.summary["by_tool"]  # what reports count per tool, from the same list
    assert by_tool == {tool: sum(f[0] == tool for f in found) for tool in ("eslint", "pylint")}
    with sqlite_db.session() as session:  # the seeds define no quality table
        assert session.scalars(select(SecurityAnalysis)).all() == []
