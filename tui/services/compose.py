"""Read a generated app's compose file into a plan we can run safely.

We read compose files ourselves rather than hand them to `docker compose`: Debian's
docker-compose v1 rejects keys generated files carry (`name:`, `develop:`), and the app is
untrusted, so only a safe subset is honoured — build, image, environment, env_file, ports,
expose, depends_on, command, entrypoint, working_dir. Keys that would reach the host
(volumes, privileged, network_mode, cap_add, devices, …) are ignored and listed in the
plan's notes. `${VAR}` is filled from the app's own `.env` file, never from our environment,
so no secret of ours can leak into a generated app.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import yaml

from tui.errors import ComposeError, ThesisError
from tui.secrets import holds_secret, is_secret_variable
from tui.services.scanner import COMPOSE_FILES
from tui.services.untrusted import (
    MAX_YAML_BYTES,
    UntrustedInputError,
    inside,
    load_yaml,
    read_app_file,
    read_regular,
)

MAX_ENV_BYTES = 256 * 1024
"""Largest .env or env_file read from an app."""

BACKEND, FRONTEND = "backend", "frontend"

_SUPPORTED = {
    "build",
    "image",
    "environment",
    "env_file",
    "ports",
    "expose",
    "depends_on",
    "command",
    "entrypoint",
    "working_dir",
    "container_name",  # replaced by our deterministic names
    "restart",  # replaced by our restart policy
    "healthcheck",  # our health check probes the published ports instead
}
_BACKEND_HINTS = ("back", "api", "server", "flask", "django", "fastapi", "express")
_FRONTEND_HINTS = ("front", "web", "client", "ui", "nginx", "react", "vue", "vite", "static")
_VARIABLE = re.compile(r"\$(?:\$|\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?[-?])([^}]*))?\}|([A-Za-z_]\w*))")


@dataclass(frozen=True)
class ServiceSpec:
    """One compose service as we will build and run it."""

    name: str
    build_context: Path | None
    dockerfile: str | None
    build_args: dict[str, str]
    image: str | None
    environment: dict[str, str]
    container_ports: tuple[int, ...]
    depends_on: tuple[str, ...]
    command: list[str] | str | None
    entrypoint: list[str] | str | None
    working_dir: str | None
    role: str | None
    """`backend` or `frontend`: which of the app's host ports its first container port gets."""

    @property
    def container_port(self) -> int | None:
        return self.container_ports[0] if self.container_ports else None


@dataclass(frozen=True)
class ComposePlan:
    app_dir: Path
    compose_file: Path
    services: tuple[ServiceSpec, ...]
    """In start order: every service after the services it depends on."""
    notes: tuple[str, ...]

    def service(self, role: str) -> ServiceSpec | None:
        return next((s for s in self.services if s.role == role), None)


def find_compose_file(app_dir: Path) -> Path | None:
    return next((app_dir / n for n in COMPOSE_FILES if (app_dir / n).is_file()), None)


def load_compose(app_dir: Path) -> ComposePlan:
    """The app's services in start order, or ComposeError saying what is wrong."""
    compose = find_compose_file(app_dir)
    if compose is None:
        raise ComposeError(f"{app_dir} has no docker-compose.yml (or compose.yml)")
    try:
        data = read_app_file(app_dir, Path(compose.name), MAX_YAML_BYTES, compose.name)
        document = load_yaml(data.decode("utf-8"), compose.name)
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        raise ComposeError(
            f"{compose.name} is malformed: {' '.join(str(exc).split())[:200]}"
        ) from None
    except ThesisError as exc:
        raise ComposeError(str(exc)) from None
    services = document.get("services") if isinstance(document, dict) else None
    if not isinstance(services, dict) or not services:
        raise ComposeError(f"{compose.name} defines no services")
    variables = _dotenv(app_dir, Path(".env"), "the app's")
    notes: list[str] = []
    specs = {
        str(name): _service(app_dir, str(name), body, variables, notes)
        for name, body in services.items()
    }
    roles = _assign_roles(specs)
    ordered = [
        _with_role(specs[name], roles.get(name)) for name in _start_order(specs, compose.name)
    ]
    return ComposePlan(app_dir, compose, tuple(ordered), tuple(notes))


# --- one service ----------------------------------------------------------------------


