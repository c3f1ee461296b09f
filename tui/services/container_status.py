"""App status from Docker: one listing of every labelled container, one bulk update.

The rules are plain functions so they can be read (and tested) apart from Docker. The
listing goes through docker_api.py, not the SDK: the TUI syncs from its first screen on.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Collection
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy import bindparam, func, or_, select, tuple_, update

from tui.config import Settings
from tui.db import Database
from tui.db.tables import AppStatus, generated_applications
from tui.db.types import utcnow
from tui.services.common import chunks
from tui.services.docker_api import EngineAPI, connect_api, list_labelled, supported
from tui.services.docker_names import LABEL_APP, LABEL_INSTANCE, LABEL_MODEL
from tui.services.instance import instance_id

Listing = Callable[[], list[dict[str, Any]]]


@dataclass(frozen=True)
class SyncReport:
    checked: int
    changed: int
    containers: int

    def summary(self) -> str:
        return (
            f"Checked {self.checked} apps against {self.containers} containers: "
            f"{self.changed} changed status"
        )


def observed_status(states: list[str]) -> AppStatus | None:
    """An app's status from its containers' states; None when it has no containers."""
    if not states:
        return None
    if any(state in ("restarting", "dead") for state in states):
        return AppStatus.FAILED
    if any(state == "running" for state in states):
        return AppStatus.RUNNING
    if all(state == "created" for state in states):
        return AppStatus.CREATED
    return AppStatus.STOPPED


def next_status(current: AppStatus, observed: AppStatus | None) -> AppStatus:
    """What a status sync makes of an app's status, given what Docker shows."""
    if current in (AppStatus.NO_COMPOSE, AppStatus.BUILDING):
        return current  # the scanner and a running build own these
    if observed is None:
        return current if current == AppStatus.FAILED else AppStatus.NOT_CREATED
    if current == AppStatus.FAILED and observed == AppStatus.STOPPED:
        return current  # a failed start leaves its containers stopped: keep saying why
    return observed


# Statuses that say an app has containers: a sync with none of them listed changes these.
# Every other app can change only when a container of it is listed.
_WITH_CONTAINERS = (AppStatus.CREATED, AppStatus.RUNNING, AppStatus.STOPPED)
# An app's "Last check" is refreshed at least this often; an app whose status can change
# (one listed, or said to have containers) on every sync. A study has thousands of apps:
# rewriting every row every few seconds would hold the write lock and bloat the tables.
STAMP_EVERY = timedelta(seconds=60)
_KEYS_PER_QUERY = 400  # (model, number) pairs in one IN list, under SQLite's variable limit


def _listed(listing: list[dict[str, Any]]) -> list[tuple[tuple[str, int], Any, str]]:
    """(app key, instance label, state) of each container whose labels name an app."""
    entries = []
    for container in listing:
        labels = container.get("Labels") or {}
        if not isinstance(labels, dict):
            continue
        number, model = labels.get(LABEL_APP), labels.get(LABEL_MODEL)
        # What an engine lists is data from outside: labels anyone could have set.
        if not (isinstance(number, str) and number.isascii() and number.isdigit()):
            continue
        if not (isinstance(model, str) and model):
            continue
        key = (model, int(number))
        entries.append((key, labels.get(LABEL_INSTANCE), str(container.get("State", ""))))
    return entries


def sync_all(db: Database, listing: Listing, *, skip: Collection[int], instance: str) -> SyncReport:
    """Every app's status from one Docker call (`listing`: the engine's entries of the
    containers labelled with an app), in one transaction.

    Only the apps whose status can change are read: those with a container listed and
    those said to have containers. Apps in `skip` (an action of ours is running on them)
    are left to that action. Only this instance's containers count (and unlabelled ones of
    our apps, made by versions before instance labels): another ThesisApp on the same
    engine is not ours to count.
    """
    table = generated_applications
    g = table.c
    columns = (g.id, g.model_slug, g.app_number, g.status)
    with db.write() as conn:
        # Listing inside the write transaction: an action's final status write waits for
        # it, so a listing taken before the action ended never overwrites what it wrote.
        entries = _listed(listing())
        keys = sorted({key for key, _, _ in entries})
        rows = {
            r.id: r for r in conn.execute(select(*columns).where(g.status.in_(_WITH_CONTAINERS)))
        }
        for chunk in chunks(keys, _KEYS_PER_QUERY):
            found = conn.execute(
                select(*columns).where(tuple_(g.model_slug, g.app_number).in_(chunk))
            )
            rows.update((r.id, r) for r in found)
        ours = {(row.model_slug, row.app_number) for row in rows.values()}
        states: dict[tuple[str, int], list[str]] = {}
        counted = 0
        for key, owner, state in entries:
            if owner != instance and (owner is not None or key not in ours):
                continue
            counted += 1
            states.setdefault(key, []).append(state)
        now = utcnow()
        stamps, changes = [], []
        for row in rows.values():
            if row.id in skip:
                continue
            observed = observed_status(states.get((row.model_slug, row.app_number), []))
            status = next_status(row.status, observed)
            stamp = {"row_id": row.id, "now": now}
            if status == row.status:
                stamps.append(stamp)
            else:
                changes.append({**stamp, "new_status": status})
        by_id = update(table).where(g.id == bindparam("row_id"))
        if changes:
            conn.execute(
                by_id.values(status=bindparam("new_status"), last_status_check=bindparam("now")),
                changes,
            )
        if stamps:
            conn.execute(by_id.values(last_status_check=bindparam("now")), stamps)
        stale = or_(g.last_status_check.is_(None), g.last_status_check < now - STAMP_EVERY)
        conn.execute(update(table).where(stale, g.id.not_in(skip)).values(last_status_check=now))
        total = conn.scalar(select(func.count()).select_from(table))
    return SyncReport(checked=total or 0, changed=len(changes), containers=counted)


class StatusSync:
    """Apps' statuses from the engine in the settings, for the TUI's timer and
    `thesis containers status`; thread-safe; connects on first use and after close()."""

    def __init__(self, db: Database, settings: Settings) -> None:
        self.db = db
        self.settings = settings
        self._lock = threading.Lock()
        self._api: EngineAPI | None = None
        self._client: Any = None  # the SDK's, for hosts docker_api does not reach (ssh://)

    def _listing(self) -> list[dict[str, Any]]:
        host = self.settings.docker_host
        if supported(host):
            with self._lock:
                if self._api is None:
                    self._api = connect_api(host, self.settings.docker_timeout)
                api = self._api
            return list_labelled(api, LABEL_APP)
        from tui.services.docker_engine import connect, docker_errors

        with self._lock:
            if self._client is None:
                self._client = connect(self.settings)
            client = self._client
        with docker_errors("list containers"):
            listed: list[dict[str, Any]] = client.api.containers(
                all=True, filters={"label": LABEL_APP}
            )
        return listed

    def sync(self, skip: Collection[int] = ()) -> SyncReport:
        """Every app's status at once; apps in `skip` are left to the action running on them."""
        return sync_all(self.db, self._listing, skip=skip, instance=instance_id(self.db))

    def close(self) -> None:
        """Forget the connection: the next sync connects (and pings) again."""
        with self._lock:
            self._api = None
            if self._client is not None:
                self._client.close()
                self._client = None
