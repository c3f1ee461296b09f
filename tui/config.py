"""Settings: the only place that reads the environment.

Every field reads `THESIS_<FIELD>` from the environment or a `.env` file in the current
folder. The docstring under each field is its documentation (the README table is made
from the same text).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Literal
from urllib.parse import unquote, urlsplit

from platformdirs import user_data_dir
from pydantic import (
    AliasChoices,
    BeforeValidator,
    Field,
    SecretStr,
    field_validator,
    model_validator,
)
from pydantic import ValidationError as PydanticValidationError
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from tui.errors import ConfigError
from tui.paths import analyzers_path
from tui.secrets import remember

_DATABASE_URL = re.compile(r"^[A-Za-z][A-Za-z0-9+]*://\S*$")
"""dialect[+driver]://…, as SQLAlchemy's URLs are."""
_URL_PASSWORD = re.compile(r"^[^:/]+://[^:/@]*:([^@]*)@")
"""The password of such a URL, as SQLAlchemy reads it (user:password@host)."""

APP_NAME = "thesis-tui"


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


def _parse_port_range(value: Any) -> Any:
    if isinstance(value, PortRange):
        return value
    if isinstance(value, str):
        low, sep, high = value.strip().partition("-")
        if not sep or not low.strip().isdigit() or not high.strip().isdigit():
            raise ValueError(f"expected a range like 5001-5999, got {value!r}")
        return PortRange(int(low), int(high))
    raise ValueError(f"expected a range like 5001-5999, got {value!r}")


PortRangeSetting = Annotated[PortRange, NoDecode, BeforeValidator(_parse_port_range)]


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="THESIS_",
        env_file=".env",
        env_file_encoding="utf-8",
        extra="ignore",
        env_ignore_empty=True,
        validate_default=True,
    )

    data_dir: Path = Field(default_factory=lambda: Path(user_data_dir(APP_NAME, appauthor=False)))
    """Folder for the default database, results and logs (created on first use)."""

    database_url: str = ""
    """SQLAlchemy URL of the database. Empty: an SQLite file `thesis.db` in the data folder.
    PostgreSQL: `postgresql+psycopg://user@host:5432/dbname`."""

    apps_dir: Path | None = None
    """Folder of generated apps, laid out `<model_slug>/app<N>/`. Default: `<data_dir>/apps`."""

    results_dir: Path | None = None
    """Folder where analysis results are written. Default: `<data_dir>/results`."""

    logs_dir: Path | None = None
    """Folder for build, container and analysis logs. Default: `<data_dir>/logs`."""

    openrouter_api_key: SecretStr | None = Field(
        default=None,
        validation_alias=AliasChoices("THESIS_OPENROUTER_API_KEY", "OPENROUTER_API_KEY"),
    )
    """OpenRouter API key (also read from `OPENROUTER_API_KEY`). Never shown or logged."""

    openrouter_base_url: str = "https://openrouter.ai/api/v1"
    """Base URL of the OpenRouter (OpenAI-compatible) API."""

    backend_ports: PortRangeSetting = PortRange(5001, 5999)
    """Host ports handed to app backends, as `low-high`."""

    frontend_ports: PortRangeSetting = PortRange(8001, 8999)
    """Host ports handed to app frontends, as `low-high`; must not overlap the backend range."""

    max_workers: int = Field(default=4, ge=1, le=64)
    """How many analyses or container jobs run at once."""

    container_cpu_limit: float = Field(default=1.0, ge=0.01, le=64)
    """CPU cores each app container may use."""

    container_memory_limit_mb: int = Field(default=512, ge=16)
    """Memory in MiB each app container may use."""

    refresh_interval: float = Field(default=5.0, ge=0.5, le=3600)
    """Seconds between automatic refreshes of the visible table (and of app statuses from
    Docker)."""

    theme: Literal["auto", "thesis", "thesis-16"] = "auto"
    """Colours of the TUI: `auto` picks `thesis-16` (the terminal's own 16 colours) when the
    terminal has only 16 (TERM=xterm), else `thesis`. NO_COLOR=1 turns colour off."""

    docker_host: str = Field(
        default="", validation_alias=AliasChoices("THESIS_DOCKER_HOST", "DOCKER_HOST")
    )
    """Docker engine to use (also read from `DOCKER_HOST`), e.g. `unix:///var/run/docker.sock`
    or `tcp://host:2375`. Empty: the local socket."""

    docker_timeout: float = Field(default=5.0, gt=0, le=300)
    """Seconds to wait for the Docker engine to answer when connecting; an engine that does
    not is reported unavailable (the TUI keeps working without it)."""

    build_timeout: float = Field(default=900.0, gt=0, le=86400)
    """Seconds an app's image build may take before it is stopped and marked failed."""

    health_timeout: float = Field(default=30.0, gt=0, le=3600)
    """Seconds the health check waits for each started service to answer over HTTP."""

    stop_timeout: int = Field(default=10, ge=0, le=600)
    """Seconds a container gets to stop after SIGTERM before it is killed."""

    analyzers_dir: Path = Field(default_factory=analyzers_path)
    """Folder with ThesisApp's analyzer configs and its npm tools (`npm ci --prefix` it for
    eslint)."""

    tool_timeout: float = Field(default=300.0, gt=0, le=86400)
    """Seconds each analyzer run (bandit, pylint, eslint, an audit, locust beyond its
    duration, a ZAP or wapiti scan) may take before it is killed and its analysis marked
    failed."""

    zap_url: str = ""
    """Address of a running ZAP daemon (its API and proxy port), e.g. `http://127.0.0.1:8090`,
    for `zap` analyses. Empty: they run wapiti instead."""

    zap_api_key: SecretStr | None = None
    """ZAP's API key (`-config api.key=...` when it started). Never shown or logged."""

    zap_image: str = "zaproxy/zap-stable"
    """Docker image of ZAP that `zap` analyses start (on the host's network, for one scan)
    when no THESIS_ZAP_URL is set and the engine has the image; never pulled. Empty: off."""

    wapiti_path: Path | None = None
    """The wapiti executable `zap` analyses run when no ZAP is set or found. Empty:
    `analyzers/wapiti-venv/bin/wapiti` (made by `analyzers/install`), else `wapiti` on the
    PATH."""

    review_model: str = ""
    """OpenRouter model id that performs AI reviews when none is given, e.g.
    `openai/gpt-4o-mini`; it must be in the catalogue (for its prices and context)."""

    review_timeout: float = Field(default=120.0, gt=0, le=3600)
    """Seconds an AI review waits for the model's answer."""

    heartbeat_timeout: float = Field(default=120.0, ge=10, le=86400)
    """Seconds without a heartbeat after which an analysis or build that a process on another
    host runs is taken as interrupted (on this host a dead process is seen at once)."""

    task_timeout: float = Field(default=3600.0, gt=0, le=86400)
    """Seconds one batch task may run in all (a shared static run: the whole run; an app's
    dynamic analyses: each of them) before it is stopped and failed, on top of the per-step
    timeouts above, so a hanging app never stalls a job."""

    batch_apps: int = Field(default=2, ge=1, le=64)
    """Apps a batch runner keeps up at once for their dynamic analyses (each needs its
    ports, memory and a network)."""

    batch_llm: int = Field(default=4, ge=1, le=64)
    """AI reviews a batch runner has in flight at once."""

    batch_static_apps: int = Field(default=200, ge=1, le=10_000)
    """The most apps one shared static run (security, quality) covers. A batch runner splits
    a job's pending static tasks evenly over the cores up to this: more share the tools'
    start-up (pylint's is seconds) better, fewer show results sooner."""

    @field_validator("database_url")
    @classmethod
    def _check_database_url(cls, value: str) -> str:
        value = value.strip()
        # The shape only (SQLAlchemy's own parser is checked when the database opens):
        # reading the settings must not import SQLAlchemy, or the TUI paints later.
        if value and not _DATABASE_URL.match(value):
            raise ValueError(
                "not a database URL (expected e.g. sqlite:///path.db or "
                "postgresql+psycopg://user@host/db)"
            )
        return value

    @field_validator("openrouter_base_url")
    @classmethod
    def _check_base_url(cls, value: str) -> str:
        return _http_url(value, "https://openrouter.ai/api/v1")

    @field_validator("zap_url")
    @classmethod
    def _check_zap_url(cls, value: str) -> str:
        return _http_url(value, "http://127.0.0.1:8090") if value.strip() else ""

    @field_validator(
        "data_dir", "apps_dir", "results_dir", "logs_dir", "analyzers_dir", "wapiti_path"
    )
    @classmethod
    def _check_folder(cls, value: Path | None) -> Path | None:
        if value is None:
            return None
        try:
            value = value.expanduser()
        except RuntimeError:  # ~someone for a user this machine does not know
            raise ValueError(f"{value}: no such user's home folder") from None
        if "\x00" in str(value):
            raise ValueError("must not contain a NUL character")
        return value

    @model_validator(mode="after")
    def _derive_defaults(self) -> Settings:
        if self.backend_ports.overlaps(self.frontend_ports):
            raise ValueError(
                f"THESIS_BACKEND_PORTS ({self.backend_ports}) overlaps "
                f"THESIS_FRONTEND_PORTS ({self.frontend_ports})"
            )
        self.data_dir = self.data_dir.expanduser()
        # `.env` files are not expanded by a shell: do it here for every folder.
        self.apps_dir = (self.apps_dir or self.data_dir / "apps").expanduser()
        self.results_dir = (self.results_dir or self.data_dir / "results").expanduser()
        self.logs_dir = (self.logs_dir or self.data_dir / "logs").expanduser()
        if self.wapiti_path is not None:
            self.wapiti_path = self.wapiti_path.expanduser()
        return self

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


