"""App templates: what app N of a study is, for the model asked to build it and for the
functional test that checks what it built.

A template is a YAML (or JSON) file validated by `Template` below: a number (the app number
it is built as, 1-30), a slug, a name, a category and a description; backend, frontend and
admin requirements; the API endpoints (method, path, an example request, the status and the
shape of the expected response, whether it needs a login); how to log in; the data model;
and one set of test credentials, which the scaffold hands the app and the functional test
logs in with. Ours ship in `templates/` beside this module; a user's folder
(`THESIS_TEMPLATES_DIR`) adds more, and replaces ours of the same slug or number.

A response shape is JSON whose leaves name types: `"string"`, `"integer"`, `"number"`,
`"boolean"`, `"any"`, with `?` for "or null" (`"string?"`); an object lists the keys a
response must have (more are fine); a list of one shape is an array of such items.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from tui.db.tables import MAX_APPS_PER_MODEL
from tui.errors import NotFoundError, ValidationError
from tui.services.schemas import parse_input
from tui.services.untrusted import UntrustedInputError, load_json, load_yaml, read_regular

BUILTIN = Path(__file__).resolve().parent / "templates"
"""Our templates, shipped with the package."""
MAX_TEMPLATE_BYTES = 256 * 1024
SUFFIXES = (".yaml", ".yml", ".json")
SCALARS = ("string", "integer", "number", "boolean", "any")
SLUG = re.compile(r"^[a-z0-9][a-z0-9-]{0,62}$")
PATH = re.compile(r"^/[A-Za-z0-9_./{}?=&-]*$")
PARAM = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)\}")
PLACEHOLDER = re.compile(r"\{(username|password|email|run)\}")
"""In a login's or an endpoint's example request: filled from the template's credentials,
and `{run}` with a token of the test run (a user registered by one run is new to the app
the next time)."""

Method = Literal["GET", "POST", "PUT", "PATCH", "DELETE"]


def check_shape(shape: Any, where: str = "response") -> None:
    """Refuse a shape that is not one (a typo in a type name, a list of two shapes)."""
    if isinstance(shape, str):
        if shape.removesuffix("?") not in SCALARS:
            raise ValueError(f"{where}: {shape!r} is not one of {', '.join(SCALARS)} (? for null)")
    elif isinstance(shape, list):
        if len(shape) != 1:
            raise ValueError(f"{where}: a list shape holds one item shape, e.g. [{{id: integer}}]")
        check_shape(shape[0], f"{where}[]")
    elif isinstance(shape, dict):
        for key, value in shape.items():
            check_shape(value, f"{where}.{key}")
    else:
        raise ValueError(f"{where}: a shape is a type name, an object or a one-item list")


def match_shape(value: Any, shape: Any, where: str = "response") -> str | None:
    """None when `value` has `shape`; else what differs first, e.g. `response.id: expected
    integer, got string`."""
    if isinstance(shape, str):
        if shape.endswith("?") and value is None:
            return None
        kind = shape.removesuffix("?")
        found = _type_name(value)
        ok = kind == "any" or found == kind or (kind == "number" and found == "integer")
        return None if ok else f"{where}: expected {shape}, got {found}"
    if isinstance(shape, list):
        if not isinstance(value, list):
            return f"{where}: expected an array, got {_type_name(value)}"
        for index, item in enumerate(value[:100]):
            problem = match_shape(item, shape[0], f"{where}[{index}]")
            if problem:
                return problem
        return None
    if not isinstance(value, dict):
        return f"{where}: expected an object, got {_type_name(value)}"
    for key, inner in shape.items():
        if key not in value:
            return f"{where}: no {key!r}"
        problem = match_shape(value[key], inner, f"{where}.{key}")
        if problem:
            return problem
    return None


def _type_name(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    if isinstance(value, str):
        return "string"
    return "array" if isinstance(value, list) else "object"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Credentials(_Strict):
    username: str = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.@-]+$")
    password: str = Field(min_length=6, max_length=128)
    email: str = Field(default="", max_length=200)

    @field_validator("password")
    @classmethod
    def _printable(cls, value: str) -> str:
        if not value.isprintable() or any(c in value for c in "\"'`$\\"):
            raise ValueError("use printable characters without quotes, $, ` or \\")
        return value


class Login(_Strict):
    """How the functional test logs in: a request with the credentials filled in, and the
    response field holding a bearer token (none: the app keeps a session cookie)."""

    method: Method = "POST"
    path: str = Field(pattern=PATH.pattern)
    request: dict[str, Any] = Field(default_factory=dict)
    token: str = ""


class Endpoint(_Strict):
    method: Method
    path: str = Field(pattern=PATH.pattern, max_length=200)
    description: str = Field(min_length=1, max_length=500)
    auth: bool = False
    """Needs a login (the test sends the token or the session cookie)."""
    request: dict[str, Any] | list[Any] | None = None
    """An example JSON body (placeholders {username}, {password}, {email} filled in)."""
    status: int = Field(default=200, ge=100, le=599)
    response: Any = None
    """The shape of the JSON response; None: any body."""

    @field_validator("response")
    @classmethod
    def _shape(cls, value: Any) -> Any:
        if value is not None:
            check_shape(value)
        return value

    @property
    def params(self) -> list[str]:
        """The path's parameters, e.g. `id` of `/api/todos/{id}`."""
        return PARAM.findall(self.path)

    @property
    def label(self) -> str:
        return f"{self.method} {self.path}"


