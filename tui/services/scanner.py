"""Scan a folder of generated apps into `generated_applications`.

Layout: `<root>/<model_slug>/app<N>/` (also `<root>/<model_slug>/flask_apps/app<N>/`), each
with `backend/`, `frontend/` and a compose file. Files are only read and hashed — generated
code is untrusted and never imported or run. Symlinks are not followed, so a link cannot
lead the scan out of the tree. All database work is done in bulk in one transaction.
"""

from __future__ import annotations

import hashlib
import os
import re
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import yaml
from sqlalchemy import insert, select, update

from tui.db import Database
from tui.db.models import MAX_APPS_PER_MODEL, AppStatus, GeneratedApplication, ModelCapability
from tui.db.types import utcnow
from tui.errors import ScanError, ThesisError, shown
from tui.services.apps import SKIP_DIRS
from tui.services.untrusted import MAX_YAML_BYTES, load_yaml, read_app_file

# app1 … app30: no leading zero (app01 would alias app1), nothing after the number.
APP_FOLDER = re.compile(r"app([1-9][0-9]?)")
SLUG = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*")
"""Both are matched whole (`fullmatch`): `app1\n` is not app 1."""
COMPOSE_FILES = ("docker-compose.yml", "docker-compose.yaml", "compose.yml", "compose.yaml")
LANGUAGES = {
    ".py": "python",
    ".js": "javascript",
    ".jsx": "javascript",
    ".mjs": "javascript",
    ".ts": "typescript",
    ".tsx": "typescript",
    ".html": "html",
    ".css": "css",
    ".vue": "vue",
    ".sh": "shell",
}
MAX_FILE_BYTES = 5 * 1024 * 1024  # bigger files are hashed by size only (binaries, dumps)
MAX_DEPTH = 32
"""Deepest folder nesting read inside an app; deeper is that app's problem, not a crash."""
MAX_FILES = 200_000
"""Most files read in one app; more is that app's problem."""


@dataclass(frozen=True)
class ScanReport:
    found: int = 0
    added: int = 0
    updated: int = 0
    unchanged: int = 0
    missing: int = 0
    models_created: int = 0
    skipped: list[tuple[str, str]] = field(default_factory=list)

    root: str = ""

    def summary(self) -> str:
        text = (
            f"Scanned {self.found} apps: {self.added} added, {self.updated} updated, "
            f"{self.unchanged} unchanged, {self.missing} missing; "
            f"{self.models_created} new models; {len(self.skipped)} folders skipped"
        )
        if not self.found and self.root:
            text += (
                f". Put generated apps in {shown(self.root)} as <model_slug>/app<N>/, "
                "or set THESIS_APPS_DIR to your folder of them"
            )
        return text


@dataclass(frozen=True)
class _Found:
    slug: str
    number: int
    path: Path


@dataclass(frozen=True)
class _Inspected:
    found: _Found
    content_hash: str
    metadata: dict[str, Any]
    has_compose: bool


def slug_problem(name: str) -> str | None:
    """Why a folder name cannot be a model slug, or None when it can."""
    if ".." in name or not SLUG.fullmatch(name):
        return "not a model slug (letters, digits, '.', '_', '-'; no '..')"
    return None


def _app_folders(model_dir: Path, skipped: list[tuple[str, str]]) -> list[tuple[int, Path]]:
    folders = []
    for parent in (model_dir, model_dir / "flask_apps"):
        if not parent.is_dir() or parent.is_symlink():
            continue
        for entry in sorted(parent.iterdir()):
            if entry.name == "flask_apps" or not entry.name.startswith("app"):
                continue
            match = APP_FOLDER.fullmatch(entry.name)
            if match is None or int(match.group(1)) > MAX_APPS_PER_MODEL:
                skipped.append((str(entry), f"not app1 … app{MAX_APPS_PER_MODEL}"))
            elif entry.is_symlink() or not entry.is_dir():
                skipped.append((str(entry), "not a folder"))
            else:
                folders.append((int(match.group(1)), entry))
    return folders


def discover(root: Path) -> tuple[list[_Found], list[tuple[str, str]]]:
    """Every app folder under `root`, and (path, reason) for each folder that does not parse."""
    if not root.is_dir():
        raise ScanError(f"Cannot scan {root}: it is not a folder")
    found: dict[tuple[str, int], _Found] = {}
    skipped: list[tuple[str, str]] = []
    try:
        model_dirs = sorted(root.iterdir())
    except OSError as exc:
        raise ScanError(f"Cannot scan {root}: {exc.strerror or exc}") from None
    for model_dir in model_dirs:
        if model_dir.name.startswith("."):
            continue
        if model_dir.is_symlink() or not model_dir.is_dir():
            skipped.append((str(model_dir), "not a folder"))
            continue
        problem = slug_problem(model_dir.name)
        if problem:
            skipped.append((str(model_dir), problem))
            continue
        try:
            folders = _app_folders(model_dir, skipped)
        except OSError as exc:  # unreadable (permissions), or gone while we looked
            skipped.append((str(model_dir), f"cannot be read: {exc.strerror or exc}"))
            continue
        for number, path in folders:
            key = (model_dir.name, number)
            if key in found:
                skipped.append((str(path), f"duplicate of {found[key].path}"))
            else:
                found[key] = _Found(model_dir.name, number, path)
    return list(found.values()), skipped


