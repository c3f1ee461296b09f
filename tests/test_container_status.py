"""What a status sync makes of an app, given its containers' states (no engine needed)."""

from __future__ import annotations

import pytest

from tui.db.models import AppStatus as S
from tui.services.container_status import next_status, observed_status


@pytest.mark.parametrize(
    ("states", "observed"),
    [
        ([], None),
        (["running", "exited"], S.RUNNING),
        (["exited", "exited"], S.STOPPED),
        (["created", "created"], S.CREATED),
        (["created", "exited"], S.STOPPED),
        (["running", "restarting"], S.FAILED),
        (["dead"], S.FAILED),
    ],
)
def test_observed_status_from_container_states(states, observed) -> None:
    assert observed_status(states) == observed


@pytest.mark.parametrize(
    ("current", "observed", "after"),
    [
        (S.RUNNING, None, S.NOT_CREATED),  # containers removed behind our back
        (S.STOPPED, S.RUNNING, S.RUNNING),  # started behind our back
        (S.RUNNING, S.STOPPED, S.STOPPED),
        (S.FAILED, S.STOPPED, S.FAILED),  # a failed start keeps saying so
        (S.FAILED, None, S.FAILED),
        (S.FAILED, S.RUNNING, S.RUNNING),
        (S.NO_COMPOSE, None, S.NO_COMPOSE),  # the scanner's word
        (S.BUILDING, None, S.BUILDING),  # a build in progress owns it
        (S.NOT_CREATED, S.CREATED, S.CREATED),
    ],
)
def test_next_status_after_a_sync(current, observed, after) -> None:
    assert next_status(current, observed) == after


def test_a_sync_reads_and_rewrites_only_the_apps_it_could_change(demo_db) -> None:
    """At a study's size a sync every few seconds must not rewrite every app's row: only
    the apps with a container listed or said to have containers are read and stamped;
    the others' "Last check" is refreshed once it is a minute old."""
    from datetime import timedelta

    from sqlalchemy import select, update

    from tui.db.models import GeneratedApplication as G
    from tui.db.types import utcnow
    from tui.services.container_status import STAMP_EVERY, sync_all

    recent, stale = utcnow() - timedelta(seconds=10), utcnow() - STAMP_EVERY * 2
    with demo_db.write_session() as s:
        s.execute(update(G).values(last_status_check=recent))
        s.execute(update(G).where(G.app_number == 2).values(last_status_check=stale))
    listing = [  # openai 1 (not_created) was started behind our back; anthropic 1 is gone
        {"Labels": {"thesis.model": "openai_gpt-4o-mini", "thesis.app": "1"}, "State": "running"},
        {"Labels": {"thesis.model": "nobody_model", "thesis.app": "1"}, "State": "running"},
    ]
    report = sync_all(demo_db, lambda: listing, skip=(), instance="this-instance")
    assert (report.checked, report.changed, report.containers) == (4, 3, 1)
    with demo_db.session() as s:
        rows = {(a.model_slug, a.app_number): a for a in s.scalars(select(G))}
    assert rows["openai_gpt-4o-mini", 1].status == S.RUNNING
    assert rows["anthropic_claude-3.5-sonnet", 1].status == S.NOT_CREATED
    assert rows["anthropic_claude-3.5-sonnet", 2].status == S.NOT_CREATED  # was stopped
    assert rows["openai_gpt-4o-mini", 2].status == S.NO_COMPOSE

    def checked(key):
        return rows[key].last_status_check.replace(tzinfo=None)

    fresh = utcnow().replace(tzinfo=None) - timedelta(seconds=5)
    assert checked(("openai_gpt-4o-mini", 1)) > fresh  # read: it has a container
    assert checked(("anthropic_claude-3.5-sonnet", 1)) > fresh  # read: said to have some
    assert checked(("openai_gpt-4o-mini", 2)) > fresh  # not read, but its stamp was stale
    assert abs(checked(("openai_gpt-4o-mini", 1)) - checked(("openai_gpt-4o-mini", 2))) < timedelta(
        seconds=5
    )

    with demo_db.write_session() as s:
        s.execute(update(G).values(last_status_check=recent))
    sync_all(demo_db, list, skip=(), instance="this-instance")
    with demo_db.session() as s:
        untouched = s.scalar(select(G.last_status_check).where(G.status == S.NO_COMPOSE))
    assert untouched.replace(tzinfo=None) == recent.replace(tzinfo=None)  # not rewritten
