"""Ports screen and the Applications screen's `p`: ports from the keyboard."""

from __future__ import annotations

import socket

from sqlalchemy import delete, select
from test_app import (
    SIZE,
    finish_writes,
    make_app,
    settle,
    table_column,
)
from textual.widgets import DataTable, Static

from tui.db.models import PortAllocation
from tui.widgets.confirm import ConfirmModal


def drop_ports(db) -> None:
    with db.session() as s:
        s.execute(delete(PortAllocation))


class TestPortsScreen:
    async def test_a_allocates_the_lowest_free_ports_to_every_app(self, demo_db, default_ports):
        drop_ports(demo_db)
        app = make_app(demo_db, start="ports")
        async with app.run_test(size=SIZE) as pilot:
            await settle(pilot)
            assert app.screen.query_one("#empty", Static).display
            await pilot.press("a")
            await finish_writes(pilot)
            assert table_column(app, 2) == ["5001", "5002", "5003", "5004"]
            assert table_column(app, 3) == ["8001", "8002", "8003", "8004"]
            assert any("Allocated ports for 4 apps" in n.message for n in app._notifications)

    async def test_a_port_another_process_listens_on_is_shown_as_a_conflict(self, demo_db):
        with socket.socket() as listener:
            listener.bind(("127.0.0.1", 0))
            listener.listen()
            busy = listener.getsockname()[1]
            with demo_db.session() as s:
                s.scalars(
                    select(PortAllocation).where(PortAllocation.backend_port == 5002)
                ).one().backend_port = busy
            app = make_app(demo_db, start="ports")
            async with app.run_test(size=SIZE) as pilot:
                await settle(pilot)
                conflicts = table_column(app, 5)
                row = table_column(app, 2).index(str(busy))
                assert str(busy) in conflicts[row] and "backend" in conflicts[row]
                assert sum(cell != "—" for cell in conflicts) == 1
                cell = app.screen.query_one(DataTable).get_row_at(row)[0]
                assert "red" in str(cell.style)

    async def test_d_releases_the_selected_allocation_after_confirming(self, demo_db) -> None:
        app = make_app(demo_db, start="ports")
        async with app.run_test(size=SIZE) as pilot:
            await settle(pilot)
            await pilot.press("d")
            await pilot.pause()
            assert isinstance(app.screen, ConfirmModal)
            assert "5001 and 8001" in str(app.screen.query_one("#confirm-body", Static).render())
            await pilot.press("y")
            await finish_writes(pilot)
            assert table_column(app, 2) == ["5002", "5003", "5004"]


class TestApplicationsPorts:
    async def test_p_gives_the_selected_app_ports(self, demo_db, default_ports) -> None:
        drop_ports(demo_db)
        app = make_app(demo_db, start="applications")
        async with app.run_test(size=SIZE) as pilot:
            await settle(pilot)
            await pilot.press("j", "p")
            await finish_writes(pilot)
            assert table_column(app, 3) == ["—", "5001", "—", "—"]
            assert table_column(app, 4) == ["—", "8001", "—", "—"]
