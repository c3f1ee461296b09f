"""The `zap` analysis (dynamic scan) of a real app in Docker: through a stand-in of ZAP's API
started on 127.0.0.1 (the official client sends its calls through it as a proxy), and through
the real wapiti against a busybox app with an XSS and an SQL injection.

One app is started for the whole file: a busybox backend whose CGI search page echoes its
`name` parameter unescaped and prints a MySQL error when the name holds a quote, and a
static frontend.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from sqlalchemy import select

from tests.conftest import (
    BUSYBOX_IMAGE,
    StandInHandler,
    free_port,
    loopback_server,
    remove_docker_objects,
    unavailable,
    unique_slug,
    worker_port_ranges,
    write_container_app,
)
from tui.config import load_settings
from tui.db import Database, open_database
from tui.db.models import AnalysisStatus, AnalysisTask, ZapAnalysis
from tui.errors import ValidationError
from tui.services.analyses import get_analysis
from tui.services.analysis.process import ToolMissing
from tui.services.analysis.registry import parse_types
from tui.services.analysis.runner import AnalysisService, TaskResult
from tui.services.analysis.wapiti import wapiti_command
from tui.services.containers import ContainerService
from tui.services.scanner import scan_apps

ZAP_KEY = "zap-secret-key-456"

SEARCH_CGI = r"""#!/bin/sh
# A search page with two classic bugs: the name is echoed unescaped (XSS), and a quote in
# it "breaks the SQL query", whose error is printed (SQL injection).
echo "Content-Type: text/html"
echo ""
raw=$(echo "$QUERY_STRING" | sed -n 's/^\(.*&\)*name=\([^&]*\).*$/\2/p')
name=$(httpd -d "$raw")
echo "<html><body><p>Hello $name</p>"
case "$name" in
  *"'"*|*'"'*) echo "<p>You have an error in your SQL syntax; check the manual that \
corresponds to your MySQL server version for the right syntax to use near '$name'</p>" ;;
esac
echo "</body></html>"
"""
BACKEND_INDEX = '<html><body><a href="/cgi-bin/search?name=guest">Search</a></body></html>\n'
CGI_DOCKERFILE = f"""\
FROM {BUSYBOX_IMAGE}
COPY index.html /www/index.html
COPY search /www/cgi-bin/search
RUN ["chmod", "755", "/www/cgi-bin/search"]
CMD ["httpd", "-f", "-v", "-p", "5000", "-h", "/www"]
"""


@dataclass(frozen=True)
class ScannedApp:
    db: Database
    db_url: str
    slug: str
    frontend: str
    backend: str


@pytest.fixture(scope="module")
def app(tmp_path_factory, docker_client, busybox_image) -> Iterator[ScannedApp]:
    """The vulnerable app, built and started once for every test of this file."""
    root = tmp_path_factory.mktemp("zap")
    slug = unique_slug()
    folder = write_container_app(root / "apps", slug, backend_dockerfile=CGI_DOCKERFILE)
    (folder / "backend" / "index.html").write_text(BACKEND_INDEX)
    (folder / "backend" / "search").write_text(SEARCH_CGI)
    (folder / "backend" / "search").chmod(0o755)
    db_url = f"sqlite:///{root / 'zap.db'}"
    db = open_database(db_url)
    scan_apps(db, root / "apps")
    settings = load_settings(data_dir=root / "data", **worker_port_ranges())
    containers = ContainerService(db, settings)
    try:
        target = containers.start(slug, 1)
        yield ScannedApp(
            db,
            db_url,
            slug,
            frontend=f"http://127.0.0.1:{target.frontend_port}/",
            backend=f"http://127.0.0.1:{target.backend_port}/",
        )
    finally:
        containers.close()
        remove_docker_objects(docker_client, slug)
        db.dispose()


def analyse(app: ScannedApp, **options: Any) -> tuple[TaskResult, list[str]]:
    service = AnalysisService(app.db, load_settings())
    lines: list[str] = []
    task_ids = service.create([(app.slug, 1)], parse_types("zap"), options=options)
    try:
        (result,) = asyncio.run(service.run(task_ids, lines.append))
    finally:
        service.containers.close()
    return result, lines


def zap_row(app: ScannedApp, task_id: str) -> ZapAnalysis | None:
    with app.db.session() as s:
        return s.scalars(
            select(ZapAnalysis)
            .join(AnalysisTask, AnalysisTask.id == ZapAnalysis.analysis_task_id)
            .where(AnalysisTask.task_id == task_id)
        ).one_or_none()


def stored_text(task_id: str, app: ScannedApp) -> str:
    """Everything the task left on disk: its log and its results file."""
    detail = get_analysis(app.db, task_id)
    paths = [p for p in (detail.log_path, detail.results_path) if p]
    return "\n".join(Path(p).read_text() for p in paths)


# --- ZAP, through a stand-in of its API --------------------------------------------------


def alert(base: str, path: str, name: str, risk: str, plugin: str, **extra: str) -> dict:
    return {"alert": name, "name": name, "risk": risk, "confidence": "Medium",
            "pluginId": plugin, "alertRef": plugin, "url": base + path, "method": "GET",
            "param": "", "evidence": "", "attack": "", "reference": "", **extra}  # fmt: skip


class ZapStandIn:
    """The few API calls ZapScan makes, answered as ZAP 2.16 does; every call is recorded."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, str, dict[str, str], str | None]] = []
        """(host of the request line, API call, query, X-ZAP-API-Key header)."""
        self.spider_status = ["40", "100"]
        self.records_to_scan = ["3", "0"]
        self.alerts: dict[str, list[dict[str, Any]]] = {}
        self.close_on_bad_key = False
        self.not_json = False
        self.scans = 0

    def called(self, name: str) -> list[dict[str, str]]:
        return [query for _, call, query, _ in self.calls if call == name]

    @staticmethod
    def _next(values: list[str]) -> str:
        return values.pop(0) if len(values) > 1 else values[0]

    def answer(self, host: str, call: str, query: dict[str, str], key: str | None) -> Any:
        self.calls.append((host, call, query, key))
        if self.not_json:
            return 200, "<html>Welcome to ZAP</html>"
        if key != ZAP_KEY:
            # ZAP's default is to close the connection; with api.reportpermerrors it answers.
            if self.close_on_bad_key:
                return None
            return 401, {"code": "bad_api_key", "message": f"Bad API key {key}"}
        if call in ("spider/action/scan", "ascan/action/scan"):
            self.scans += 1
            return 200, {"scan": str(self.scans)}
        views = {
            "core/view/version": lambda: {"version": "2.16.0"},
            "spider/view/status": lambda: {"status": self._next(self.spider_status)},
            "ascan/view/status": lambda: {"status": "100"},
            "pscan/view/recordsToScan": lambda: {"recordsToScan": self._next(self.records_to_scan)},
            "spider/action/stop": lambda: {"Result": "OK"},
            "ascan/action/stop": lambda: {"Result": "OK"},
            "core/view/alerts": lambda: {
                "alerts": self.alerts.get(query.get("baseurl", ""), [])[
                    int(query.get("start", 0)) : int(query.get("start", 0))
                    + int(query.get("count", 10**6))
                ]
            },
        }
        if call not in views:
            return 400, {"code": "bad_view", "message": f"No such view {call}"}
        return 200, views[call]()


