"""The functional test: an app's endpoints called as its template says — logged in with the
template's test user, writes with their example bodies, path parameters from earlier
answers — and each counted passed or failed with why."""

from __future__ import annotations

import json
from typing import Any

import pytest
from conftest import StandInHandler, loopback_server

from tui.services.analysis.functional import check_endpoints
from tui.services.generation.templates import load_templates

TODO = load_templates().get("todo-list").template


class HalfRightTodos:
    """A todo backend that gets 8 of the template's 11 endpoints right: GET /api/todos/{id}
    says `done` as text, the filter by done fails with 500, and the admin list is wrapped
    in an object."""

    def __init__(self, password: str = "T0do-admin-pw") -> None:  # noqa: S107
        self.password = password
        self.users: set[str] = {"admin"}
        self.calls: list[tuple[str, str, Any, str | None]] = []

    def answer(self, method: str, path: str, body: Any, auth: str | None) -> tuple[int, Any]:
        self.calls.append((method, path, body, auth))
        todo = {"id": 7, "title": "Write the thesis outline", "done": False, "due_date": None}
        if (method, path) == ("GET", "/api/health"):
            return 200, {"status": "ok"}
        if (method, path) == ("POST", "/api/auth/register"):
            if body["username"] in self.users:
                return 409, {"error": "taken"}
            self.users.add(body["username"])
            return 201, {"id": len(self.users), "username": body["username"]}
        if (method, path) == ("POST", "/api/auth/login"):
            if body == {"username": "admin", "password": self.password}:
                return 200, {"token": "tok-1", "user": {"id": 1, "username": "admin"}}
            return 401, {"error": "wrong password"}
        if auth != "Bearer tok-1":
            return 401, {"error": "log in"}
        answers = {
            ("GET", "/api/auth/me"): (200, {"id": 1, "username": "admin"}),
            ("POST", "/api/todos"): (201, todo),
            ("GET", "/api/todos"): (200, [todo]),
            ("GET", "/api/todos/7"): (200, {**todo, "done": "no"}),
            ("PUT", "/api/todos/7"): (200, {**todo, "done": True}),
            ("GET", "/api/todos?done=true"): (500, {"error": "boom"}),
            ("GET", "/api/admin/users"): (200, {"users": [{"id": 1, "username": "admin"}]}),
            ("DELETE", "/api/todos/7"): (204, None),
        }
        return answers.get((method, path), (404, {"error": "no such route"}))