def _compose_services(app: Path, name: str) -> dict[str, Any]:
    try:
        data = read_app_file(app, Path(name), MAX_YAML_BYTES, "the compose file")
        document = load_yaml(data, "the compose file")
    except yaml.YAMLError as exc:
        return {"error": f"malformed compose file: {' '.join(str(exc).split())[:200]}"}
    except ThesisError as exc:
        return {"error": str(exc)}
    services = document.get("services") if isinstance(document, dict) else None
    if not isinstance(services, dict):
        return {"error": "compose file has no services"}
    described = {}
    for service_name, service in services.items():
        service = service if isinstance(service, dict) else {}
        build = service.get("build")
        context = build.get("context") if isinstance(build, dict) else build
        ports = service.get("ports") or []
        described[str(service_name)] = {
            "build": None if context is None else str(context),
            "image": None if service.get("image") is None else str(service.get("image")),
            "ports": [str(port) for port in (ports if isinstance(ports, list) else [ports])],
        }
    return {"services": described}


def _app_files(base: str) -> list[tuple[str, str, int]]:
    """(relative path, absolute path, size) of the app's regular files, walked without
    recursion and without following links; ScanError when the app is too deep or too big."""
    entries: list[tuple[str, str, int]] = []
    pending = [(base, "", 0)]
    while pending:
        directory, relative_dir, depth = pending.pop()
        if depth > MAX_DEPTH:
            raise ScanError(f"folders nested deeper than {MAX_DEPTH} levels")
        with os.scandir(directory) as listing:
            for entry in listing:
                relative = f"{relative_dir}/{entry.name}" if relative_dir else entry.name
                if entry.is_dir(follow_symlinks=False):
                    if entry.name not in SKIP_DIRS:
                        pending.append((entry.path, relative, depth + 1))
                elif entry.is_file(follow_symlinks=False):  # not a symlink, device or fifo
                    entries.append(
                        (relative, entry.path, entry.stat(follow_symlinks=False).st_size)
                    )
                    if len(entries) > MAX_FILES:
                        raise ScanError(f"more than {MAX_FILES:,} files")
    return entries


def content_hash(path: Path) -> str:
    """The hash a scan records for the app folder at `path`, computed now: the batch engine
    hashes when a task runs, so a file changed since the scan is seen."""
    return inspect_app(_Found("", 0, path), describe=False).content_hash


def inspect_app(found: _Found, *, describe: bool = True) -> _Inspected:
    """Hash and describe one app folder (read only; nothing in it is executed)."""
    digest = hashlib.sha256()
    languages: Counter[str] = Counter()
    files = 0
    lines = 0
    # Plain strings and one lstat per file: pathlib objects cost more than the reading.
    entries = _app_files(str(found.path))
    for relative, absolute, size in sorted(entries):
        if size <= MAX_FILE_BYTES:
            with open(absolute, "rb") as handle:
                data = handle.read()
        else:
            data = str(size).encode()
        digest.update(os.fsencode(relative) + b"\0" + data + b"\0")
        files += 1
        language = LANGUAGES.get(os.path.splitext(relative)[1].lower())
        if language:
            count = data.count(b"\n") + (1 if data and not data.endswith(b"\n") else 0)
            languages[language] += count
            lines += count
    compose = next((found.path / n for n in COMPOSE_FILES if (found.path / n).is_file()), None)
    metadata: dict[str, Any] = {
        "files": files,
        "lines_of_code": lines,
        "languages": dict(sorted(languages.items())),
        "has_backend": (found.path / "backend").is_dir(),
        "has_frontend": (found.path / "frontend").is_dir(),
        "compose_file": compose.name if compose else None,
    }
    if compose is not None and describe:
        metadata.update(_compose_services(found.path, compose.name))
    return _Inspected(found, digest.hexdigest(), metadata, compose is not None)


def _scanned_by(root: Path, app_path: Path) -> bool:
    """Whether a scan of `root` looks where the app at `app_path` lived: `root/<model>/appN`
    (or `root/<model>/flask_apps/appN`). A scan of a parent or of another folder does not, so
    it cannot mark the app missing."""
    model_dir = app_path.parent
    if model_dir.name == "flask_apps":
        model_dir = model_dir.parent
    return model_dir.parent == root


def _status(current: AppStatus | None, has_compose: bool) -> AppStatus:
    if not has_compose:
        return AppStatus.NO_COMPOSE
    if current is None or current == AppStatus.NO_COMPOSE:
        return AppStatus.NOT_CREATED
    return current  # a container state (running, stopped, …) is not the scanner's to change