class _ZapHandler(StandInHandler):
    """Serves API calls sent the way the client sends them: `GET http://zap/JSON/... HTTP/1.1`
    to ZAP as a proxy."""

    def do_GET(self) -> None:
        target = urlsplit(self.path)
        query = {name: values[0] for name, values in parse_qs(target.query).items()}
        call = target.path.removeprefix("/JSON/").strip("/")
        reply = self.server.standin.answer(
            target.netloc, call, query, self.headers.get("X-ZAP-API-Key")
        )
        if reply is None:
            self.close_connection = True
            return
        status, payload = reply
        data = payload.encode() if isinstance(payload, str) else json.dumps(payload).encode()
        self.reply(status, data, {"Content-Type": "application/json; charset=UTF-8"})


@pytest.fixture
def zap(app, monkeypatch) -> Iterator[ZapStandIn]:
    standin = ZapStandIn()
    standin.alerts = {
        app.frontend: [
            alert(app.frontend, "", "Content Security Policy (CSP) Header Not Set", "Medium",
                  "10038", alertRef="10038-1"),
            # ZAP keeps the alerts of earlier scans of a URL: a repeat is one finding.
            alert(app.frontend, "", "Content Security Policy (CSP) Header Not Set", "Medium",
                  "10038", alertRef="10038-1"),
        ],
        app.backend: [
            alert(app.backend, "cgi-bin/search?name=guest", "SQL Injection - MySQL", "High",
                  "40018", param="name", evidence="You have an error in your SQL syntax",
                  attack="guest'", confidence="High",
                  reference="https://owasp.org/www-community/attacks/SQL_Injection\n"
                            "https://cwe.mitre.org/data/definitions/89.html"),
            alert(app.backend, "", "Content Security Policy (CSP) Header Not Set", "Medium",
                  "10038", alertRef="10038-1"),
            alert(app.backend, "", "Server Leaks Version Information via Server header", "Low",
                  "10036", evidence="busybox"),
            alert(app.backend, "", "Modern Web Application", "Informational", "10109"),
        ],
    }  # fmt: skip
    with loopback_server(_ZapHandler, standin) as url:
        monkeypatch.setenv("THESIS_ZAP_URL", url)
        monkeypatch.setenv("THESIS_ZAP_API_KEY", ZAP_KEY)
        yield standin