def _service(
    app_dir: Path, name: str, body: Any, variables: dict[str, str], notes: list[str]
) -> ServiceSpec:
    if not isinstance(body, dict):
        raise ComposeError(f"service {name}: expected a mapping of settings")
    body = _interpolate(body, variables, notes)
    ignored = sorted(set(map(str, body)) - _SUPPORTED)
    if ignored:
        notes.append(f"service {name}: ignored {', '.join(ignored)} (not honoured for safety)")
    context, dockerfile, args = _build(app_dir, name, body.get("build"))
    image = body.get("image")
    if context is None and not image:
        raise ComposeError(f"service {name}: needs build: or image:")
    environment = {}
    for env_file in _as_list(body.get("env_file")):
        path = _inside(app_dir, Path(str(env_file)), f"service {name}: env_file")
        if not path.is_file():
            raise ComposeError(f"service {name}: env_file {env_file} does not exist")
        environment.update(_dotenv(app_dir, path, f"service {name}: env_file"))
    environment.update(_environment(name, body.get("environment")))
    for key in [key for key, value in environment.items() if holds_secret(value)]:
        notes.append(f"service {name}: {key} dropped: it holds one of ThesisApp's secrets")
        del environment[key]
    ports = [*(_container_port(name, p) for p in _as_list(body.get("ports")))]
    ports += [_container_port(name, p) for p in _as_list(body.get("expose"))]
    return ServiceSpec(
        name=name,
        build_context=context,
        dockerfile=dockerfile,
        build_args=args,
        image=str(image) if image else None,
        environment=environment,
        container_ports=tuple(dict.fromkeys(ports)),
        depends_on=tuple(_depends_on(name, body.get("depends_on"))),
        command=_command(body.get("command")),
        entrypoint=_command(body.get("entrypoint")),
        working_dir=str(body["working_dir"]) if body.get("working_dir") else None,
        role=None,
    )


def _inside(root: Path, path: Path, what: str) -> Path:
    """`path` (relative to `root`, or absolute) resolved, symlinks too; ComposeError if it
    leads out of `root`."""
    try:
        return inside(root, path, what)
    except UntrustedInputError as exc:
        raise ComposeError(str(exc)) from None


def _build(app_dir: Path, name: str, build: Any) -> tuple[Path | None, str | None, dict[str, str]]:
    if build is None:
        return None, None, {}
    if isinstance(build, str):
        build = {"context": build}
    if not isinstance(build, dict):
        raise ComposeError(f"service {name}: build must be a path or a mapping")
    context = _inside(app_dir, Path(str(build.get("context") or ".")), f"service {name}: build")
    if not context.is_dir():
        raise ComposeError(f"service {name}: build folder {build.get('context')} does not exist")
    dockerfile = str(build.get("dockerfile") or "Dockerfile")
    path = _inside(context, Path(dockerfile), f"service {name}: dockerfile")
    if not path.is_file():
        raise ComposeError(
            f"service {name}: no Dockerfile at {path.relative_to(app_dir.resolve())}"
        )
    return context, dockerfile, _environment(name, build.get("args"))


def _as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def _environment(name: str, value: Any) -> dict[str, str]:
    if value is None:
        return {}
    if isinstance(value, dict):
        return {str(k): "" if v is None else str(v) for k, v in value.items()}
    if isinstance(value, list):
        pairs = (str(item).partition("=") for item in value)
        return {key: val for key, _, val in pairs if key}
    raise ComposeError(f"service {name}: environment must be a mapping or a list")


def _container_port(name: str, value: Any) -> int:
    """The container side of `5000`, `"8080:80"`, `"127.0.0.1:8080:80/tcp"`, `{target: 80}`."""
    if isinstance(value, dict):
        value = value.get("target")
    text = str(value).rsplit(":", 1)[-1].split("/", 1)[0].split("-", 1)[0].strip()
    if not text.isdigit() or not 1 <= int(text) <= 65535:
        raise ComposeError(f"service {name}: cannot read the port {value!r}")
    return int(text)


def _depends_on(name: str, value: Any) -> list[str]:
    if value is None:
        return []
    if isinstance(value, dict):
        return [str(key) for key in value]
    if isinstance(value, list):
        return [str(item) for item in value]
    raise ComposeError(f"service {name}: depends_on must be a list or a mapping")


def _command(value: Any) -> list[str] | str | None:
    if value is None:
        return None
    return [str(part) for part in value] if isinstance(value, list) else str(value)


