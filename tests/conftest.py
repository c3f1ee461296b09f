"""Shared fixtures: isolated settings, real SQLite and PostgreSQL databases, a real Docker
engine. Tests needing PostgreSQL or Docker skip with the reason when those are absent, and
fail instead when THESIS_TEST_REQUIRE_SERVICES=1 (CI sets it)."""

from __future__ import annotations

import contextlib
import getpass
import io
import os
import shutil
import socket
import subprocess
import sys
import tarfile
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from tests.analysis_apps import fake_tool, write_clean_app, write_vulnerable_app
from tui.db import Database, open_database

REQUIRE_SERVICES = os.environ.get("THESIS_TEST_REQUIRE_SERVICES", "") not in ("", "0", "false")
POSTGRES_URL = os.environ.get("THESIS_TEST_POSTGRES_URL", "")
BUSYBOX_IMAGE = "thesis-test/busybox:latest"
BUSYBOX_LABEL = "thesis-test"
SESSION_ID = uuid.uuid4().hex[:12]
"""Labels what this test session (one xdist worker) creates, so it removes only that."""


def unavailable(reason: str) -> None:
    """Skip on a user's machine; fail in CI, where every service must be there."""
    if REQUIRE_SERVICES:
        pytest.fail(f"{reason} (THESIS_TEST_REQUIRE_SERVICES is set, so this is a failure)")
    pytest.skip(reason)


@pytest.fixture
def default_ports(monkeypatch: pytest.MonkeyPatch) -> None:
    """The default port ranges, also in a parallel worker (which has ranges of its own)."""
    monkeypatch.delenv("THESIS_BACKEND_PORTS", raising=False)
    monkeypatch.delenv("THESIS_FRONTEND_PORTS", raising=False)


