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
