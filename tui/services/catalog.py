"""The model catalogue: adding / editing / deleting by hand, and syncing (the listing is in
model_listing.py).

A sync (from OpenRouter or from a file of the same shape) is one transaction: every entry
is read and checked first, so one malformed entry stops the sync before anything is
written, and a sync that fails half-way leaves the catalogue as it was. A sync never
deletes: models that are no longer listed stay (their apps and analyses depend on them)
and are marked unavailable.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import delete, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from tui.db import Database
from tui.db.models import GeneratedApplication, ModelCapability
from tui.db.types import utcnow
from tui.errors import NotFoundError, ThesisError, ValidationError
from tui.services.model_listing import COLUMN_OF, public_fields
from tui.services.openrouter import extract_entries, parse_model_entry
from tui.services.schemas import ModelCreate, ModelRead, ModelUpdate, parse_input
from tui.services.untrusted import read_regular

# --- one model: the add / edit / delete form ----------------------------------------


def _columns(data: ModelCreate | ModelUpdate, *, only_given: bool = False) -> dict[str, Any]:
    """The schema's fields as ModelCapability columns (the schemas use the names the UI shows)."""
    values = data.model_dump(exclude_unset=only_given)
    return {COLUMN_OF.get(field, field): value for field, value in values.items()}


def _read(model: ModelCapability, app_count: int) -> ModelRead:
    return ModelRead(**public_fields(model, _READ_FIELDS), app_count=app_count)


def _find(session: Session, slug: str) -> ModelCapability:
    model = session.scalar(select(ModelCapability).where(ModelCapability.canonical_slug == slug))
    if model is None:
        raise NotFoundError(f"No model with slug {slug}")
    return model


def _app_count(session: Session, slug: str) -> int:
    count = session.scalar(select(func.count()).where(GeneratedApplication.model_slug == slug))
    return int(count or 0)


def _integrity_message(exc: IntegrityError) -> str:
    text = str(exc.orig or exc).strip().splitlines()
    return text[0] if text else "the database refused the change"


def get_model(db: Database, slug: str) -> ModelRead:
    """One model with its number of apps; NotFoundError if there is none."""
    with db.session() as session:
        return _read(_find(session, slug), _app_count(session, slug))


def count_apps(db: Database, slug: str) -> int:
    """How many generated apps a model has: what deleting it would delete too."""
    with db.session() as session:
        _find(session, slug)
        return _app_count(session, slug)


def create_model(db: Database, data: ModelCreate | Mapping[str, Any]) -> ModelRead:
    """Add a model by hand. Its `model_id` is its slug, as the seeds' examples have it."""
    model = parse_input(ModelCreate, data, "model")
    duplicate = ValidationError(f"A model with slug {model.slug} already exists")
    try:
        with db.write_session() as session:
            m = ModelCapability
            taken = session.scalar(
                select(func.count()).where(
                    (m.canonical_slug == model.slug) | (m.model_id == model.slug)
                )
            )
            if taken:
                raise duplicate
            row = ModelCapability(model_id=model.slug, **_columns(model))
            session.add(row)
            session.flush()
            return _read(row, 0)
    except IntegrityError:  # added by someone else between the check and the insert
        raise duplicate from None


def update_model(db: Database, slug: str, data: ModelUpdate | Mapping[str, Any]) -> ModelRead:
    """Change the fields given in `data`; the others keep their values."""
    changes = _columns(parse_input(ModelUpdate, data, "model"), only_given=True)
    try:
        with db.write_session() as session:
            row = _find(session, slug)
            for column, value in changes.items():
                setattr(row, column, value)
            session.flush()
            return _read(row, _app_count(session, slug))
    except IntegrityError as exc:
        raise ValidationError(f"Cannot update {slug}: {_integrity_message(exc)}") from None


def delete_model(db: Database, slug: str) -> int:
    """Delete a model; the database deletes its apps, ports and analyses with it
    (ON DELETE CASCADE). Returns how many apps went with it, for the confirmation."""
    with db.write_session() as session:
        _find(session, slug)
        apps = _app_count(session, slug)
        session.execute(delete(ModelCapability).where(ModelCapability.canonical_slug == slug))
        return apps


# --- sync ------------------------------------------------------------------------------

# What a sync writes. Not `parameters_billions`: OpenRouter does not list it, so a value
# typed in by hand survives every sync.
_SYNCED_COLUMNS = (
    "provider",
    "display_name",
    "model_name",
    "model_id_openrouter",
    "context_length",
    "max_output_tokens",
    "pricing_prompt",
    "pricing_completion",
    "supports_vision",
    "supports_function_calling",
    "supports_json_mode",
    "supports_streaming",
    "is_free",
    "is_available",
    "additional_capabilities",
)