# --- the whole file -------------------------------------------------------------------


def _assign_roles(specs: dict[str, ServiceSpec]) -> dict[str, str]:
    """Which service gets the backend port and which the frontend port.

    Named `backend` / `frontend` first, then by hints in the name (api, web, nginx, …); a
    lone service with a port is the backend.
    """
    with_ports = [name for name, spec in specs.items() if spec.container_ports]
    roles: dict[str, str] = {}
    for role in (BACKEND, FRONTEND):
        if role in with_ports:
            roles[role] = role
    for role, hints in ((BACKEND, _BACKEND_HINTS), (FRONTEND, _FRONTEND_HINTS)):
        if role in roles.values():
            continue
        for name in with_ports:
            if name not in roles and any(hint in name.lower() for hint in hints):
                roles[name] = role
                break
    left = [name for name in with_ports if name not in roles]
    missing = [role for role in (BACKEND, FRONTEND) if role not in roles.values()]
    for name, role in zip(left, missing, strict=False):
        roles[name] = role
    return roles


def _with_role(spec: ServiceSpec, role: str | None) -> ServiceSpec:
    return replace(spec, role=role)


def _start_order(specs: dict[str, ServiceSpec], filename: str) -> list[str]:
    """Every service after those it depends on; without recursion, so a chain thousands of
    services deep is ordered, not a RecursionError."""
    order: list[str] = []
    state: dict[str, str] = {}
    for first in specs:
        if state.get(first) == "done":
            continue
        state[first] = "visiting"
        stack = [(first, iter(specs[first].depends_on))]
        while stack:
            name, dependencies = stack[-1]
            dependency = next(dependencies, None)
            if dependency is None:
                stack.pop()
                state[name] = "done"
                order.append(name)
                continue
            if dependency not in specs:
                raise ComposeError(f"service {name}: depends on unknown service {dependency}")
            if state.get(dependency) == "visiting":
                chain = [entry for entry, _ in stack]
                cycle = [*chain[chain.index(dependency) :], dependency]
                raise ComposeError(
                    f"{filename}: depends_on forms a cycle: {' -> '.join(cycle[:6])}"
                    + (" -> …" if len(cycle) > 6 else "")
                )
            if state.get(dependency) != "done":
                state[dependency] = "visiting"
                stack.append((dependency, iter(specs[dependency].depends_on)))
    return order


def _dotenv(app_dir: Path, path: Path, what: str) -> dict[str, str]:
    """KEY=VALUE lines of a .env file of the app (comments, `export` and quotes allowed);
    a link out of the app's folder is refused, not followed."""
    resolved = _inside(app_dir, path, what)
    if not resolved.is_file():
        return {}
    try:
        data = read_regular(resolved, MAX_ENV_BYTES, what)
    except ThesisError as exc:
        raise ComposeError(str(exc)) from None
    values = {}
    for line in data.decode("utf-8", "replace").splitlines():
        line = line.strip()
        if not line or line.startswith("#") or "=" not in line:
            continue
        key, _, value = line.removeprefix("export ").partition("=")
        value = value.strip()
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
            value = value[1:-1]
        values[key.strip()] = value
    return values


def _interpolate(value: Any, variables: dict[str, str], notes: list[str]) -> Any:
    """Compose's `${VAR}`, `${VAR:-default}`, `$VAR` and `$$`, from the app's .env only."""
    if isinstance(value, dict):
        return {k: _interpolate(v, variables, notes) for k, v in value.items()}
    if isinstance(value, list):
        return [_interpolate(v, variables, notes) for v in value]
    if not isinstance(value, str) or "$" not in value:
        return value

    def substitute(match: re.Match[str]) -> str:
        if match.group(0) == "$$":
            return "$"
        name = match.group(1) or match.group(4)
        operator, default = match.group(2), match.group(3) or ""
        if is_secret_variable(name):
            notes.append(f"${{{name}}} not filled in: ThesisApp never hands its secrets to an app")
            return ""
        found = variables.get(name)
        if operator in (":-", ":?") and not found:
            found = None
        if found is None and operator in (":-", "-"):
            return default
        if found is None:
            notes.append(f"${{{name}}} is not set in the app's .env; used an empty value")
            return ""
        return found

    return _VARIABLE.sub(substitute, value)