class Entity(_Strict):
    name: str = Field(pattern=r"^[A-Z][A-Za-z0-9]{0,40}$")
    fields: dict[str, str] = Field(min_length=1)
    """Field name -> its type and meaning in a few words, e.g. `title: string, required`."""


class Template(_Strict):
    number: int = Field(ge=1, le=MAX_APPS_PER_MODEL)
    """The app number a model builds this template as (`app<N>`)."""
    slug: str = Field(pattern=SLUG.pattern)
    name: str = Field(min_length=1, max_length=100)
    category: str = Field(min_length=1, max_length=50)
    description: str = Field(min_length=1, max_length=2000)
    backend_requirements: list[str] = Field(min_length=1)
    frontend_requirements: list[str] = Field(min_length=1)
    admin_requirements: list[str] = Field(default_factory=list)
    login: Login | None = None
    endpoints: list[Endpoint] = Field(min_length=1, max_length=60)
    data_model: list[Entity] = Field(min_length=1)
    credentials: Credentials

    @model_validator(mode="after")
    def _consistent(self) -> Template:
        seen = set()
        for endpoint in self.endpoints:
            if endpoint.label in seen:
                raise ValueError(f"endpoint {endpoint.label} is listed twice")
            seen.add(endpoint.label)
        if any(e.auth for e in self.endpoints) and self.login is None:
            raise ValueError("endpoints need a login (auth: true) but the template has none")
        return self

    def filled(self, body: Any, run: str = "") -> Any:
        """An example body with {username}, {password} and {email} replaced by the
        credentials, and {run} by `run`."""
        values = {"username": self.credentials.username, "password": self.credentials.password,
                  "email": self.credentials.email, "run": run}  # fmt: skip
        if isinstance(body, str):
            return PLACEHOLDER.sub(lambda m: values[m.group(1)], body)
        if isinstance(body, list):
            return [self.filled(item, run) for item in body]
        if isinstance(body, dict):
            return {key: self.filled(value, run) for key, value in body.items()}
        return body


@dataclass(frozen=True)
class Loaded:
    """A template and where it came from."""

    template: Template
    path: Path
    source: Literal["ours", "user"]


@dataclass
class Catalogue:
    """The templates in force, by number, and the files that were refused (with why)."""

    templates: dict[int, Loaded] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)

    def all(self) -> list[Loaded]:
        return [self.templates[number] for number in sorted(self.templates)]

    def get(self, key: str | int) -> Loaded:
        """A template by slug or number."""
        text = str(key).strip()
        for loaded in self.templates.values():
            if loaded.template.slug == text or str(loaded.template.number) == text:
                return loaded
        raise NotFoundError(f"No template {_said(text)}; `thesis templates list` shows them")

    def select(self, spec: str) -> list[Loaded]:
        """Templates by `1-30`, `1,3,5-7`, slugs, or a mix (`1-3,blog`), in number order."""
        chosen: dict[int, Loaded] = {}
        for part in (p.strip() for p in spec.split(",")):
            if not part:
                continue
            before, dash, after = part.partition("-")
            low, high = _number(before), _number(after)
            if dash and low is not None and high is not None:
                if low > high:
                    raise ValidationError(f"Template range {_said(part)} runs backwards")
                # The templates in it (not the numbers: "1-99999999999" is a few templates)
                found = [loaded for n, loaded in self.templates.items() if low <= n <= high]
                if not found:
                    raise ValidationError(f"No template numbered {_said(part)}")
                chosen.update((loaded.template.number, loaded) for loaded in found)
            else:
                loaded = self.get(part)
                chosen[loaded.template.number] = loaded
        if not chosen:
            raise ValidationError("Name templates: numbers (1-30), slugs, or both")
        return [chosen[number] for number in sorted(chosen)]