class TestZap:
    def test_a_baseline_scan_spiders_each_service_and_stores_the_alerts(self, app, zap) -> None:
        result, lines = analyse(app)
        assert result.status == AnalysisStatus.COMPLETED, result.error
        assert result.summary == {"total_findings": 5, "critical": 0, "high": 1, "medium": 2,
                                  "low": 1, "info": 1, "scanner": "zap",
                                  "scan_type": "baseline"}  # fmt: skip
        assert [q["url"] for q in zap.called("spider/action/scan")] == [app.frontend, app.backend]
        assert len(zap.called("spider/view/status")) == 3  # 40%, then 100% twice
        assert len(zap.called("pscan/view/recordsToScan")) == 2
        assert zap.called("ascan/action/scan") == []
        # Every call went through ZAP as a proxy, to its API host, with the key in its header.
        assert {(host, key) for host, _, _, key in zap.calls} == {("zap", ZAP_KEY)}

        row = zap_row(app, result.task_id)
        assert row is not None and row.status == AnalysisStatus.COMPLETED
        assert (row.scan_type, row.target_url) == ("baseline", f"{app.frontend} {app.backend}")
        assert (row.alerts_count, row.high_risk_count, row.medium_risk_count,
                row.low_risk_count, row.info_count) == (5, 1, 2, 1, 1)  # fmt: skip

        detail = get_analysis(app.db, result.task_id)
        sql = detail.findings[0]
        assert (sql.tool, sql.rule_id, sql.severity, sql.confidence) == ("zap", "40018", "high",
                                                                         "high")  # fmt: skip
        assert sql.file == f"{app.backend}cgi-bin/search?name=guest"
        assert sql.message == "SQL Injection - MySQL (parameter name)"
        assert sql.code == "You have an error in your SQL syntax"
        assert sql.link == "https://owasp.org/www-community/attacks/SQL_Injection"
        assert [f.severity for f in detail.findings] == ["high", "medium", "medium", "low", "info"]
        assert detail.results["tools"]["zap"]["status"] == "ok"
        assert detail.results["metrics"]["version"] == "2.16.0"
        assert any(line.startswith("-- ZAP 2.16.0 at http://127.0.0.1:") for line in lines)
        assert ZAP_KEY not in stored_text(result.task_id, app) + json.dumps(row.results)

    def test_a_full_scan_from_the_cli_runs_the_active_scanner_on_each_service(
        self, app, zap, tmp_path
    ) -> None:
        run = subprocess.run(
            [sys.executable, "-m", "tui", "--database-url", app.db_url, "analyze", app.slug,
             "1", "--type", "zap", "--zap-scan", "full"],
            capture_output=True, text=True, timeout=120, env=dict(os.environ),
        )  # fmt: skip
        assert run.returncode == 0, run.stderr
        task_id, _, summary = run.stdout.strip().partition(" completed: ")
        assert summary == "5 findings (1 high, 2 medium, 1 low, 1 info)"
        assert [q["url"] for q in zap.called("ascan/action/scan")] == [app.frontend, app.backend]
        assert zap.called("ascan/view/status")
        assert zap_row(app, task_id).scan_type == "full"
        assert "zap: active scan of" in run.stderr and ZAP_KEY not in run.stderr

    def test_a_refused_key_fails_the_task_with_one_clear_line(self, app, zap, monkeypatch):
        monkeypatch.setenv("THESIS_ZAP_API_KEY", "wrong-key-789")
        result, _ = analyse(app)
        assert result.status == AnalysisStatus.FAILED
        assert result.error.startswith("ZAP at http://127.0.0.1:")
        assert result.error.endswith("refused the API key (401) — set THESIS_ZAP_API_KEY")
        assert zap_row(app, result.task_id) is None
        assert "wrong-key-789" not in stored_text(result.task_id, app)

        zap.close_on_bad_key = True  # as ZAP does by default
        result, _ = analyse(app)
        assert result.status == AnalysisStatus.FAILED
        assert result.error.endswith(
            "closed the connection without answering core/view/version; it does that for a "
            "wrong API key — set THESIS_ZAP_API_KEY"
        )

    def test_an_unreachable_zap_or_one_that_is_not_zap_fails_with_one_clear_line(
        self, app, zap, monkeypatch
    ) -> None:
        zap.not_json = True
        result, _ = analyse(app)
        assert result.status == AnalysisStatus.FAILED
        assert result.error.endswith(
            "answered core/view/version with something that is not JSON: is THESIS_ZAP_URL the "
            "address of ZAP's API?"
        )

        port = free_port()
        monkeypatch.setenv("THESIS_ZAP_URL", f"http://127.0.0.1:{port}")
        result, _ = analyse(app)
        assert result.status == AnalysisStatus.FAILED
        assert result.error == (
            f"ZAP at http://127.0.0.1:{port} is not reachable (connection refused): is its "
            "daemon running there (THESIS_ZAP_URL)?"
        )
        detail = get_analysis(app.db, result.task_id)
        assert detail.results["tools"]["zap"]["status"] == "failed"
        assert "Traceback" not in stored_text(result.task_id, app)

    def test_a_scan_past_the_timeout_is_stopped_in_zap_and_fails(self, app, zap, monkeypatch):
        monkeypatch.setenv("THESIS_TOOL_TIMEOUT", "1.5")
        zap.spider_status = ["20"]
        started = time.monotonic()
        result, _ = analyse(app)
        assert time.monotonic() - started < 10
        assert result.status == AnalysisStatus.FAILED
        assert result.error == (
            "ZAP's scan did not finish within 1.5s (THESIS_TOOL_TIMEOUT): the spider of "
            f"{app.frontend} was at 20%; the scans were stopped"
        )
        assert zap.called("spider/action/stop") == [{"scanId": "1"}]

    def test_a_cancelled_scan_is_stopped_in_zap_and_marked_cancelled(self, app, zap) -> None:
        zap.spider_status = ["20"]
        service = AnalysisService(app.db, load_settings())
        (task_id,) = service.create([(app.slug, 1)], parse_types("zap"))

        async def cancel_while_spidering() -> None:
            running = asyncio.create_task(service.run([task_id]))
            while not zap.called("spider/view/status"):
                await asyncio.sleep(0.02)
            running.cancel()
            with pytest.raises(asyncio.CancelledError):
                await running

        asyncio.run(cancel_while_spidering())
        service.containers.close()
        assert get_analysis(app.db, task_id).status == "cancelled"
        assert zap.called("spider/action/stop") == [{"scanId": "1"}]