@pytest.fixture(autouse=True)
def isolated_settings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Every test gets its own data folder and no stray THESIS_* or .env settings."""
    for name in list(os.environ):
        if (
            name.startswith("THESIS_") and not name.startswith("THESIS_TEST_")
        ) or name == "OPENROUTER_API_KEY":
            monkeypatch.delenv(name)
    data_dir = tmp_path / "data"
    monkeypatch.setenv("THESIS_DATA_DIR", str(data_dir))
    for name, value in worker_port_ranges().items():
        monkeypatch.setenv(f"THESIS_{name.upper()}", value)
    monkeypatch.chdir(tmp_path)
    return data_dir


def worker_port_ranges() -> dict[str, str]:
    """This xdist worker's host port ranges (none outside xdist: the defaults).

    Parallel workers start containers at once: each allocates host ports from ranges of its
    own, below the ephemeral range and apart from test_ports' random blocks. Module-scoped
    fixtures, which run before the autouse settings fixture, pass these explicitly.
    """
    worker = os.environ.get("PYTEST_XDIST_WORKER", "")
    if not (worker.startswith("gw") and worker[2:].isdigit()):
        return {}
    base = 10_000 + 2_000 * int(worker[2:])
    return {
        "backend_ports": f"{base}-{base + 999}",
        "frontend_ports": f"{base + 1000}-{base + 1999}",
    }


# --- databases -------------------------------------------------------------------------


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'test.db'}"


@pytest.fixture
def postgres_url() -> Iterator[str]:
    """A URL on the PostgreSQL test database whose search_path is a fresh, private schema."""
    if not POSTGRES_URL:
        unavailable(
            "PostgreSQL tests need THESIS_TEST_POSTGRES_URL, e.g. "
            "postgresql+psycopg://postgres@127.0.0.1:5432/test"
        )
    schema = f"t_{uuid.uuid4().hex[:12]}"
    admin = create_engine(POSTGRES_URL, connect_args={"connect_timeout": 5})
    try:
        with admin.begin() as conn:
            conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    except Exception as exc:  # any failure means "not reachable"
        admin.dispose()
        unavailable(
            f"PostgreSQL at {make_url(POSTGRES_URL).render_as_string()} is not reachable: "
            f"{str(exc).splitlines()[0]}"
        )
    url = make_url(POSTGRES_URL).update_query_dict({"options": f"-csearch_path={schema}"})
    try:
        yield url.render_as_string(hide_password=False)
    finally:
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


@pytest.fixture(params=["sqlite", "postgres"])
def db_url(request: pytest.FixtureRequest) -> str:
    """The same test on an SQLite file and on a private PostgreSQL schema."""
    return request.getfixturevalue(f"{request.param}_url")


@pytest.fixture
def db(db_url: str) -> Iterator[Database]:
    database = open_database(db_url)
    yield database
    database.dispose()


@pytest.fixture
def sqlite_db(sqlite_url: str) -> Iterator[Database]:
    database = open_database(sqlite_url)
    yield database
    database.dispose()


# --- docker ----------------------------------------------------------------------------


@pytest.fixture(scope="session")
def docker_client():
    import docker

    try:
        client = docker.from_env(timeout=60)
        client.ping()
    except Exception as exc:  # any failure means "no engine"
        reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        unavailable(f"no Docker engine answers ({reason})")
    else:
        yield client
        mine = {"label": f"{BUSYBOX_LABEL}={SESSION_ID}"}
        for container in client.containers.list(all=True, filters=mine):
            container.remove(force=True)
        client.close()


@pytest.fixture(scope="session")
def ssh_engine(tmp_path_factory, docker_client) -> Iterator[dict[str, str]]:
    """This machine's engine as a remote one: `THESIS_DOCKER_HOST=ssh://root@127.0.0.1:P`
    through a real OpenSSH server of the session's own (loopback, a free port, its own host
    key, our key the only one it accepts) and `HOME` holding the client's key and
    known_hosts: the environment for `thesis` processes. Nothing of the machine's SSH set-up
    is read or changed."""
    sshd = shutil.which("sshd") or "/usr/sbin/sshd"
    keygen = shutil.which("ssh-keygen")
    if not os.access(sshd, os.X_OK) or keygen is None:
        unavailable("ssh:// engine tests need OpenSSH (apt-get install openssh-server)")
    base = tmp_path_factory.mktemp("sshd")
    home = base / "home"
    (home / ".ssh").mkdir(parents=True, mode=0o700)
    for key in (base / "host_key", home / ".ssh" / "id_ed25519"):
        subprocess.run([keygen, "-q", "-t", "ed25519", "-N", "", "-f", str(key)], check=True)
    (base / "authorized_keys").write_text((home / ".ssh" / "id_ed25519.pub").read_text())
    port = free_port()
    host_key = (base / "host_key.pub").read_text().split()[:2]
    (home / ".ssh" / "known_hosts").write_text(f"[127.0.0.1]:{port} {' '.join(host_key)}\n")
    user = getpass.getuser()
    (base / "sshd_config").write_text(
        f"Port {port}\nListenAddress 127.0.0.1\nHostKey {base / 'host_key'}\n"
        f"AuthorizedKeysFile {base / 'authorized_keys'}\nPidFile {base / 'sshd.pid'}\n"
        "UsePAM no\nPasswordAuthentication no\nKbdInteractiveAuthentication no\n"
        "PermitRootLogin prohibit-password\nStrictModes no\n"
    )
    log = base / "sshd.log"
    server = subprocess.Popen([sshd, "-D", "-e", "-f", str(base / "sshd_config")],
                              stdout=subprocess.DEVNULL, stderr=log.open("w"))  # fmt: skip
    deadline = time.monotonic() + 10
    while server.poll() is None and time.monotonic() < deadline:
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 1):
            break
        time.sleep(0.05)  # polled with a deadline: sshd is another process
    else:
        server.kill()
        server.wait()
        unavailable(f"sshd did not start: {log.read_text().strip()[-300:]}")
    try:
        yield {"THESIS_DOCKER_HOST": f"ssh://{user}@127.0.0.1:{port}", "HOME": str(home)}
    finally:
        server.terminate()
        server.wait(10)


def busybox_binary() -> Path:
    for candidate in ("/bin/busybox", "/usr/bin/busybox"):
        path = Path(candidate)
        if path.exists():
            return path
    found = shutil.which("busybox")
    if not found:
        unavailable("busybox is not installed (apt-get install busybox-static)")
    return Path(found)  # type: ignore[arg-type]


def build_context(dockerfile: str, files: dict[str, bytes | Path]) -> io.BytesIO:
    """A tar build context holding the Dockerfile and the given files."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as tar:
        entries: dict[str, bytes | Path] = {"Dockerfile": dockerfile.encode(), **files}
        for name, content in entries.items():
            if isinstance(content, Path):
                info = tar.gettarinfo(str(content), arcname=name)
                with content.open("rb") as handle:
                    tar.addfile(info, handle)
            else:
                info = tarfile.TarInfo(name)
                info.size = len(content)
                info.mode = 0o644
                tar.addfile(info, io.BytesIO(content))
    buffer.seek(0)
    return buffer