_SECRET_FIELDS = {"openrouter_api_key", "zap_api_key"}


def _http_url(value: str, example: str) -> str:
    """An http(s) URL with a host and a valid port, without its trailing `/`."""
    value = value.strip().rstrip("/")
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


def _variable_name(loc: tuple[Any, ...]) -> str:
    field = str(loc[0]) if loc else ""
    if field.isupper():  # already an environment name (a validation alias)
        return field
    return f"THESIS_{field.upper()}" if field else ""


def load_settings(**overrides: Any) -> Settings:
    """Read the settings; a bad value raises ConfigError naming the variable, on one line."""
    try:
        settings = Settings(**overrides)
    except UnicodeDecodeError as exc:
        raise ConfigError(
            f"Cannot read the settings file .env: it is not UTF-8 text ({exc.reason} at byte "
            f"{exc.start})"
        ) from None
    except OSError as exc:
        raise ConfigError(f"Cannot read the settings file .env: {exc.strerror or exc}") from None
    except PydanticValidationError as exc:
        problems = []
        for err in exc.errors():
            name = _variable_name(err.get("loc", ()))
            message = str(err.get("msg", "invalid value")).removeprefix("Value error, ")
            problems.append(f"{name}: {message}" if name else message)
        raise ConfigError("Invalid setting " + "; ".join(problems)) from None
    remember(settings.secret_values())
    return settings


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
    for name, field in Settings.model_fields.items():
        default = "" if field.default_factory else str(field.default or "")
        rows.append((f"THESIS_{name.upper()}", default, docs.get(name, "")))
    return rows