def test_an_unknown_scan_type_is_refused_before_any_task_is_stored(sqlite_db, tmp_path) -> None:
    write_container_app(tmp_path / "apps", "acme_web")
    scan_apps(sqlite_db, tmp_path / "apps")
    service = AnalysisService(sqlite_db, load_settings())
    with pytest.raises(ValidationError, match="Dynamic scan must be baseline or full, not “deep”"):
        service.create([("acme_web", 1)], parse_types("zap"), options={"zap_scan": "deep"})
    with sqlite_db.session() as s:
        assert s.scalars(select(AnalysisTask)).all() == []


# --- wapiti, when no ZAP is configured ---------------------------------------------------


class TestWapiti:
    @pytest.fixture(autouse=True)
    def _no_zap(self, monkeypatch) -> None:
        """wapiti, even on an engine that has the ZAP image."""
        monkeypatch.setenv("THESIS_ZAP_IMAGE", "")

    def test_wapiti_finds_the_xss_and_the_sql_injection_of_the_running_app(self, app) -> None:
        try:
            wapiti_command(load_settings())
        except ToolMissing as exc:
            unavailable(str(exc))
        started = time.monotonic()
        result, lines = analyse(app)
        seconds = time.monotonic() - started
        assert result.status == AnalysisStatus.COMPLETED, result.error
        assert seconds < 30, f"the wapiti scan took {seconds:.1f}s"

        findings = get_analysis(app.db, result.task_id).findings
        search = f"{app.backend}cgi-bin/search"
        found = {(f.rule_id, f.severity) for f in findings if f.file == search}
        assert ("Reflected Cross Site Scripting", "medium") in found
        assert ("SQL Injection", "critical") in found
        assert all("parameter name" in f.message for f in findings if f.file == search)
        assert all(f.tool == "wapiti" and f.link.startswith("https://") for f in findings)
        row = zap_row(app, result.task_id)
        assert row.scan_type == "wapiti-baseline" and row.target_url == (
            f"{app.frontend} {app.backend}"
        )
        assert row.alerts_count == len(findings) and row.high_risk_count >= 1
        assert row.medium_risk_count >= 1
        runs = row.results["metrics"]["runs"]
        assert [run["url"] for run in runs] == [app.frontend, app.backend]
        assert all(run["crawled_pages"] >= 1 for run in runs)
        assert any(line.startswith("wapiti: found SQL Injection") for line in lines)
        print(f"wapiti scan of 2 services: {seconds:.1f}s")

    def test_a_missing_wapiti_is_recorded_as_skipped_never_as_no_findings(
        self, app, tmp_path, monkeypatch
    ) -> None:
        monkeypatch.setenv("THESIS_WAPITI_PATH", str(tmp_path / "nowhere" / "wapiti"))
        result, _ = analyse(app)
        assert result.status == AnalysisStatus.FAILED
        assert result.error.startswith("skipped: wapiti is not installed")
        assert "run analyzers/install" in result.error
        detail = get_analysis(app.db, result.task_id)
        assert detail.results["tools"]["wapiti"]["status"] == "skipped"
        assert detail.findings == [] and zap_row(app, result.task_id) is None

    @pytest.mark.parametrize(
        ("script", "timeout", "error"),
        [
            ('echo "[*] Launching module sql"\necho "RuntimeError: module crashed" >&2\nexit 1',
             "30", "(exit 1): RuntimeError: module crashed"),
            ("exec sleep 30", "1", "wapiti timed out after 1s and was killed"),
            ('while [ $# -gt 0 ]; do [ "$1" = --output ] && echo "{oops" > "$2"; shift; done',
             "30", "is not JSON (Expecting property name"),
        ],
        ids=["crash", "hang", "invalid-json"],
    )  # fmt: skip
    def test_a_wapiti_that_crashes_hangs_or_writes_no_json_fails_the_task(
        self, app, tmp_path, monkeypatch, script, timeout, error
    ) -> None:
        fake = tmp_path / "wapiti"  # a stand-in executable, to make each failure certain
        fake.write_text(f"#!/bin/sh\n{script}\n")
        fake.chmod(0o755)
        monkeypatch.setenv("THESIS_WAPITI_PATH", str(fake))
        monkeypatch.setenv("THESIS_TOOL_TIMEOUT", timeout)
        started = time.monotonic()
        result, _ = analyse(app)
        assert time.monotonic() - started < 15
        assert result.status == AnalysisStatus.FAILED
        assert error in result.error
        assert "\n" not in result.error and zap_row(app, result.task_id) is None