class _Handler(StandInHandler):
    def _any(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = json.loads(self.rfile.read(length)) if length else None
        status, answer = self.server.standin.answer(
            self.command, self.path, body, self.headers.get("Authorization")
        )
        if isinstance(answer, bytes):  # as it is: not JSON, or JSON no parser reads
            data = answer
        else:
            data = b"" if answer is None else json.dumps(answer).encode()
        self.reply(status, data, {"Content-Type": "application/json"})

    do_GET = do_POST = do_PUT = do_DELETE = _any


def run(app: HalfRightTodos) -> tuple[list[Any], list[str]]:
    lines: list[str] = []
    with loopback_server(_Handler, app) as url:
        results = check_endpoints(url, TODO, lines.append)
    return results, lines


def test_each_endpoint_is_called_as_the_template_says_and_counted() -> None:
    app = HalfRightTodos()
    results, lines = run(app)
    passed = {r.endpoint: r.passed for r in results}
    assert sum(passed.values()) == 8 and len(results) == 11
    failed = {r.endpoint: r.problem for r in results if not r.passed}
    assert failed == {
        "GET /api/todos/{id}": "response.done: expected boolean, got string",
        "GET /api/todos?done=true": "status 500, expected 200",
        "GET /api/admin/users": "response: expected an array, got object",
    }
    # The todo's id came from the POST to /api/todos, not from the user registered before.
    assert [r.path for r in results if "{id}" in r.endpoint] == ["/api/todos/7"] * 3
    # Logged in once with the template's test user; its token on every call that needs it.
    logins = [c for c in app.calls if c[1] == "/api/auth/login"]
    assert logins[0][2] == {"username": "admin", "password": "T0do-admin-pw"}
    assert all(c[3] == "Bearer tok-1" for c in app.calls if c[1].startswith("/api/todos"))
    # Writes carry the template's example body.
    assert ("PUT", "/api/todos/7", {"done": True}, "Bearer tok-1") in app.calls
    assert any(line.startswith("FAIL GET /api/todos?done=true -> 500") for line in lines)


def test_a_second_run_registers_a_user_new_to_the_app() -> None:
    app = HalfRightTodos()
    first, _ = run(app)
    with loopback_server(_Handler, app) as url:
        second = check_endpoints(url, TODO, lambda _line: None)
    register = "POST /api/auth/register"
    assert [r.passed for r in first + second if r.endpoint == register] == [True, True]


def test_a_wrong_password_fails_every_endpoint_behind_the_login_and_says_why() -> None:
    results, _ = run(HalfRightTodos(password="something else"))
    assert [r.endpoint for r in results if r.passed] == [
        "GET /api/health",
        "POST /api/auth/register",
    ]
    me = next(r for r in results if r.endpoint == "GET /api/auth/me")
    assert me.problem == (
        "status 401, expected 200 (the login failed: /api/auth/login answered 401)"
    )


class HostileTodos(HalfRightTodos):
    """Answers made to break the tester: a token with a header in it, JSON nested 100,000
    deep, an answer of 5 MB."""

    def __init__(self, token: str) -> None:
        super().__init__()
        self.token = token

    def answer(self, method: str, path: str, body: Any, auth: str | None) -> tuple[int, Any]:
        if path == "/api/auth/login":
            self.calls.append((method, path, body, auth))
            return 200, {"token": self.token}
        if path == "/api/health":
            return 200, b"[" * 100_000 + b"]" * 100_000
        if (method, path) == ("GET", "/api/todos"):
            return 200, b'["' + b"x" * 5_000_000 + b'"]'
        return super().answer(method, path, body, auth)


@pytest.mark.parametrize("token", ["tok\r\nX-Admin: yes", "tök-1", "t" * 10_000])
def test_hostile_answers_fail_their_endpoints_and_nothing_else(token: str) -> None:
    results, lines = run(HostileTodos(token))
    problems = {r.endpoint: r.problem for r in results}
    assert problems["GET /api/health"] == "the answer is not JSON"
    assert problems["GET /api/todos"] == "the answer is over 1,000,000 bytes"
    assert problems["GET /api/auth/me"] == (
        "status 401, expected 200 (the login failed: /api/auth/login answered a 'token' no "
        "header can carry)"
    )
    assert problems["POST /api/auth/register"] == ""  # the rest is tested as ever
    assert len(results) == 11 and all("\n" not in line for line in lines)


def test_nothing_listening_fails_each_endpoint_with_no_answer() -> None:
    with loopback_server(_Handler, HalfRightTodos()) as url:
        pass  # the server is gone: its port refuses
    results = check_endpoints(url, TODO, lambda _line: None, timeout=2)
    assert not any(r.passed for r in results)
    assert results[0].problem == "no answer (ConnectError)" and results[0].status is None


@pytest.mark.parametrize("number", [1, 10, 30])
def test_our_templates_fill_every_path_parameter_from_a_post_before_it(number: int) -> None:
    """Against a backend that answers every POST with the ids a template's paths need."""
    template = load_templates().get(number).template

    class Echo:
        def answer(self, method: str, path: str, body: Any, auth: str | None):
            if path == "/api/auth/login":
                return 200, {"token": "t", "user": {"id": 1, "username": "admin"}}
            return 201 if method == "POST" else 200, {"id": 5, "code": "abc123"}

    with loopback_server(_Handler, Echo()) as url:
        results = check_endpoints(url, template, lambda _line: None)
    assert not [r for r in results if r.problem.startswith("no ")], results


# --- on the real Docker engine: a busybox app and a template of the user's ------------------

CGI = r"""#!/bin/sh
body=""
[ -n "$CONTENT_LENGTH" ] && body=$(head -c "$CONTENT_LENGTH")
reply() { echo "Status: $1"; echo "Content-Type: application/json"; echo ""; echo "$2"; exit 0; }
authed() { [ "$HTTP_AUTHORIZATION" = "Bearer tok-9" ]; }
case "$REQUEST_METHOD $PATH_INFO" in
  "GET /health") reply 200 '{"status": "ok"}' ;;
  "POST /login") case "$body" in *'"Cgi-pass-1"'*) reply 200 '{"token": "tok-9"}' ;; esac
                 reply 401 '{"error": "wrong password"}' ;;
  "GET /me") authed && reply 200 '{"id": 1, "username": "admin"}'; reply 401 '{}' ;;
  "POST /items") authed && reply 201 '{"id": 7, "name": "x"}'; reply 401 '{}' ;;
  "GET /items/7") authed && reply 200 '{"id": 7, "name": "x"}'; reply 401 '{}' ;;
  "GET /shape") reply 200 '{"id": "7"}' ;;
  "DELETE /items/7") reply 500 '{"error": "cannot"}' ;;
esac
reply 404 '{"error": "no route"}'
"""


def cgi_template() -> dict[str, Any]:
    """Eight endpoints, five of which the CGI app above gets right."""

    def endpoint(method: str, path: str, status: int, response: Any = None, **more: Any):
        return {"method": method, "path": f"/cgi-bin/api{path}", "description": path,
                "status": status, "response": response, **more}  # fmt: skip

    return {
        "number": 30, "slug": "cgi-items", "name": "CGI items", "category": "test",
        "description": "Items behind a login", "backend_requirements": ["items"],
        "frontend_requirements": ["none"],
        "login": {"path": "/cgi-bin/api/login", "token": "token",
                  "request": {"username": "{username}", "password": "{password}"}},
        "endpoints": [
            endpoint("GET", "/health", 200, {"status": "string"}),
            endpoint("POST", "/login", 200, {"token": "string"},
                     request={"username": "{username}", "password": "{password}"}),
            endpoint("GET", "/me", 200, {"id": "integer", "username": "string"}, auth=True),
            endpoint("POST", "/items", 201, {"id": "integer"}, auth=True, request={"name": "x"}),
            endpoint("GET", "/items/{id}", 200, {"id": "integer"}, auth=True),
            endpoint("GET", "/shape", 200, {"id": "integer"}),
            endpoint("GET", "/missing", 200),
            endpoint("DELETE", "/items/{id}", 204, auth=True),
        ],
        "data_model": [{"name": "Item", "fields": {"name": "string"}}],
        "credentials": {"username": "admin", "password": "Cgi-pass-1"},
    }  # fmt: skip


def test_thesis_analyze_functional_counts_a_running_apps_endpoints(
    tmp_path, docker_client, busybox_image, sqlite_db, monkeypatch
) -> None:
    import yaml
    from conftest import (
        BUSYBOX_IMAGE,
        remove_docker_objects,
        thesis,
        unique_slug,
        write_container_app,
    )

    from tui.services.analyses import get_analysis
    from tui.services.scanner import scan_apps

    templates = tmp_path / "templates"
    templates.mkdir()
    (templates / "cgi.yaml").write_text(yaml.safe_dump(cgi_template()))
    slug = unique_slug()
    dockerfile = (f"FROM {BUSYBOX_IMAGE}\nCOPY index.html /www/index.html\n"
                  "COPY api /www/cgi-bin/api\nRUN [\"chmod\", \"755\", \"/www/cgi-bin/api\"]\n"
                  'CMD ["httpd", "-f", "-v", "-p", "5000", "-h", "/www"]\n')  # fmt: skip
    folder = write_container_app(tmp_path / "apps", slug, backend_dockerfile=dockerfile)
    (folder / "backend" / "api").write_text(CGI)
    # App 2's backend exits at once: it answers nothing, and that is its result.
    exits = f'FROM {BUSYBOX_IMAGE}\nCMD ["sh", "-c", "echo no database; exit 3"]\n'
    write_container_app(tmp_path / "apps", slug, 2, backend_dockerfile=exits)
    scan_apps(sqlite_db, tmp_path / "apps")
    env = {"THESIS_DATABASE_URL": sqlite_db.engine.url.render_as_string(hide_password=False),
           "THESIS_TEMPLATES_DIR": str(templates)}  # fmt: skip
    try:
        no_template = thesis("analyze", slug, "1", "--type", "functional", **env)
        assert no_template.returncode == 1
        assert "was not generated from a template" in no_template.stderr
        unknown = thesis("analyze", slug, "1", "--type", "functional", "--template", "nope", **env)
        assert unknown.returncode == 1 and "No template 'nope'" in unknown.stderr
        done = thesis("analyze", slug, "1", "--type", "functional", "--template", "cgi-items",
                      **env)  # fmt: skip
        assert done.returncode == 0, done.stderr
        dead = thesis("analyze", slug, "2", "--type", "functional", "--template", "cgi-items",
                      **env)  # fmt: skip
        assert dead.returncode == 1
        assert "the app did not start:" in dead.stderr and "exited at once" in dead.stderr
    finally:
        thesis("containers", "stop", slug, "1", **env)
        remove_docker_objects(docker_client, slug)
    from tui.services.analyses import list_analyses

    (row,) = [r for r in list_analyses(sqlite_db, limit=None).rows
              if r.task_type == "functional" and r.status == "completed"]  # fmt: skip
    assert row.summary["endpoints_passed"] == "5/8" and row.summary["template"] == "cgi-items"
    detail = get_analysis(sqlite_db, row.task_id)
    assert detail.results is not None, (detail.results_path, detail.results_error)
    results = detail.results["metrics"]["checks"]
    failed = {r["endpoint"]: r["problem"] for r in results if not r["passed"]}
    assert failed == {
        "GET /cgi-bin/api/shape": "response.id: expected integer, got string",
        "GET /cgi-bin/api/missing": "status 404, expected 200",
        "DELETE /cgi-bin/api/items/{id}": "status 500, expected 204",
    }
    assert {r["path"] for r in results if "{id}" in r["endpoint"]} == {"/cgi-bin/api/items/7"}
    # The comparison counts the app that did not start as 0 of 8, beside app 1's 5 of 8.
    from tui.services.reports.compare import model_report

    passed = model_report(sqlite_db, models=[slug]).model(slug).metrics["functional.passed"]
    assert (passed.apps, passed.mean) == (2, pytest.approx((5 / 8 + 0) / 2))
