"""Settings: the only place that reads the environment.

Every field reads `THESIS_<FIELD>` from the environment or a `.env` file in the current
folder. The docstring under each field is its documentation (the README table is made
from the same text).
"""

from __future__ import annotations

import dataclasses
import math
import os
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

from platformdirs import user_data_dir

from tui.errors import ConfigError
from tui.paths import analyzers_path
from tui.secrets import remember

_DATABASE_URL = re.compile(r"^[A-Za-z][A-Za-z0-9+]*://\S*$")
"""dialect[+driver]://…, as SQLAlchemy's URLs are."""
_URL_PASSWORD = re.compile(r"^[^:/]+://[^:/@]*:([^@]*)@")
"""The password of such a URL, as SQLAlchemy reads it (user:password@host)."""

APP_NAME = "thesis-tui"
ENV_PREFIX = "THESIS_"
ENV_FILE = ".env"


@dataclass(frozen=True, order=True)
class PortRange:
    """An inclusive range of TCP ports, written `5001-5999`."""

    start: int
    end: int

    def __post_init__(self) -> None:
        if not (1 <= self.start <= self.end <= 65535):
            raise ValueError(f"{self} is not a range of ports within 1-65535 (low-high)")

    def __str__(self) -> str:
        return f"{self.start}-{self.end}"

    def __len__(self) -> int:
        return self.end - self.start + 1

    def __contains__(self, port: object) -> bool:
        return isinstance(port, int) and self.start <= port <= self.end

    def overlaps(self, other: PortRange) -> bool:
        return self.start <= other.end and other.start <= self.end