@dataclass(frozen=True)
class SyncReport:
    """What a sync did. `marked_unavailable` counts models that were listed before and
    are not any more (kept, flagged unavailable)."""

    added: int
    updated: int
    unchanged: int
    marked_unavailable: int

    @property
    def listed(self) -> int:
        return self.added + self.updated + self.unchanged

    def summary(self) -> str:
        noun = "model" if self.listed == 1 else "models"
        return (
            f"Synced {self.listed} {noun}: {self.added} added, {self.updated} updated, "
            f"{self.unchanged} unchanged, {self.marked_unavailable} no longer listed"
        )


def _read_entries(entries: list[dict[str, Any]]) -> list[ModelCreate]:
    """Every entry checked before anything is written; duplicates of a slug refused."""
    if not isinstance(entries, list):
        raise ValidationError("Cannot sync: the model list is not a list; nothing was changed")
    if not entries:
        # An empty answer would mark the whole catalogue unavailable: far likelier a broken
        # export or proxy than OpenRouter dropping every model.
        raise ValidationError("Cannot sync: the model list is empty; nothing was changed")
    models: list[ModelCreate] = []
    first_with: dict[str, int] = {}
    for number, entry in enumerate(entries, 1):
        try:
            model = parse_model_entry(entry, number)
        except ValidationError as exc:
            raise ValidationError(f"Cannot sync: {exc.msg}; nothing was changed") from None
        if model.slug in first_with:
            earlier = models[first_with[model.slug] - 1]
            raise ValidationError(
                f"Cannot sync: model entries #{first_with[model.slug]} "
                f"({earlier.model_id_openrouter}) and #{number} ({model.model_id_openrouter}) "
                f"would both get the slug {model.slug}; nothing was changed"
            )
        first_with[model.slug] = number
        models.append(model)
    return models


def sync_models(
    db: Database, entries: list[dict[str, Any]], *, now: datetime | None = None
) -> SyncReport:
    """Upsert OpenRouter model-list entries into the catalogue, in one transaction.

    Keyed by slug: a listed model is added, or updated when anything differs (prices,
    flags, limits, description...), or left unchanged but stamped `last_synced_at`. Models
    that came from OpenRouter (they have an OpenRouter id) and are not listed any more are
    marked unavailable; models added by hand without an OpenRouter id are left alone.
    """
    now = now or utcnow()
    models = _read_entries(entries)
    added = updated = marked = 0
    unchanged_ids: list[int] = []
    m = ModelCapability
    try:
        with db.write_session() as session:
            existing = {row.canonical_slug: row for row in session.scalars(select(m))}
            for model in models:
                values = {k: v for k, v in _columns(model).items() if k in _SYNCED_COLUMNS}
                row = existing.pop(model.slug, None)
                if row is None:
                    session.add(
                        m(
                            model_id=model.slug,
                            canonical_slug=model.slug,
                            last_synced_at=now,
                            **values,
                        )
                    )
                    added += 1
                elif any(getattr(row, k) != v for k, v in values.items()):
                    for column, value in values.items():
                        setattr(row, column, value)
                    row.last_synced_at = now
                    updated += 1
                else:
                    unchanged_ids.append(row.id)
            for row in existing.values():
                if row.is_available and row.model_id_openrouter is not None:
                    row.is_available = False
                    marked += 1
            session.flush()
            if unchanged_ids:
                # Stamp "seen in this sync" without touching updated_at: nothing changed.
                session.execute(
                    update(m)
                    .where(m.id.in_(unchanged_ids))
                    .values(last_synced_at=now, updated_at=m.updated_at),
                    execution_options={"synchronize_session": False},
                )
    except IntegrityError as exc:
        raise ValidationError(
            f"Cannot sync: {_integrity_message(exc)} (did another sync run at the same "
            "time?); nothing was changed"
        ) from None
    return SyncReport(added, updated, len(unchanged_ids), marked)


MAX_MODELS_FILE_BYTES = 64 * 1024 * 1024
"""OpenRouter's whole list is about 1 MiB."""


def load_models_file(path: str | Path) -> list[dict[str, Any]]:
    """The entries of a model-list file for offline machines: OpenRouter's answer saved
    as is (`curl .../api/v1/models > models.json`) or a bare JSON array of entries."""
    path = Path(path)
    try:
        content = read_regular(path, MAX_MODELS_FILE_BYTES, "models file")
    except ThesisError as exc:
        raise ValidationError(exc.msg) from None
    try:
        payload = json.loads(content)
    except RecursionError:
        raise ValidationError(f"Models file {path} is nested too deeply to read") from None
    except json.JSONDecodeError as exc:
        raise ValidationError(
            f"Models file {path} is not JSON: {exc.msg} (line {exc.lineno}, column {exc.colno})"
        ) from None
    except (UnicodeDecodeError, ValueError):
        raise ValidationError(f"Models file {path} is not JSON text") from None
    try:
        return extract_entries(payload)
    except ValueError as exc:
        raise ValidationError(f"Models file {path} holds {exc}") from None


# The fields ModelRead takes from a ModelCapability (app_count is counted).
_READ_FIELDS = [name for name in ModelRead.model_fields if name != "app_count"]