BUSYBOX_DOCKERFILE = """\
FROM scratch
COPY busybox /bin/busybox
RUN ["/bin/busybox", "--install", "-s", "/bin"]
"""


@pytest.fixture(scope="session")
def busybox_image(docker_client) -> str:
    """A `FROM scratch` image with the static busybox (sh, httpd), built locally."""
    context = build_context(BUSYBOX_DOCKERFILE, {"busybox": busybox_binary()})
    docker_client.images.build(fileobj=context, custom_context=True, tag=BUSYBOX_IMAGE, rm=True)
    return BUSYBOX_IMAGE


# --- a small, fixed catalogue for UI tests ---------------------------------------------

FIXED_TIME = datetime(2026, 11, 1, 9, 30, tzinfo=UTC)


def seed_demo(database: Database) -> None:
    """Three models, four apps with ports, two analyses, one paused batch job of eight
    tasks; fixed clocks."""
    from tui.db.models import (
        AnalysisStatus,
        AnalysisTask,
        AnalysisType,
        AppStatus,
        BatchJob,
        BatchTask,
        GeneratedApplication,
        JobStatus,
        ModelCapability,
        PortAllocation,
        TaskStatus,
    )

    t = FIXED_TIME
    models = [
        ("anthropic_claude-3.5-sonnet", "anthropic", "Claude 3.5 Sonnet", 200_000, 3.0, 15.0),
        ("openai_gpt-4o-mini", "openai", "GPT-4o mini", 128_000, 0.15, 0.6),
        ("meta-llama_llama-3.1-8b-instruct", "meta-llama", "Llama 3.1 8B", 131_072, 0.0, 0.0),
    ]
    with database.session() as s:
        for slug, provider, name, context, p_in, p_out in models:
            s.add(
                ModelCapability(
                    model_id=slug,
                    canonical_slug=slug,
                    provider=provider,
                    display_name=name,
                    model_name=slug.split("_", 1)[1],
                    context_length=context,
                    pricing_prompt=p_in,
                    pricing_completion=p_out,
                    is_free=p_in == 0,
                    supports_vision=provider == "anthropic",
                    supports_function_calling=True,
                    supports_streaming=True,
                    supports_json_mode=provider == "openai",
                    created_at=t,
                    updated_at=t,
                )
            )
        s.flush()
        apps = [
            ("anthropic_claude-3.5-sonnet", 1, AppStatus.RUNNING),
            ("anthropic_claude-3.5-sonnet", 2, AppStatus.STOPPED),
            ("openai_gpt-4o-mini", 1, AppStatus.NOT_CREATED),
            ("openai_gpt-4o-mini", 2, AppStatus.NO_COMPOSE),
        ]
        rows = []
        for index, (slug, number, status) in enumerate(apps):
            app = GeneratedApplication(
                model_slug=slug,
                app_number=number,
                status=status,
                created_at=t,
                updated_at=t,
                last_status_check=t if status == AppStatus.RUNNING else None,
            )
            s.add(app)
            rows.append(app)
            s.add(
                PortAllocation(
                    model_name=slug,
                    app_number=number,
                    backend_port=5001 + index,
                    frontend_port=8001 + index,
                    allocated_at=t,
                )
            )
        s.flush()
        s.add_all(
            [
                AnalysisTask(
                    task_id="sec-0001",
                    application_id=rows[0].id,
                    task_type=AnalysisType.SECURITY,
                    status=AnalysisStatus.COMPLETED,
                    progress=100,
                    created_at=t,
                    started_at=t,
                    completed_at=t + timedelta(seconds=12.5),
                    summary={"total_findings": 7},
                ),
                AnalysisTask(
                    task_id="perf-0002",
                    application_id=rows[1].id,
                    task_type=AnalysisType.PERFORMANCE,
                    status=AnalysisStatus.FAILED,
                    created_at=t + timedelta(minutes=1),
                    started_at=t + timedelta(minutes=1),
                    completed_at=t + timedelta(minutes=3, seconds=5),
                    error_message="backend did not answer",
                ),
                BatchJob(
                    name="nightly security",
                    status=JobStatus.PAUSED,
                    progress=40,
                    total_tests=8,
                    completed_tests=4,
                    failed_tests=1,
                    created_at=t,
                    updated_at=t,
                    tasks=[
                        BatchTask(
                            model_name=slug,
                            app_number=number,
                            test_type=kind,
                            status=status,
                            attempts=0 if status == TaskStatus.PENDING else 1,
                            error_message="bandit: exit 2" if status == TaskStatus.FAILED else None,
                            created_at=t,
                        )
                        for (slug, number, _), (kind, status) in zip(
                            apps * 2,
                            [(AnalysisType.SECURITY, TaskStatus.COMPLETED)] * 4
                            + [(AnalysisType.QUALITY, TaskStatus.FAILED)]
                            + [(AnalysisType.QUALITY, TaskStatus.PENDING)] * 3,
                            strict=True,
                        )
                    ],
                ),
            ]
        )