# --- a ZAP container, when no THESIS_ZAP_URL is set but the engine has the ZAP image -------

ZAP_SH = """\
#!/bin/sh
# A stand-in of the ZAP image's start script: it serves the few API calls ThesisApp makes
# (busybox nc runs zap-api per connection) on the -port and with the api.key it is given.
port=""
while [ $# -gt 0 ]; do
  case "$1" in
    -port) port=$2; shift ;;
    -config) case "$2" in api.key=*) export ZAP_KEY="${2#api.key=}" ;; esac; shift ;;
  esac
  shift
done
echo "ZAP stand-in listening on $port"
exec nc -ll -p "$port" -e /bin/zap-api
"""
ZAP_API = r"""#!/bin/sh
read -r method target proto
key=""
while read -r line; do
  line=$(echo "$line" | tr -d '\r')
  [ -z "$line" ] && break
  case "$line" in [Xx]-[Zz][Aa][Pp]-[Aa][Pp][Ii]-[Kk][Ee][Yy]:*)
    key=$(echo "${line#*:}" | tr -d ' ') ;; esac
done
answer() {
  printf 'HTTP/1.1 %s\r\nContent-Type: application/json\r\nContent-Length: %s\r\n' "$1" "${#2}"
  printf 'Connection: close\r\n\r\n%s' "$2"
}
[ "$key" = "$ZAP_KEY" ] || { answer "403 Forbidden" '{"code": "bad_api_key"}'; exit 0; }
query=${target#*\?}
param() { httpd -d "$(echo "$query" | sed -n "s/^\(.*&\)*$1=\([^&]*\).*$/\2/p")"; }
case "$target" in
  http://zap/JSON/core/view/version/*) answer "200 OK" '{"version": "2.16.0"}' ;;
  http://zap/JSON/spider/action/scan/*)
    url=$(param url)
    page=$(wget -q -O - "$url" | head -c 40 | tr -d '"\\\r\n')  # from inside the container
    echo "$url|$page" >> /tmp/spidered
    answer "200 OK" '{"scan": "1"}' ;;
  http://zap/JSON/spider/view/status/*) answer "200 OK" '{"status": "100"}' ;;
  http://zap/JSON/pscan/view/recordsToScan/*) answer "200 OK" '{"recordsToScan": "0"}' ;;
  http://zap/JSON/core/view/alerts/*)
    base=$(param baseurl)
    page=$(grep -F "$base|" /tmp/spidered | head -1 | cut -d'|' -f2-)
    if [ "$(param start)" = 0 ] && [ -n "$page" ]; then
      answer "200 OK" "{\"alerts\": [{\"alert\": \"Missing Anti-clickjacking Header\", \
\"risk\": \"Medium\", \"confidence\": \"Medium\", \"url\": \"$base\", \"pluginId\": \"10020\", \
\"alertRef\": \"10020-1\", \"evidence\": \"$page\"}]}"
    else
      answer "200 OK" '{"alerts": []}'
    fi ;;
  *) answer "400 Bad Request" '{"code": "bad_view", "message": "not in the stand-in"}' ;;
esac
"""
ZAP_DOCKERFILE = f"""\
FROM {BUSYBOX_IMAGE}
COPY zap.sh /bin/zap.sh
COPY zap-api /bin/zap-api
RUN ["chmod", "755", "/bin/zap.sh", "/bin/zap-api"]
RUN ["mkdir", "-m", "1777", "/tmp"]
"""
BROKEN_ZAP_DOCKERFILE = f"""\
FROM {BUSYBOX_IMAGE}
RUN ["sh", "-c", "printf '#!/bin/sh\\\\necho Error: no Java runtime found >&2\\\\nexit 1\\\\n' \
> /bin/zap.sh && chmod 755 /bin/zap.sh"]
"""