def _number(text: str) -> int | None:
    """A whole number as typed (ASCII digits, at most 18), else None."""
    text = text.strip()
    return int(text) if text.isascii() and text.isdecimal() and len(text) <= 18 else None


def _said(text: str) -> str:
    """What the user typed, quoted and cut short for a one-line message."""
    return repr(text if len(text) <= 40 else text[:40] + "…")


def read_template(path: Path) -> Template:
    """One template file (YAML or JSON), read with size and depth limits."""
    raw = read_regular(path, MAX_TEMPLATE_BYTES, "the template")
    try:
        data = load_json(raw, str(path)) if path.suffix == ".json" else load_yaml(raw, str(path))
    except UntrustedInputError:
        raise
    except Exception as exc:  # a YAML or JSON syntax error: one line, never a traceback
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise ValidationError(f"{path}: not valid YAML or JSON ({first})") from None
    return parse_input(Template, data, f"template {path}")


def _files(folder: Path) -> Iterable[Path]:
    try:
        entries = sorted(folder.iterdir())
    except OSError:
        return []
    return [p for p in entries if p.suffix in SUFFIXES and not p.name.startswith(".")]


def load_templates(user_dir: Path | None = None) -> Catalogue:
    """Ours, then the user's folder's: a user's template replaces ours of the same number or
    slug; a file that does not parse, or a second one of a number or slug, is a problem."""
    catalogue = Catalogue()
    for source, folder in (("ours", BUILTIN), ("user", user_dir)):
        if folder is None:
            continue
        if source == "user" and not folder.is_dir():
            catalogue.problems.append(f"{folder}: THESIS_TEMPLATES_DIR is not a folder")
            continue
        taken: dict[str, Path] = {}
        for path in _files(folder):
            try:
                template = read_template(path)
            except (ValidationError, UntrustedInputError) as exc:
                catalogue.problems.append(exc.msg)
                continue
            clash = taken.get(str(template.number)) or taken.get(template.slug)
            if clash is not None:
                catalogue.problems.append(
                    f"{path}: number {template.number} or slug {template.slug!r} is "
                    f"{clash.name}'s already; left out"
                )
                continue
            taken[str(template.number)] = taken[template.slug] = path
            for number, loaded in list(catalogue.templates.items()):
                if loaded.template.slug == template.slug:
                    del catalogue.templates[number]  # the user's replaces ours by slug
            catalogue.templates[template.number] = Loaded(template, path, source)  # type: ignore[arg-type]
    return catalogue


def template_schema() -> dict[str, Any]:
    """The JSON Schema of a template file (`thesis templates schema`)."""
    return Template.model_json_schema()


def dumps(template: Template) -> str:
    """The template as JSON (what `thesis templates show --json` prints)."""
    return json.dumps(template.model_dump(mode="json"), indent=1, ensure_ascii=False)


def describe(template: Template, path: Path | None = None) -> str:
    """The template as a person reads it (`thesis templates show`, the Templates view)."""
    lines = [f"{template.number} · {template.name} ({template.slug}, {template.category})"]
    if path is not None:
        lines.append(f"from {path}")
    lines += ["", template.description, ""]
    for title, items in (
        ("Backend", template.backend_requirements),
        ("Frontend", template.frontend_requirements),
        ("Admin", template.admin_requirements),
    ):
        if items:
            lines.append(f"{title}:")
            lines += [f"  - {item}" for item in items]
    lines.append("Endpoints:")
    for endpoint in template.endpoints:
        login = " (login)" if endpoint.auth else ""
        lines.append(f"  {endpoint.label}{login} -> {endpoint.status}  {endpoint.description}")
        if endpoint.request is not None:
            lines.append(f"      request  {json.dumps(endpoint.request, ensure_ascii=False)}")
        if endpoint.response is not None:
            lines.append(f"      response {json.dumps(endpoint.response, ensure_ascii=False)}")
    lines.append("Data model:")
    for entity in template.data_model:
        fields_text = ", ".join(f"{name} ({kind})" for name, kind in entity.fields.items())
        lines.append(f"  {entity.name}: {fields_text}")
    lines.append(f"Test user: {template.credentials.username} (password in the scaffold's .env)")
    return "\n".join(lines)