@pytest.fixture
def demo_db(sqlite_db: Database) -> Database:
    seed_demo(sqlite_db)
    return sqlite_db


LONG_SLUGS = [
    # Real OpenRouter slugs, as a study's catalogue holds them.
    "google_gemini-2.0-flash-thinking-exp-1219_free",
    "deepseek_deepseek-r1-distill-qwen-32b",
    "meta-llama_llama-3.1-405b-instruct",
    "nousresearch_hermes-3-llama-3.1-405b",
    "openai_gpt-4o-mini",
]


@pytest.fixture()
def long_slugs_db(sqlite_db: Database) -> Database:
    """Five models with real-world long slugs, three apps each, analyses with long ids."""
    from sqlalchemy import insert, select

    from tui.db.models import AnalysisTask, GeneratedApplication, ModelCapability, PortAllocation

    t = FIXED_TIME
    kinds = ["security", "performance", "ai_review", "smoke", "quality", "zap"]
    with sqlite_db.write_session() as s:
        s.execute(insert(ModelCapability), [
            {"model_id": slug, "canonical_slug": slug, "provider": slug.split("_")[0],
             "display_name": slug.split("_", 1)[1].replace("-", " ").title(),
             "model_name": slug.split("_", 1)[1], "context_length": 131_072,
             "pricing_prompt": 0.15 * i, "pricing_completion": 0.6 * i,
             "supports_streaming": True, "supports_json_mode": i % 2 == 0,
             "created_at": t, "updated_at": t}
            for i, slug in enumerate(LONG_SLUGS)
        ])  # fmt: skip
        apps = [(slug, n) for slug in LONG_SLUGS for n in (1, 2, 3)]
        s.execute(insert(GeneratedApplication), [
            {"model_slug": slug, "app_number": n,
             "status": ["running", "stopped", "not_created"][n % 3],
             "created_at": t, "updated_at": t, "last_status_check": t}
            for slug, n in apps
        ])  # fmt: skip
        s.execute(insert(PortAllocation), [
            {"model_name": slug, "app_number": n, "backend_port": 5001 + i,
             "frontend_port": 8001 + i, "allocated_at": t}
            for i, (slug, n) in enumerate(apps)
        ])  # fmt: skip
        ids = list(s.scalars(select(GeneratedApplication.id).order_by(GeneratedApplication.id)))
        s.execute(insert(AnalysisTask), [
            {"task_id": f"{kinds[i % 6]}-20261101-093000-{i:04d}-7f3a9c",
             "application_id": ids[i % len(ids)], "task_type": kinds[i % 6],
             "status": ["completed", "failed", "completed", "running"][i % 4], "progress": 100,
             "created_at": t + timedelta(minutes=i), "started_at": t + timedelta(minutes=i),
             "completed_at": t + timedelta(minutes=i, seconds=41) if i % 4 != 3 else None,
             "issues_found": (i * 7) % 23 if kinds[i % 6] in ("security", "quality") else 0,
             "summary": _fixed_summary(kinds[i % 6], i) if i % 4 in (0, 2) else None}
            for i in range(18)
        ])  # fmt: skip
    return sqlite_db