class Secret:
    """A value kept out of every repr and str (an API key): `get_secret_value()` reads it."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def get_secret_value(self) -> str:
        return self._value

    def __repr__(self) -> str:
        return "Secret('**********')"

    def __str__(self) -> str:
        return "**********"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Secret) and other._value == self._value

    def __hash__(self) -> int:
        return hash(self._value)


# --- parsers: a value from the environment (a string) or from code, or ValueError ---------

Parse = Callable[[Any], Any]


def _text(value: Any) -> str:
    if not isinstance(value, str):
        raise ValueError(f"must be text, not {value!r}")
    return value


def _whole(low: int, high: int | None) -> Parse:
    def parse(value: Any) -> int:
        if isinstance(value, str) and value.strip().lstrip("+-").isdigit():
            value = int(value.strip())
        if isinstance(value, bool) or not isinstance(value, int):
            raise ValueError(f"must be a whole number, not {_shown(value)}")
        if value < low or (high is not None and value > high):
            raise ValueError(_range(value, low, high))
        return value

    return parse


def _number(low: float, high: float, *, above: bool = False) -> Parse:
    """A finite number from `low` (or above it, with `above`) to `high`."""

    def parse(value: Any) -> float:
        number: float | None = None
        if isinstance(value, int | float) and not isinstance(value, bool):
            number = float(value)
        elif isinstance(value, str):
            try:
                number = float(value.strip())
            except ValueError:
                number = None
        if number is None or not math.isfinite(number):
            raise ValueError(f"must be a number, not {_shown(value)}")
        if (number <= low if above else number < low) or number > high:
            bottom = f"above {low:g}" if above else f"from {low:g}"
            raise ValueError(f"must be {bottom} to {high:g}, not {number:g}")
        return number

    return parse


def _range(value: int, low: int, high: int | None) -> str:
    if high is None:
        return f"must be at least {low}, not {value}"
    return f"must be from {low} to {high}, not {value}"


def _shown(value: Any) -> str:
    text = value if isinstance(value, str) else repr(value)
    return repr(text[:40] + "…" if len(text) > 40 else text)


def _one_of(*choices: str) -> Parse:
    def parse(value: Any) -> str:
        if value not in choices:
            raise ValueError(f"must be one of {', '.join(choices)}, not {_shown(value)}")
        return str(value)

    return parse


def _port_range(value: Any) -> PortRange:
    if isinstance(value, PortRange):
        return value
    if isinstance(value, str):
        low, sep, high = value.strip().partition("-")
        if sep and low.strip().isdigit() and high.strip().isdigit():
            return PortRange(int(low), int(high))
    raise ValueError(f"expected a range like 5001-5999, got {value!r}")


def _secret(value: Any) -> Secret | None:
    if value is None or isinstance(value, Secret):
        return value
    return Secret(_text(value))


def _optional_folder(value: Any) -> Path | None:
    """A folder, or None when the setting is empty."""
    return None if isinstance(value, str) and not value.strip() else _folder(value)


def _folder(value: Any) -> Path | None:
    if value is None:
        return None
    if not isinstance(value, str | os.PathLike):
        raise ValueError(f"must be a folder, not {value!r}")
    path = Path(value)
    if "\x00" in str(path):
        raise ValueError("must not contain a NUL character")
    try:
        return path.expanduser()
    except RuntimeError:  # ~someone for a user this machine does not know
        raise ValueError(f"{path}: no such user's home folder") from None


def _database_url(value: Any) -> str:
    value = _text(value).strip()
    # The shape only (SQLAlchemy's own parser is checked when the database opens):
    # reading the settings must not import SQLAlchemy, or the TUI paints later.
    if value and not _DATABASE_URL.match(value):
        raise ValueError(
            "not a database URL (expected e.g. sqlite:///path.db or "
            "postgresql+psycopg://user@host/db)"
        )
    return value


def _http_url(value: Any, example: str) -> str:
    """An http(s) URL with a host and a valid port, without its trailing `/`."""
    value = _text(value).strip().rstrip("/")
    problem = f"must be an http:// or https:// address, e.g. {example}"
    try:
        parts = urlsplit(value)
        parts.port  # noqa: B018 - raises ValueError for a port that is not one
    except ValueError:
        raise ValueError(problem) from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(problem)
    if any(not char.isprintable() or char.isspace() for char in value):
        raise ValueError(problem + " (no spaces or control characters)")
    return value


def _openrouter_url(value: Any) -> str:
    return _http_url(value, "https://openrouter.ai/api/v1")


def _zap_url(value: Any) -> str:
    return _http_url(value, "http://127.0.0.1:8090") if _text(value).strip() else ""


def _default_data_dir() -> Path:
    return Path(user_data_dir(APP_NAME, appauthor=False))


def setting(
    parse: Parse,
    default: Any = None,
    *,
    factory: Callable[[], Any] | None = None,
    env: tuple[str, ...] = (),
) -> Any:
    """A settings field: read by `parse` from the first of `env` that is set (default
    `THESIS_<FIELD>`), in the environment first, then in `.env`."""
    metadata = {"parse": parse, "env": env}
    if factory is not None:
        return dataclasses.field(default_factory=factory, metadata=metadata)
    return dataclasses.field(default=default, metadata=metadata)


@dataclass
class Settings:
    """Every setting, read by `load_settings()`; see each field's docstring."""

    data_dir: Path = setting(_folder, factory=_default_data_dir)
    """Folder for the default database, results and logs (created on first use)."""

    database_url: str = setting(_database_url, "")
    """SQLAlchemy URL of the database. Empty: an SQLite file `thesis.db` in the data folder.
    PostgreSQL: `postgresql+psycopg://user@host:5432/dbname`."""

    apps_dir: Path = setting(_folder, None)  # type: ignore[assignment]
    """Folder of generated apps, laid out `<model_slug>/app<N>/`. Default: `<data_dir>/apps`."""

    results_dir: Path = setting(_folder, None)  # type: ignore[assignment]
    """Folder where analysis results are written. Default: `<data_dir>/results`."""

    logs_dir: Path = setting(_folder, None)  # type: ignore[assignment]
    """Folder for build, container and analysis logs. Default: `<data_dir>/logs`."""

    templates_dir: Path | None = setting(_optional_folder, None)
    """Folder of your own app templates (YAML or JSON, as `thesis templates schema` says):
    they add to ours, and replace ours of the same number or slug. Empty: ours alone."""

    openrouter_api_key: Secret | None = setting(
        _secret, None, env=("THESIS_OPENROUTER_API_KEY", "OPENROUTER_API_KEY")
    )
    """OpenRouter API key (also read from `OPENROUTER_API_KEY`). Never shown or logged."""

    openrouter_base_url: str = setting(_openrouter_url, "https://openrouter.ai/api/v1")
    """Base URL of the OpenRouter (OpenAI-compatible) API."""

    backend_ports: PortRange = setting(_port_range, PortRange(5001, 5999))
    """Host ports handed to app backends, as `low-high`."""

    frontend_ports: PortRange = setting(_port_range, PortRange(8001, 8999))
    """Host ports handed to app frontends, as `low-high`; must not overlap the backend range."""

    max_workers: int = setting(_whole(1, 64), 4)
    """How many analyses or container jobs run at once."""

    container_cpu_limit: float = setting(_number(0.01, 64), 1.0)
    """CPU cores each app container may use."""

    container_memory_limit_mb: int = setting(_whole(16, None), 512)
    """Memory in MiB each app container may use."""

    refresh_interval: float = setting(_number(0.5, 3600), 5.0)
    """Seconds between automatic refreshes of the visible table (and of app statuses from
    Docker)."""

    theme: str = setting(_one_of("auto", "thesis", "thesis-16"), "auto")
    """Colours of the TUI: `auto` picks `thesis-16` (the terminal's own 16 colours) when the
    terminal has only 16 (TERM=xterm), else `thesis`. NO_COLOR=1 turns colour off."""

    docker_host: str = setting(_text, "", env=("THESIS_DOCKER_HOST", "DOCKER_HOST"))
    """Docker engine to use (also read from `DOCKER_HOST`), e.g. `unix:///var/run/docker.sock`,
    `ssh://user@host` (its apps reached through SSH tunnels) or `tcp://host:2375`. Empty: the
    local socket."""

    docker_timeout: float = setting(_number(0, 300, above=True), 5.0)
    """Seconds to wait for the Docker engine to answer when connecting; an engine that does
    not is reported unavailable (the TUI keeps working without it)."""

    build_timeout: float = setting(_number(0, 86400, above=True), 900.0)
    """Seconds an app's image build may take before it is stopped and marked failed."""

    health_timeout: float = setting(_number(0, 3600, above=True), 30.0)
    """Seconds the health check waits for each started service to answer over HTTP."""

    stop_timeout: int = setting(_whole(0, 600), 10)
    """Seconds a container gets to stop after SIGTERM before it is killed."""

    analyzers_dir: Path = setting(_folder, factory=analyzers_path)
    """Folder with ThesisApp's analyzer configs and its npm tools (`npm ci --prefix` it for
    eslint)."""

    tool_timeout: float = setting(_number(0, 86400, above=True), 300.0)
    """Seconds each analyzer run (bandit, pylint, eslint, an audit, locust beyond its
    duration, a ZAP or wapiti scan) may take before it is killed and its analysis marked
    failed."""

    zap_url: str = setting(_zap_url, "")
    """Address of a running ZAP daemon (its API and proxy port), e.g. `http://127.0.0.1:8090`,
    for `zap` analyses. Empty: they run wapiti instead."""

    zap_api_key: Secret | None = setting(_secret, None)
    """ZAP's API key (`-config api.key=...` when it started). Never shown or logged."""

    zap_image: str = setting(_text, "zaproxy/zap-stable")
    """Docker image of ZAP that `zap` analyses start (on the host's network, for one scan)
    when no THESIS_ZAP_URL is set and the engine has the image; never pulled. Empty: off."""

    wapiti_path: Path | None = setting(_folder, None)
    """The wapiti executable `zap` analyses run when no ZAP is set or found. Empty:
    `analyzers/wapiti-venv/bin/wapiti` (made by `analyzers/install`), else `wapiti` on the
    PATH."""

    review_model: str = setting(_text, "")
    """OpenRouter model id that performs AI reviews when none is given, e.g.
    `openai/gpt-4o-mini`; it must be in the catalogue (for its prices and context)."""

    review_timeout: float = setting(_number(0, 3600, above=True), 120.0)
    """Seconds an AI review waits for the model's answer."""

    generation_timeout: float = setting(_number(0, 3600, above=True), 600.0)
    """Seconds a generation request may go without a byte of the model's answer."""

    heartbeat_timeout: float = setting(_number(10, 86400), 120.0)
    """Seconds without a heartbeat after which an analysis, build or batch task that a process
    on another host runs is taken as interrupted, and a worker as stalled (on this host a
    dead process is seen at once)."""

    task_timeout: float = setting(_number(0, 86400, above=True), 3600.0)
    """Seconds one batch task may run in all (a shared static run: the whole run; an app's
    dynamic analyses: each of them) before it is stopped and failed, on top of the per-step
    timeouts above, so a hanging app never stalls a job."""

    batch_apps: int = setting(_whole(1, 64), 2)
    """Apps a batch runner keeps up at once for their dynamic analyses (each needs its
    ports, memory and a network)."""

    batch_llm: int = setting(_whole(1, 64), 4)
    """AI reviews a batch runner has in flight at once."""

    batch_static_apps: int = setting(_whole(1, 10_000), 500)
    """The most apps one shared static run (security, quality) covers; its pylint uses the
    cores. More share the tools' start-up (pylint's is seconds) better; fewer show results
    sooner and keep pylint's memory down."""

    def __post_init__(self) -> None:
        if self.backend_ports.overlaps(self.frontend_ports):
            raise ValueError(
                f"THESIS_BACKEND_PORTS ({self.backend_ports}) overlaps "
                f"THESIS_FRONTEND_PORTS ({self.frontend_ports})"
            )
        self.apps_dir = self.apps_dir or self.data_dir / "apps"
        self.results_dir = self.results_dir or self.data_dir / "results"
        self.logs_dir = self.logs_dir or self.data_dir / "logs"

    def secret_values(self) -> list[str]:
        """The values to keep out of everything written: API keys, the database password."""
        values = [
            key.get_secret_value()
            for key in (self.openrouter_api_key, self.zap_api_key)
            if key is not None
        ]
        if self.database_url:
            found = _URL_PASSWORD.match(self.database_url)
            values.append(unquote(found.group(1)) if found else "")
        return [value for value in values if value]

    @property
    def resolved_database_url(self) -> str:
        """The database URL in force: the setting, or the SQLite file in the data folder."""
        if self.database_url:
            return self.database_url
        return f"sqlite:///{self.data_dir / 'thesis.db'}"