def scan_apps(
    db: Database, root: Path, *, now: datetime | None = None, create: bool = False
) -> ScanReport:
    """Create or update one row per app under `root`; mark vanished ones missing.

    `create` makes `root` first when it does not exist (the default apps folder on a fresh
    install); a folder given by the user must exist.
    """
    try:
        root = root.expanduser().resolve()
        str(root).encode("utf-8")
        root.exists()
    except UnicodeEncodeError:
        raise ScanError(f"Cannot scan {root}: its name is not UTF-8") from None
    except (OSError, RuntimeError) as exc:  # a name too long, a loop of links, ~nobody
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        raise ScanError(f"Cannot scan {str(root)[:200]}: {reason}") from None
    if create and not root.exists():
        try:
            root.mkdir(parents=True)
        except OSError as exc:
            raise ScanError(
                f"Cannot create the apps folder {root}: {exc.strerror or exc}; "
                "set THESIS_APPS_DIR to your folder of generated apps"
            ) from None
    now = now or utcnow()
    found, skipped = discover(root)
    # Serial on purpose: measured 2x faster than a thread pool (the work holds the GIL).
    inspected = []
    unreadable: set[tuple[str, int]] = set()
    for item in found:
        try:
            inspected.append(inspect_app(item))
        except (OSError, ThesisError, RecursionError) as exc:
            # One app's problem is that app's: it is listed and keeps its row as it was.
            reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
            skipped.append((str(item.path), f"cannot be read: {reason}"))
            unreadable.add((item.slug, item.number))
    g = GeneratedApplication
    with db.write_session() as session:
        known_models = set(session.scalars(select(ModelCapability.canonical_slug)))
        new_models = sorted({item.found.slug for item in inspected} - known_models)
        if new_models:
            session.execute(
                insert(ModelCapability),
                [
                    {
                        "model_id": slug,
                        "canonical_slug": slug,
                        "provider": slug.split("_", 1)[0],
                        "display_name": slug.split("_", 1)[-1],
                        "model_name": slug.split("_", 1)[-1],
                        "created_at": now,
                        "updated_at": now,
                    }
                    for slug in new_models
                ],
            )
        existing = {
            (row.model_slug, row.app_number): row
            for row in session.execute(
                select(
                    g.id,
                    g.model_slug,
                    g.app_number,
                    g.status,
                    g.content_hash,
                    g.app_metadata,
                    g.source_path,
                    g.missing_since,
                )
            )
        }
        added, changed, unchanged = [], [], 0
        for item in inspected:
            values = {
                "source_path": str(item.found.path),
                "content_hash": item.content_hash,
                "app_metadata": item.metadata,
                "missing_since": None,
            }
            row = existing.get((item.found.slug, item.found.number))
            status = _status(row.status if row else None, item.has_compose)
            if row is None:
                added.append(
                    {
                        **values,
                        "model_slug": item.found.slug,
                        "app_number": item.found.number,
                        "provider": item.found.slug.split("_", 1)[0],
                        "status": status,
                        "created_at": now,
                        "updated_at": now,
                    }
                )
            elif row.status != status or any(
                getattr(row, key) != value for key, value in values.items()
            ):
                changed.append({**values, "id": row.id, "status": status, "updated_at": now})
            else:
                unchanged += 1
        if added:
            session.execute(insert(g), added)
        if changed:
            session.execute(update(g), changed)
        seen = {(item.found.slug, item.found.number) for item in inspected} | unreadable
        vanished = [
            {"id": row.id, "missing_since": now}
            for key, row in existing.items()
            if key not in seen
            and row.missing_since is None
            and row.source_path
            and _scanned_by(root, Path(row.source_path))
        ]
        if vanished:
            session.execute(update(g), vanished)
    return ScanReport(
        found=len(inspected),
        added=len(added),
        updated=len(changed),
        unchanged=unchanged,
        missing=len(vanished),
        models_created=len(new_models),
        skipped=skipped,
        root=str(root),
    )


def register_app(
    db: Database,
    slug: str,
    number: int,
    path: Path,
    *,
    generation_metadata: dict[str, Any] | None = None,
) -> int:
    """Register one app folder as a scan would (hash, description, status), with how it was
    generated when given; returns the app's id. The model must be in the catalogue."""
    item = inspect_app(_Found(slug, number, path))
    g = GeneratedApplication
    now = utcnow()
    values: dict[str, Any] = {
        "source_path": str(path),
        "content_hash": item.content_hash,
        "app_metadata": item.metadata,
        "missing_since": None,
        "updated_at": now,
    }
    if generation_metadata is not None:
        values["generation_metadata"] = generation_metadata
        values["status_detail"] = None  # no longer "being generated"
    with db.write_session() as session:
        row = session.execute(
            select(g.id, g.status).where(g.model_slug == slug, g.app_number == number)
        ).first()
        status = _status(row.status if row else None, item.has_compose)
        if row is not None:
            session.execute(update(g).where(g.id == row.id).values(**values, status=status))
            return int(row.id)
        created = session.execute(
            insert(g).values(**values, model_slug=slug, app_number=number, status=status,
                             provider=slug.split("_", 1)[0], created_at=now)
        )  # fmt: skip
        return int(created.inserted_primary_key[0])