def _fixed_summary(kind: str, i: int) -> dict[str, Any]:
    """What a completed analysis of `kind` says of itself (the Result column shows it)."""
    return {
        "security": {"total_findings": (i * 7) % 23},
        "quality": {"total_findings": (i * 7) % 23},
        "zap": {"total_findings": i % 5},
        "performance": {"requests_per_second": 1200.0 + i, "p95_ms": 20, "error_rate": 0.0},
        "ai_review": {"score": 60 + i, "requirements_met": "3/4"},
        "smoke": {"healthy": "2/2"},
    }[kind]


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    import socket

    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def thesis(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    """`thesis ARGS` in a real process, with `env` added to ours."""
    return subprocess.run(
        [sys.executable, "-m", "tui", *args],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        env={**os.environ, **env},
    )


def point_results(db: Database, path: Path, task_id: str = "sec-0001") -> None:
    """Make the analysis `task_id` read its results from `path`."""
    from sqlalchemy import update

    from tui.db.models import AnalysisTask

    with db.write_session() as session:
        session.execute(
            update(AnalysisTask)
            .where(AnalysisTask.task_id == task_id)
            .values(results_path=str(path))
        )


def assert_one_line_error(result, *needles: str) -> str:
    """A CLI failure as users must see it: exit 1, one line on stderr, no traceback."""
    assert result.returncode == 1, result
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    for needle in needles:
        assert needle in lines[0]
    return lines[0]


# --- generated apps that run in Docker -------------------------------------------------

BACKEND_DOCKERFILE = f"""\
FROM {BUSYBOX_IMAGE}
COPY index.html /www/index.html
CMD ["sh", "-c", "echo backend starting; exec httpd -f -v -p 5000 -h /www"]
"""
FRONTEND_DOCKERFILE = f"""\
FROM {BUSYBOX_IMAGE}
COPY index.html /www/index.html
CMD ["httpd", "-f", "-v", "-p", "80", "-h", "/www"]
"""
APP_COMPOSE = """\
services:
  backend:
    build: ./backend
    ports: ["5000:5000"]
    environment: [GREETING=hello]
  frontend:
    build: {context: ./frontend}
    ports: ["3000:80"]
    depends_on: [backend]
"""


def write_container_app(
    root: Path,
    slug: str,
    number: int = 1,
    *,
    compose: str = APP_COMPOSE,
    backend_dockerfile: str = BACKEND_DOCKERFILE,
) -> Path:
    """`<root>/<slug>/app<N>/`: a backend and a frontend served by busybox httpd."""
    app = root / slug / f"app{number}"
    for part, dockerfile in (("backend", backend_dockerfile), ("frontend", FRONTEND_DOCKERFILE)):
        (app / part).mkdir(parents=True, exist_ok=True)
        (app / part / "Dockerfile").write_text(dockerfile)
        (app / part / "index.html").write_text(f"{part} of {slug} app {number}\n")
    (app / "docker-compose.yml").write_text(compose)
    return app


class SocketProxy:
    """What a forwarding socket does: pump both ways, and `cut()` every end at once."""

    sockets: list[socket.socket]

    @staticmethod
    def _pump(source: socket.socket, sink: socket.socket) -> None:
        try:
            while data := source.recv(65536):
                sink.sendall(data)
        except OSError:
            pass
        finally:
            for end in (source, sink):
                with contextlib.suppress(OSError):
                    end.shutdown(socket.SHUT_RDWR)

    def _forward(self, client: socket.socket, upstream: socket.socket) -> None:
        self.sockets += [client, upstream]
        for source, sink in ((client, upstream), (upstream, client)):
            threading.Thread(target=self._pump, args=(source, sink), daemon=True).start()

    def cut(self) -> None:
        for end in self.sockets:
            with contextlib.suppress(OSError):
                end.shutdown(socket.SHUT_RDWR)
            end.close()


class EngineProxy(SocketProxy):
    """A unix socket that forwards to the real engine until `cut()`: the engine going away
    under a running command, without touching the engine other tests use."""

    @classmethod
    def to_the_engine(cls, path: Path) -> EngineProxy:
        host = os.environ.get("DOCKER_HOST", "unix:///var/run/docker.sock")
        if not host.startswith("unix://"):
            pytest.skip("the engine is not on a unix socket here")
        return cls(str(path), host.removeprefix("unix://"))

    def __init__(self, path: str, engine: str) -> None:
        self.engine = engine
        self.server = socket.socket(socket.AF_UNIX)
        self.server.bind(path)
        self.server.listen()
        self.sockets: list[socket.socket] = [self.server]
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self.server.accept()
            except OSError:
                return
            upstream = socket.socket(socket.AF_UNIX)
            upstream.connect(self.engine)
            self._forward(client, upstream)


def unique_slug() -> str:
    """A model slug no other test (or earlier run) uses: container names derive from it."""
    return f"testprov_m{uuid.uuid4().hex[:10]}"


def remove_docker_objects(client, slug: str) -> None:
    """Everything the container service made for `slug`: containers, networks, images."""
    label = {"label": f"thesis.model={slug}"}
    for container in client.containers.list(all=True, filters=label):
        container.remove(force=True)
    for network in client.networks.list(filters=label):
        network.remove()
    for image in client.images.list(filters=label):
        client.images.remove(image.id, force=True)


class StandInHandler(BaseHTTPRequestHandler):
    """Base of the stand-ins' handlers: quiet, and one way to send an answer."""

    server: Any

    def reply(self, status: int, body: bytes, headers: dict[str, str]) -> None:
        self.send_response(status)
        for name, value in headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *_args: Any) -> None:
        pass