def _variables(field: dataclasses.Field[Any]) -> tuple[str, ...]:
    return field.metadata["env"] or (f"{ENV_PREFIX}{field.name.upper()}",)


def _read_env_file() -> dict[str, str]:
    """`.env` in the current folder (if any), its names upper-cased, its empty values left
    out (an empty value means the default, as in the environment)."""
    path = Path(ENV_FILE)
    if not path.is_file():
        return {}
    from dotenv import dotenv_values

    return {key.upper(): value for key, value in dotenv_values(path, encoding="utf-8").items()
            if value}  # fmt: skip


def load_settings(**overrides: Any) -> Settings:
    """Read the settings: `overrides`, then the environment, then `.env`, then defaults.

    A bad value raises ConfigError naming the variable, on one line; every bad variable is
    named at once.
    """
    try:
        env_file = _read_env_file()
    except UnicodeDecodeError as exc:
        raise ConfigError(
            f"Cannot read the settings file .env: it is not UTF-8 text ({exc.reason} at byte "
            f"{exc.start})"
        ) from None
    except OSError as exc:
        raise ConfigError(f"Cannot read the settings file .env: {exc.strerror or exc}") from None
    environ = {key.upper(): value for key, value in os.environ.items() if value}
    values: dict[str, Any] = {}
    problems: list[str] = []
    for field in dataclasses.fields(Settings):
        names = _variables(field)
        if field.name in overrides:
            name, raw = names[0], overrides[field.name]
        else:
            found = _first(names, environ) or _first(names, env_file)
            if found is None:
                continue
            name, raw = found
        try:
            values[field.name] = field.metadata["parse"](raw)
        except ValueError as exc:
            problems.append(f"{name}: {exc}")
    if problems:
        raise ConfigError("Invalid setting " + "; ".join(problems))
    try:
        settings = Settings(**values)
    except ValueError as exc:
        raise ConfigError(f"Invalid setting {exc}") from None
    remember(settings.secret_values())
    return settings


def _first(names: tuple[str, ...], source: Mapping[str, str]) -> tuple[str, str] | None:
    for name in names:
        if name in source:
            return name, source[name]
    return None


def settings_table() -> list[tuple[str, str, str]]:
    """(variable, default, description) for each setting, for the README and `thesis settings`."""
    import ast
    import inspect
    import itertools

    source = inspect.getsource(Settings)
    docs: dict[str, str] = {}
    body = ast.parse(source).body[0].body  # type: ignore[attr-defined]
    for node, following in itertools.pairwise(body):
        if (
            isinstance(node, ast.AnnAssign)
            and isinstance(node.target, ast.Name)
            and isinstance(following, ast.Expr)
            and isinstance(following.value, ast.Constant)
        ):
            docs[node.target.id] = " ".join(str(following.value.value).split())
    rows = []
    for field in dataclasses.fields(Settings):
        default = "" if field.default is dataclasses.MISSING else str(field.default or "")
        rows.append((_variables(field)[0], default, docs.get(field.name, "")))
    return rows
