"""The functional test: does the running app do what its template asked?

Each endpoint of the template is called on the app's backend, in the template's order, with
its example request, and passes when the status is the expected one and the JSON answer has
the expected shape. What the predecessor got wrong, done right: the test logs in first —
with the template's test user, whom the scaffold hands the app — wherever an endpoint needs
it, and sends the token (or keeps the session cookie); writes carry their example body; a
path parameter (`/api/todos/{id}`) is filled from the answer of the last POST to its
collection (`/api/todos`). Only the app's own port on 127.0.0.1 is ever called.

The template is the option's (`--template SLUG`, for apps scanned from elsewhere) or the one
the app was generated from (its generation metadata).

An app that does not build, or whose service exits at once, passes none: the analysis fails
with that reason and a summary of 0 passed, which reports read (a model whose apps do not
start must not look better for it). A failure of ours (no Docker engine, a busy port) has
no summary: no result.
"""

from __future__ import annotations

import asyncio
import json
import uuid
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from sqlalchemy import select

from tui.db.tables import AnalysisStatus, generated_applications
from tui.errors import AppStartError, ComposeError, ScanError, ThesisError
from tui.services.analysis.contract import Outcome, TaskRef
from tui.services.generation.templates import Endpoint, Template, load_templates, match_shape

if TYPE_CHECKING:
    from tui.services.analysis.contract import AnalysisContext
    from tui.services.container_logs import ActionLog

REQUEST_TIMEOUT = 10.0
"""Seconds each endpoint may take to answer."""
MAX_ANSWER = 1_000_000
"""Bytes of an answer read; a longer one fails its endpoint (an app's answer is untrusted)."""


@dataclass(frozen=True)
class EndpointResult:
    endpoint: str
    """As the template names it, e.g. `GET /api/todos/{id}`."""
    path: str
    """As called, parameters filled in."""
    expected: int
    status: int | None
    passed: bool
    problem: str


def check_template_option(db: Any, settings: Any, options: dict[str, Any]) -> None:
    """Refuse a --template that names no template, before anything is stored."""
    name = str(options.get("template") or "").strip()
    if name:
        load_templates(settings.templates_dir).get(name)


def template_for(db: Any, settings: Any, ref: TaskRef) -> Template:
    """The option's template, else the one the app was generated from."""
    catalogue = load_templates(settings.templates_dir)
    name = str(ref.config.get("template") or "").strip()
    if name:
        return catalogue.get(name).template
    g = generated_applications.c
    with db.read() as connection:
        metadata = connection.scalar(
            select(g.generation_metadata).where(g.id == ref.application_id)
        )
    slug = metadata.get("template") if isinstance(metadata, dict) else None
    if not isinstance(slug, str) or not slug:
        raise ThesisError(
            f"{ref.model_slug} app {ref.app_number} was not generated from a template: give it "
            "one (--template SLUG, or Template in the form)"
        )
    return catalogue.get(slug).template


async def run_functional(service: AnalysisContext, ref: TaskRef, log: ActionLog) -> Outcome:
    from tui.services.analysis.kinds import ensure_running

    template = await asyncio.to_thread(template_for, service.db, service.settings, ref)
    try:
        target = await ensure_running(service, ref, log)
    except (AppStartError, ComposeError) as exc:  # the app's own failure: its result
        return Outcome(
            AnalysisStatus.FAILED, error=f"the app did not start: {exc.msg}",
            summary=_summary(0, len(template.endpoints), template),
        )  # fmt: skip
    if target.backend_port is None:
        raise ScanError(f"{ref.model_slug} app {ref.app_number} has no backend port to test")
    here = await asyncio.to_thread(service.containers.local_port, target.backend_port)
    log(f"-- checking {len(template.endpoints)} endpoints of template {template.number} "
        f"({template.slug}) on 127.0.0.1:{here}")  # fmt: skip
    results = await asyncio.to_thread(check_endpoints, f"http://127.0.0.1:{here}", template, log)
    passed = sum(result.passed for result in results)
    return Outcome(
        summary=_summary(passed, len(results), template),
        metrics={"checks": [asdict(r) for r in results]},
    )


def _summary(passed: int, endpoints: int, template: Template) -> dict[str, Any]:
    return {
        "endpoints_passed": f"{passed}/{endpoints}",
        "passed": passed,
        "endpoints": endpoints,
        "template": template.slug,
    }


def check_endpoints(
    base_url: str, template: Template, log: ActionLog, *, timeout: float = REQUEST_TIMEOUT
) -> list[EndpointResult]:
    """Call every endpoint of `template` on `base_url` in order; what each answered."""
    import httpx

    session = _Session(template)
    with httpx.Client(base_url=base_url, timeout=timeout, follow_redirects=False) as client:
        results = [session.check(client, endpoint) for endpoint in template.endpoints]
    for result in results:
        mark = "ok  " if result.passed else "FAIL"
        log(f"{mark} {result.endpoint} -> {result.status if result.status else 'no answer'}"
            + (f": {result.problem}" if result.problem else ""))  # fmt: skip
    return results