@contextmanager
def loopback_server(handler: type[BaseHTTPRequestHandler], standin: object) -> Iterator[str]:
    """Serve `handler` on 127.0.0.1 (its server carries `standin`); yields the base URL."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    server.standin = standin  # type: ignore[attr-defined]
    # A short poll interval: shutdown() waits up to one interval (0.5 s by default).
    thread = threading.Thread(target=server.serve_forever, args=(0.02,), daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


# --- batch studies ---------------------------------------------------------------------

STUDY_MODELS = ("acme_a", "acme_b")


@pytest.fixture
def study(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Two models with three apps each (a vulnerable app, a clean one, a vulnerable one)."""
    root = tmp_path / "apps"
    for slug in STUDY_MODELS:
        write_vulnerable_app(root, slug, 1)
        write_clean_app(root, slug, 2)
        write_vulnerable_app(root, slug, 3)
    monkeypatch.setenv("THESIS_APPS_DIR", str(root))
    return root


@pytest.fixture
def scripted(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, study: Path) -> Path:
    """An eslint that answers at once, except once when a `hang` file exists (from its second
    run on): then it removes the file, writes its pid to `eslint.pid` and hangs. One app per
    static run."""
    folder = tmp_path / "ctl"
    folder.mkdir()
    body = (
        f"echo x >> {folder}/count\n"
        f'if [ -e {folder}/hang ] && [ "$(wc -l < {folder}/count)" -ge 2 ]; then '
        f"rm -f {folder}/hang; echo $$ > {folder}/eslint.pid; exec sleep 120; fi\n"
        f"{folder}/pace 2>/dev/null\n"
        "echo '[]'"
    )
    monkeypatch.setenv("THESIS_ANALYZERS_DIR", str(fake_tool(tmp_path / "x", body)))
    monkeypatch.setenv("THESIS_BATCH_STATIC_APPS", "1")
    monkeypatch.setenv("THESIS_DATABASE_URL", f"sqlite:///{tmp_path / 'study.db'}")
    assert thesis("apps", "scan").returncode == 0
    return folder