@pytest.fixture(scope="module")
def zap_images(docker_client, busybox_image) -> Iterator[tuple[str, str]]:
    """(a ZAP stand-in image, an image whose ZAP stops at once), built from busybox."""
    from tests.conftest import build_context

    tag = f"thesis-test/zap-standin:{unique_slug()[-10:]}"
    broken = f"{tag}-broken"
    context = build_context(ZAP_DOCKERFILE, {"zap.sh": ZAP_SH.encode(),
                                             "zap-api": ZAP_API.encode()})  # fmt: skip
    docker_client.images.build(fileobj=context, custom_context=True, tag=tag, rm=True)
    context = build_context(BROKEN_ZAP_DOCKERFILE, {})
    docker_client.images.build(fileobj=context, custom_context=True, tag=broken, rm=True)
    yield tag, broken
    for image in (tag, broken):
        docker_client.images.remove(image, force=True)


def zap_containers(docker_client, image: str) -> list:
    """ZAP containers of this test's image: another session's ZAP containers are not ours."""
    filters = {"label": "thesis.role=zap", "ancestor": image}
    return docker_client.containers.list(all=True, filters=filters)


class TestZapContainer:
    @pytest.fixture
    def analyse_with(self, app, docker_client, monkeypatch):
        """Analyse with no THESIS_ZAP_URL and this ZAP image; no ZAP container is left."""

        def run(image: str) -> tuple[TaskResult, list[str]]:
            monkeypatch.delenv("THESIS_ZAP_URL", raising=False)
            monkeypatch.setenv("THESIS_ZAP_IMAGE", image)
            outcome = analyse(app)
            assert zap_containers(docker_client, image) == []
            return outcome

        return run

    def test_without_a_zap_url_a_container_of_the_zap_image_scans_and_is_removed(
        self, app, zap_images, analyse_with
    ) -> None:
        result, lines = analyse_with(zap_images[0])
        assert result.status == AnalysisStatus.COMPLETED, result.error
        assert result.summary["scanner"] == "zap" and result.summary["total_findings"] == 2
        findings = get_analysis(app.db, result.task_id).findings
        # ZAP in its container reached both services on 127.0.0.1 (the host's network).
        assert {f.file: f.code for f in findings} == {
            app.frontend: f"frontend of {app.slug} app 1",
            app.backend: "<html><body><a href=/cgi-bin/search?nam",
        }
        assert all(f.rule_id == "10020-1" and f.severity == "medium" for f in findings)
        row = zap_row(app, result.task_id)
        assert (row.scan_type, row.alerts_count, row.medium_risk_count) == ("baseline", 2, 2)
        assert row.results["metrics"]["container"] == zap_images[0]
        assert any(line.startswith(f"-- ZAP: starting {zap_images[0]}") for line in lines)
        assert any(line.endswith("removed") for line in lines)
        stored = stored_text(result.task_id, app)
        assert "api.key" not in stored and not re.search(r"\b[0-9a-f]{32}\b", stored)  # key

    def test_a_zap_container_that_stops_at_once_fails_the_task_with_its_last_line(
        self, app, zap_images, analyse_with
    ) -> None:
        result, _ = analyse_with(zap_images[1])
        assert result.status == AnalysisStatus.FAILED
        assert result.error == (
            "ZAP's container stopped before it answered: Error: no Java runtime found"
        )
        assert zap_row(app, result.task_id) is None