class _Session:
    """The state of one test run: the login, and what earlier answers made."""

    def __init__(self, template: Template) -> None:
        self.template = template
        self.token: str | None = None
        self.login_problem: str | None = None
        self.logged_in = False
        self.made: dict[tuple[str, str], Any] = {}
        """(collection path, field) -> its value in the last POST's answer."""
        self.seen: dict[str, Any] = {}
        self.run = uuid.uuid4().hex[:8]
        """Fills `{run}`: what one run registers is new to the app the next time."""

    def check(self, client: Any, endpoint: Endpoint) -> EndpointResult:
        import httpx

        path, missing = self._filled(endpoint)
        if missing:
            return self._result(endpoint, path, None, f"no {missing} to fill in: no earlier "
                                f"POST made one")  # fmt: skip
        headers = {}
        if endpoint.auth:
            if not self.logged_in and self.login_problem is None:
                self._login(client)
            if self.token:
                headers["Authorization"] = f"Bearer {self.token}"
        body = (
            self.template.filled(endpoint.request, self.run)
            if endpoint.request is not None
            else None
        )
        try:
            status, content = _send(client, endpoint.method, path, body, headers)
        except httpx.HTTPError as exc:
            return self._result(endpoint, path, None, f"no answer ({type(exc).__name__})")
        if content is None:
            return self._result(endpoint, path, status, f"the answer is over {MAX_ANSWER:,} bytes")
        answer = _json(content)
        self._remember(endpoint, path, answer)
        if status != endpoint.status:
            problem = f"status {status}, expected {endpoint.status}"
            if endpoint.auth and self.login_problem:
                problem += f" (the login failed: {self.login_problem})"
            return self._result(endpoint, path, status, problem)
        if endpoint.response is not None:
            if answer is _NOT_JSON:
                return self._result(endpoint, path, status, "the answer is not JSON")
            mismatch = match_shape(answer, endpoint.response)
            if mismatch:
                return self._result(endpoint, path, status, mismatch)
        return self._result(endpoint, path, status, "")

    def _login(self, client: Any) -> None:
        import httpx

        login = self.template.login
        if login is None:
            self.login_problem = "the template says no way to log in"
            return
        try:
            body = self.template.filled(login.request, self.run)
            status, content = _send(client, login.method, login.path, body, {})
        except httpx.HTTPError as exc:
            self.login_problem = f"no answer ({type(exc).__name__})"
            return
        if not 200 <= status < 300:
            self.login_problem = f"{login.path} answered {status}"
            return
        if login.token:
            answer = _json(content or b"")
            token = answer.get(login.token) if isinstance(answer, dict) else None
            if not isinstance(token, str) or not token:
                self.login_problem = f"{login.path} answered no {login.token!r}"
                return
            if not _sendable(token):
                self.login_problem = f"{login.path} answered a {login.token!r} no header can carry"
                return
            self.token = token
        self.logged_in = True  # a token, or the session cookie the client keeps

    def _filled(self, endpoint: Endpoint) -> tuple[str, str | None]:
        """The path with each parameter from the answer of the last POST to its collection
        (the path up to it, earlier parameters filled), else the last answer that had it."""
        path, mark, query = endpoint.path.partition("?")
        for param in endpoint.params:
            marker = "{" + param + "}"
            if marker not in path:
                continue
            collection = path[: path.index(marker)].rstrip("/")
            value = self.made.get((collection, param), self.seen.get(param))
            if value is None:
                return endpoint.path, param
            path = path.replace(marker, quote(str(value), safe=""), 1)
        return path + mark + query, None

    def _remember(self, endpoint: Endpoint, path: str, answer: Any) -> None:
        if not isinstance(answer, dict):
            return
        for key, value in answer.items():
            if isinstance(value, str | int) and not isinstance(value, bool):
                self.seen[key] = value
                if endpoint.method == "POST":
                    self.made[(path.split("?")[0].rstrip("/"), key)] = value

    @staticmethod
    def _result(endpoint: Endpoint, path: str, status: int | None, problem: str) -> EndpointResult:
        return EndpointResult(endpoint.label, path, endpoint.status, status, not problem, problem)


_NOT_JSON = object()


def _send(
    client: Any, method: str, path: str, body: Any, headers: dict[str, str]
) -> tuple[int, bytes | None]:
    """The status and the answer's bytes (None when over MAX_ANSWER: not read further)."""
    with client.stream(method, path, json=body, headers=headers) as response:
        content = bytearray()
        for chunk in response.iter_bytes():
            content += chunk
            if len(content) > MAX_ANSWER:
                return response.status_code, None
        return response.status_code, bytes(content)


def _sendable(token: str) -> bool:
    """Whether a token the app answered can go in an Authorization header as it is."""
    return len(token) <= 8192 and token.isascii() and token.isprintable() and " " not in token


def _json(content: bytes) -> Any:
    try:
        return json.loads(content) if content else None
    except (ValueError, UnicodeDecodeError, RecursionError):  # RecursionError: nested too deep
        return _NOT_JSON
