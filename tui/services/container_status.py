"""App status from Docker: one listing of every labelled container, one bulk update.

The rules are plain functions so they can be read (and tested) apart from Docker.
"""

from __future__ import annotations

from dataclasses import dataclass

import docker
from sqlalchemy import select, update

from tui.db import Database
from tui.db.models import AppStatus, GeneratedApplication
from tui.db.types import utcnow
from tui.services.docker_engine import LABEL_APP, LABEL_INSTANCE, LABEL_MODEL, docker_errors


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


def sync_all(
    db: Database, client: docker.DockerClient, *, skip: set[int], instance: str
) -> SyncReport:
    """Every app's status and last_status_check from one Docker call, in one transaction.

    Apps in `skip` (an action of ours is running on them) are left to that action. Only
    this instance's containers count (and unlabelled ones of our apps, made by versions
    before instance labels): another ThesisApp on the same engine is not ours to count.
    """
    g = GeneratedApplication
    with db.write_session() as session:
        # Listing inside the write transaction: an action's final status write waits for
        # it, so a listing taken before the action ended never overwrites what it wrote.
        with docker_errors("list containers"):
            listed = client.containers.list(all=True, sparse=True, filters={"label": LABEL_APP})
        rows = session.execute(select(g.id, g.model_slug, g.app_number, g.status)).all()
        ours = {(row.model_slug, row.app_number) for row in rows}
        states: dict[tuple[str, int], list[str]] = {}
        counted = 0
        for container in listed:
            labels = container.attrs.get("Labels") or {}
            number = labels.get(LABEL_APP, "")
            if not (number.isdigit() and labels.get(LABEL_MODEL)):
                continue
            key = (labels[LABEL_MODEL], int(number))
            owner = labels.get(LABEL_INSTANCE)
            if owner != instance and (owner is not None or key not in ours):
                continue
            counted += 1
            states.setdefault(key, []).append(str(container.attrs.get("State", "")))
        now = utcnow()
        changes = []
        for row in rows:
            if row.id in skip:
                continue
            observed = observed_status(states.get((row.model_slug, row.app_number), []))
            status = next_status(row.status, observed)
            if status != row.status:
                changes.append({"id": row.id, "status": status, "updated_at": now})
        session.execute(update(g).where(g.id.not_in(skip)).values(last_status_check=now))
        if changes:
            session.execute(update(g), changes)
    return SyncReport(checked=len(rows), changed=len(changes), containers=counted)
