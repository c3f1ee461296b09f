"""The frame every generated app shares: a Flask backend and a React (Vite) frontend with
their Dockerfiles, a docker-compose.yml and a .env holding the app's allocated ports and its
template's test credentials.

The model writes only the code files the prompt names (WRITTEN); everything else comes from
`scaffold/` beside this module. The backend is served by our `run.py` on $PORT and Vite
listens on $PORT, both set from the .env through the compose file: the code, the compose
file and the port allocation cannot disagree. A model may add dependencies — requirement
lines and npm packages — which are checked to be plain names and versions (never a URL, a
path or a pip option) before they join the scaffold's.
"""

from __future__ import annotations

import json
import re
import secrets
from dataclasses import dataclass
from pathlib import Path

from tui.errors import ValidationError
from tui.services.generation.templates import Template

SCAFFOLD = Path(__file__).resolve().parent / "scaffold"
"""The scaffold's files, copied as they are into every app."""
WRITTEN = ("backend/app.py", "frontend/src/App.jsx")
"""The files the model must write."""
OPTIONAL = ("frontend/src/App.css",)
"""Files the model may write as well."""
REQUIREMENT = re.compile(
    r"^[A-Za-z0-9][A-Za-z0-9._-]*(\[[A-Za-z0-9._,-]+\])?"
    r"(\s*(==|>=|<=|~=|!=|>|<)\s*[A-Za-z0-9.*+!_-]+(\s*,\s*(==|>=|<=|~=|!=|>|<)\s*[A-Za-z0-9.*+!_-]+)*)?$"
)
"""A requirement line we accept from a model: a name, extras, version clauses — no URL,
path, environment marker or option (`-e`, `--index-url`)."""
NPM_NAME = re.compile(r"^(@[a-z0-9][a-z0-9._~-]*/)?[a-z0-9][a-z0-9._~-]{0,100}$")
NPM_VERSION = re.compile(r"^(latest|[\^~]?\d+(\.(\d+|x|\*)){0,2}(-[0-9A-Za-z.-]+)?)$")
"""An npm dependency we accept: a registry name and a plain version or range — no git,
file, link or URL specifier."""


@dataclass(frozen=True)
class Frame:
    """What makes one app's scaffold: its template and its allocated ports."""

    template: Template
    backend_port: int
    frontend_port: int
    label: str
    """`<model> app <N>`, for the .env's header."""


def scaffold_files(
    frame: Frame,
    *,
    requirements: list[str] | None = None,
    npm: dict[str, str] | None = None,
    secret_key: str | None = None,
) -> dict[str, str]:
    """Every file of the scaffold (relative path -> text), with the model's dependencies
    merged in; ValidationError naming the first dependency we refuse."""
    files = {
        path.relative_to(SCAFFOLD).as_posix(): path.read_text("utf-8")
        for path in sorted(SCAFFOLD.rglob("*"))
        if path.is_file() and "__pycache__" not in path.parts
    }
    files[".env"] = dotenv(frame, secret_key or secrets.token_hex(32))
    if requirements:
        files["backend/requirements.txt"] += "".join(f"{line}\n" for line in
                                                     check_requirements(requirements))  # fmt: skip
    if npm:
        package = json.loads(files["frontend/package.json"])
        package["dependencies"].update(check_npm(npm))
        files["frontend/package.json"] = json.dumps(package, indent=2) + "\n"
    return files


def dotenv(frame: Frame, secret_key: str) -> str:
    credentials = frame.template.credentials
    values = {
        "BACKEND_PORT": str(frame.backend_port),
        "FRONTEND_PORT": str(frame.frontend_port),
        "ADMIN_USERNAME": credentials.username,
        "ADMIN_PASSWORD": credentials.password,
        "ADMIN_EMAIL": credentials.email,
        "SECRET_KEY": secret_key,
        "DATABASE_URL": "sqlite:////app/data/app.db",
    }
    header = (
        f"# Written by ThesisApp for {frame.label} (template {frame.template.number}, "
        f"{frame.template.slug}): the app's ports and its test user.\n"
    )
    return header + "".join(f"{key}={value}\n" for key, value in values.items())


def check_requirements(lines: list[str]) -> list[str]:
    """The model's requirement lines, comments and blanks dropped; the first that is not a
    plain name with versions is refused."""
    kept = []
    for raw in lines:
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        if not REQUIREMENT.fullmatch(line) or len(line) > 200:
            raise ValidationError(
                f"refused requirement {line[:80]!r}: only a package name and versions"
            )
        kept.append(line)
    return kept


def check_npm(dependencies: dict[str, str]) -> dict[str, str]:
    """The model's npm dependencies; the first that is not a registry name with a plain
    version is refused."""
    for name, version in dependencies.items():
        if not isinstance(name, str) or not NPM_NAME.fullmatch(name):
            raise ValidationError(f"refused npm package {str(name)[:80]!r}: not a registry name")
        if not isinstance(version, str) or not NPM_VERSION.fullmatch(version.strip()):
            raise ValidationError(
                f"refused npm version {str(version)[:80]!r} of {name}: only a plain version"
            )
    return {name: version.strip() for name, version in dependencies.items()}
