"""The schema's rules, enforced by the database itself, on SQLite and on PostgreSQL.

Every refusal is checked against the rule the database names (the constraint's name on
PostgreSQL, the text after "constraint failed:" on SQLite), so a row refused for some other
reason cannot pass for the rule under test; and refused rows have accepted twins that differ
only in the value under test. Deletes and renames go through raw SQL, so what is
proven is that the DATABASE cascades, not the ORM.
"""

from __future__ import annotations

import itertools
from collections import defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from sqlalchemy import Constraint, Enum, ForeignKeyConstraint, UniqueConstraint, select, text
from sqlalchemy.exc import IntegrityError, StatementError

from tui.db import Database
from tui.db.models import (
    AnalysisTask,
    AnalysisType,
    AuditLog,
    Base,
    BatchAnalysis,
    BatchJob,
    BatchTask,
    ContainerizedTest,
    GeneratedApplication,
    ModelCapability,
    ModelUsage,
    OpenRouterAnalysis,
    Outcome,
    PerformanceTest,
    PortAllocation,
    SecurityAnalysis,
    Setting,
    ZapAnalysis,
)
from tui.db.types import utcnow

SLUG = "openai_gpt-4o"  # apps 1, 2, 3, 4 and 30
OTHER = "anthropic_claude-3.5-sonnet"  # app 1
FRESH = "mistralai_mistral-large"  # no apps
WORLD_APPS = [(SLUG, 1), (SLUG, 2), (SLUG, 3), (SLUG, 4), (SLUG, 30), (OTHER, 1)]


# --- a small world every test starts from -------------------------------------------------


@dataclass
class World:
    apps: dict[tuple[str, int], int] = field(default_factory=dict)  # (slug, number) -> id
    jobs: list[int] = field(default_factory=list)

    @property
    def app_id(self) -> int:
        return self.apps[(SLUG, 1)]


def model(slug: str) -> ModelCapability:
    return ModelCapability(
        model_id=slug,
        canonical_slug=slug,
        provider=slug.split("_")[0],
        display_name=slug,
        model_name=slug.split("_", 1)[1],
    )


@pytest.fixture
def world(db: Database) -> World:
    """Three models, the apps in WORLD_APPS (no ports), two batch jobs."""
    built = World()
    with db.session() as s:
        s.add_all(model(slug) for slug in (SLUG, OTHER, FRESH))
        s.flush()
        for slug, number in WORLD_APPS:
            app = GeneratedApplication(model_slug=slug, app_number=number)
            s.add(app)
            s.flush()
            built.apps[(slug, number)] = app.id
        for name in ("nightly", "weekly"):
            job = BatchJob(name=name)
            s.add(job)
            s.flush()
            built.jobs.append(job.id)
    return built


# One valid row per table. `n` makes every unique column of the row distinct from the rows
# built with another `n`; keyword arguments override columns.
def _batch_task(w: World, n: int, job: int = 0, **kw: Any) -> BatchTask:
    values = {
        "job_id": w.jobs[job],
        "model_name": SLUG,
        "app_number": n,
        "test_type": AnalysisType.SECURITY,
    }
    return BatchTask(**{**values, **kw})


ROW: dict[str, Callable[..., object]] = {
    "model_capabilities": lambda w, n, **kw: ModelCapability(
        **{
            "model_id": f"vendor/model-{n}",
            "canonical_slug": f"vendor_model-{n}",
            "provider": "vendor",
            "display_name": f"Model {n}",
            "model_name": f"model-{n}",
            **kw,
        }
    ),
    "generated_applications": lambda w, n, **kw: GeneratedApplication(
        **{"model_slug": FRESH, "app_number": n, **kw}
    ),
    "port_allocations": lambda w, n, **kw: PortAllocation(
        **{
            "model_name": SLUG,
            "app_number": n,
            "backend_port": 5000 + n,
            "frontend_port": 8000 + n,
            **kw,
        }
    ),
    "analysis_tasks": lambda w, n, **kw: AnalysisTask(
        **{
            "task_id": f"task-{n}",
            "application_id": w.app_id,
            "task_type": AnalysisType.SECURITY,
            **kw,
        }
    ),
    "security_analyses": lambda w, n, **kw: SecurityAnalysis(application_id=w.app_id, **kw),
    "performance_tests": lambda w, n, **kw: PerformanceTest(application_id=w.app_id, **kw),
    "zap_analyses": lambda w, n, **kw: ZapAnalysis(application_id=w.app_id, **kw),
    "openrouter_analyses": lambda w, n, **kw: OpenRouterAnalysis(application_id=w.app_id, **kw),
    "containerized_tests": lambda w, n, **kw: ContainerizedTest(
        **{"test_id": f"test-{n}", "application_id": w.app_id, "test_type": "smoke", **kw}
    ),
    "batch_analyses": lambda w, n, **kw: BatchAnalysis(**{"name": f"batch-{n}", **kw}),
    "batch_jobs": lambda w, n, **kw: BatchJob(**{"name": f"job-{n}", **kw}),
    "batch_tasks": _batch_task,
    "model_usage": lambda w, n, **kw: ModelUsage(
        **{"model_name": SLUG, "provider": "openai", **kw}
    ),
    "audit_log": lambda w, n, **kw: AuditLog(
        **{
            "user": "tester",
            "action": "start",
            "resource_type": "app",
            "outcome": Outcome.SUCCESS,
            **kw,
        }
    ),
    "settings": lambda w, n, **kw: Setting(**{"key": f"key-{n}", "value": {"n": n}, **kw}),
}


def add(db: Database, *rows: object) -> None:
    with db.session() as s:
        s.add_all(rows)


def refusal(db: Database, *rows: object) -> str:
    """Insert `rows`, expect the database to refuse, and return the rule it named."""
    with pytest.raises(IntegrityError) as caught, db.session() as s:
        s.add_all(rows)
    orig = caught.value.orig
    diag = getattr(orig, "diag", None)  # psycopg: the violated constraint's name
    if diag is not None:
        return str(diag.constraint_name)
    message = str(orig)
    return message.partition("constraint failed: ")[2] or message


def count(db: Database, table: str, where: str = "1 = 1", **params: Any) -> int:
    with db.session() as s:
        return s.execute(text(f"SELECT COUNT(*) FROM {table} WHERE {where}"), params).scalar_one()


def constraint_name(db: Database, constraint: Constraint) -> str:
    """The constraint's name as the dialect renders it (PostgreSQL truncates long ones)."""
    return db.engine.dialect.identifier_preparer.format_constraint(constraint).strip('"')


def unique_rule(db: Database, table: str, columns: tuple[str, ...]) -> str:
    """How the database names a breach of the model's unique key `columns` of `table`."""
    (constraint,) = [
        c
        for c in Base.metadata.tables[table].constraints
        if isinstance(c, UniqueConstraint) and tuple(col.name for col in c.columns) == columns
    ]
    if db.dialect == "sqlite":
        return ", ".join(f"{table}.{column}" for column in columns)
    return constraint_name(db, constraint)


def foreign_key_rule(db: Database, table: str, columns: tuple[str, ...]) -> str:
    (constraint,) = [
        c
        for c in Base.metadata.tables[table].constraints
        if isinstance(c, ForeignKeyConstraint) and tuple(c.column_keys) == columns
    ]
    if db.dialect == "sqlite":
        return "FOREIGN KEY constraint failed"
    return constraint_name(db, constraint)


# --- unique constraints ------------------------------------------------------------------


@dataclass(frozen=True)
class UniqueKey:
    table: str
    columns: tuple[str, ...]
    key: dict[str, Any]  # builder arguments giving the key of the first row
    neighbours: tuple[dict[str, Any], ...]  # keys differing in one column only: accepted

    def __str__(self) -> str:
        return f"{self.table}({','.join(self.columns)})"


UNIQUE_KEYS = [
    UniqueKey(
        "model_capabilities",
        ("canonical_slug",),
        {"canonical_slug": "vendor_same"},
        ({"canonical_slug": "vendor_different"},),
    ),
    UniqueKey(
        "model_capabilities",
        ("model_id",),
        {"model_id": "vendor/same"},
        ({"model_id": "vendor/different"},),
    ),
    UniqueKey(
        "generated_applications",
        ("model_slug", "app_number"),
        {"model_slug": SLUG, "app_number": 7},
        ({"model_slug": SLUG, "app_number": 8}, {"model_slug": OTHER, "app_number": 7}),
    ),
    UniqueKey(
        "port_allocations",
        ("model_name", "app_number"),
        {"model_name": SLUG, "app_number": 1},
        ({"model_name": SLUG, "app_number": 2}, {"model_name": OTHER, "app_number": 1}),
    ),
    UniqueKey("port_allocations", ("backend_port",), {"backend_port": 5500}, ({},)),
    UniqueKey("port_allocations", ("frontend_port",), {"frontend_port": 8500}, ({},)),
    UniqueKey("analysis_tasks", ("task_id",), {"task_id": "same"}, ({"task_id": "other"},)),
    UniqueKey("containerized_tests", ("test_id",), {"test_id": "same"}, ({"test_id": "other"},)),
    UniqueKey("settings", ("key",), {"key": "theme"}, ({"key": "language"},)),
    UniqueKey(
        "batch_tasks",
        ("job_id", "model_name", "app_number", "test_type"),
        {"job": 0, "model_name": SLUG, "app_number": 1, "test_type": AnalysisType.SECURITY},
        (
            {"job": 1, "model_name": SLUG, "app_number": 1, "test_type": AnalysisType.SECURITY},
            {"job": 0, "model_name": OTHER, "app_number": 1, "test_type": AnalysisType.SECURITY},
            {"job": 0, "model_name": SLUG, "app_number": 2, "test_type": AnalysisType.SECURITY},
            {"job": 0, "model_name": SLUG, "app_number": 1, "test_type": AnalysisType.ZAP},
        ),
    ),
]


@pytest.mark.parametrize("unique", UNIQUE_KEYS, ids=str)
def test_a_row_repeating_a_unique_key_is_refused_and_one_differing_in_a_column_is_not(
    db: Database, world: World, unique: UniqueKey
) -> None:
    build = ROW[unique.table]
    before = count(db, unique.table)
    add(db, build(world, 1, **unique.key))
    # Row 2 differs from row 1 in nothing but the columns outside the key.
    assert refusal(db, build(world, 2, **unique.key)) == unique_rule(
        db, unique.table, unique.columns
    )
    for n, neighbour in enumerate(unique.neighbours, start=3):
        add(db, build(world, n, **neighbour))
    assert count(db, unique.table) == before + 1 + len(unique.neighbours)


# --- check constraints -------------------------------------------------------------------


APP_NUMBER_TABLES = ["generated_applications", "port_allocations", "batch_tasks"]
PROGRESS_TABLES = ["batch_jobs", "batch_tasks", "analysis_tasks", "batch_analyses"]
RANGES = {
    "app_number-1..30": ("app_number", 1, 30, APP_NUMBER_TABLES),
    "progress-0..100": ("progress", 0, 100, PROGRESS_TABLES),
}


@pytest.mark.parametrize(("column", "low", "high", "tables"), RANGES.values(), ids=RANGES.keys())
def test_a_bounded_number_accepts_its_bounds_and_refuses_one_beyond_either(
    db: Database, world: World, column: str, low: int, high: int, tables: list[str]
) -> None:
    for table in tables:
        build = ROW[table]
        before, before_high = count(db, table), count(db, table, f"{column} = :v", v=high)
        for n, value in enumerate((low, high), start=1):
            add(db, build(world, n, **{column: value}))
        for n, value in enumerate((low - 1, high + 1), start=3):
            rule = refusal(db, build(world, n, **{column: value}))
            assert rule == f"ck_{table}_{column}_range", f"{table}.{column} = {value}"
        assert count(db, table) == before + 2, table
        assert count(db, table, f"{column} = :v", v=high) == before_high + 1, table


ENUM_COLUMNS = [
    (table.name, column.name)
    for table in Base.metadata.sorted_tables
    for column in table.columns
    if isinstance(column.type, Enum)
]


def raw_insert(db: Database, world: World, table: str, n: int, **raw: Any) -> None:
    """INSERT a valid row of `table` with plain SQL, `raw` values bypassing every Python type.

    The row's other values are those the ORM would write (defaults included), converted to
    what the driver receives, so the statement is valid but for what `raw` puts in it.
    """
    row = ROW[table](world, n)
    dialect = db.engine.dialect
    values: dict[str, Any] = {}
    for column in Base.metadata.tables[table].columns:
        if column.primary_key:
            continue
        value = getattr(row, column.key)
        if value is None and column.default is not None:
            default = column.default
            value = default.arg(None) if default.is_callable else default.arg  # type: ignore[attr-defined]
        process = column.type.bind_processor(dialect)
        values[column.name] = process(value) if process and value is not None else value
    values.update(raw)
    quote = dialect.identifier_preparer.quote
    names = ", ".join(quote(name) for name in values)
    params = ", ".join(f":p{i}" for i in range(len(values)))
    statement = text(f"INSERT INTO {table} ({names}) VALUES ({params})")
    with db.session() as s:
        s.execute(statement, {f"p{i}": v for i, v in enumerate(values.values())})


def test_a_status_outside_its_enum_written_with_raw_sql_is_refused_by_the_database(
    db: Database, world: World
) -> None:
    """Every enum column (statuses, priority, analysis types, outcome), each value of it."""
    assert len(ENUM_COLUMNS) >= 10
    serials: dict[str, Iterator[int]] = defaultdict(lambda: itertools.count(1))
    for table, column in ENUM_COLUMNS:
        enum_type = Base.metadata.tables[table].columns[column].type
        assert isinstance(enum_type, Enum)
        before = count(db, table)
        for value in enum_type.enums:  # every member is accepted ...
            raw_insert(db, world, table, next(serials[table]), **{column: value})
        with pytest.raises(IntegrityError) as caught:  # ... and nothing else is
            raw_insert(db, world, table, next(serials[table]), **{column: "bogus"})
        rule = f"ck_{table}_{enum_type.name}"
        if db.dialect == "postgresql":
            assert caught.value.orig.diag.constraint_name == rule, f"{table}.{column}"
        else:
            assert f"CHECK constraint failed: {rule}" in str(caught.value), f"{table}.{column}"
        assert count(db, table) == before + len(enum_type.enums), f"{table}.{column}"


# --- foreign keys and cascades -----------------------------------------------------------


ORPHANS = {
    "app-of-a-model-not-in-the-catalogue": (
        "generated_applications",
        ("model_slug",),
        lambda w: GeneratedApplication(model_slug="nobody_nothing", app_number=1),
    ),
    "ports-of-an-app-that-does-not-exist": (
        "port_allocations",
        ("model_name", "app_number"),
        lambda w: PortAllocation(
            model_name=SLUG, app_number=9, backend_port=5009, frontend_port=8009
        ),
    ),
    "analysis-of-an-app-that-does-not-exist": (
        "analysis_tasks",
        ("application_id",),
        lambda w: AnalysisTask(
            task_id="t", application_id=max(w.apps.values()) + 1, task_type=AnalysisType.ZAP
        ),
    ),
    "task-of-a-batch-job-that-does-not-exist": (
        "batch_tasks",
        ("job_id",),
        lambda w: BatchTask(
            job_id=max(w.jobs) + 1, model_name=SLUG, app_number=1, test_type=AnalysisType.ZAP
        ),
    ),
}


@pytest.mark.parametrize(("table", "columns", "orphan"), ORPHANS.values(), ids=ORPHANS.keys())
def test_a_row_referring_to_nothing_is_refused(
    db: Database, world: World, table: str, columns: tuple[str, ...], orphan: Callable
) -> None:
    before = count(db, table)
    assert refusal(db, orphan(world)) == foreign_key_rule(db, table, columns)
    assert count(db, table) == before


APP_CHILDREN = [
    "analysis_tasks",
    "security_analyses",
    "performance_tests",
    "zap_analyses",
    "openrouter_analyses",
    "containerized_tests",
]


def add_everything_of_an_app(db: Database, world: World, slug: str, number: int) -> None:
    """Ports, an analysis with each typed result, usage, an audit entry and a batch task."""
    app_id = world.apps[(slug, number)]
    with db.session() as s:
        s.add(
            PortAllocation(
                model_name=slug,
                app_number=number,
                backend_port=5000 + app_id,
                frontend_port=8000 + app_id,
            )
        )
        task = AnalysisTask(
            task_id=f"task-{app_id}", application_id=app_id, task_type=AnalysisType.SECURITY
        )
        s.add(task)
        s.flush()
        linked = {"application_id": app_id, "analysis_task_id": task.id}
        s.add_all(
            [
                SecurityAnalysis(**linked),
                PerformanceTest(**linked),
                ZapAnalysis(**linked),
                OpenRouterAnalysis(**linked),
                ContainerizedTest(test_id=f"test-{app_id}", test_type="smoke", **linked),
                ModelUsage(model_name=slug, provider="p", purpose=f"app-{app_id}", **linked),
                AuditLog(
                    user="tester",
                    action="start",
                    resource_type="app",
                    resource_id=f"app-{app_id}",
                    application_id=app_id,
                    outcome=Outcome.SUCCESS,
                ),
                BatchTask(
                    job_id=world.jobs[0],
                    model_name=slug,
                    app_number=number,
                    test_type=AnalysisType.SECURITY,
                    analysis_task_id=task.id,
                ),
            ]
        )


def test_deleting_an_app_deletes_its_ports_analyses_and_results_but_keeps_its_history(
    db: Database, world: World
) -> None:
    doomed, kept = world.apps[(SLUG, 1)], world.apps[(SLUG, 2)]
    add_everything_of_an_app(db, world, SLUG, 1)
    add_everything_of_an_app(db, world, SLUG, 2)
    with db.session() as s:
        s.execute(text("DELETE FROM generated_applications WHERE id = :id"), {"id": doomed})

    for table in APP_CHILDREN:
        assert count(db, table, "application_id = :id", id=doomed) == 0, table
        assert count(db, table, "application_id = :id", id=kept) == 1, table
    assert count(db, "port_allocations", "app_number = 1") == 0
    assert count(db, "port_allocations", "app_number = 2") == 1
    # Usage and audit rows outlive the app, no longer pointing at it.
    for table, label in (("model_usage", "purpose"), ("audit_log", "resource_id")):
        assert count(db, table) == 2, table
        assert count(db, table, f"{label} = :l AND application_id IS NULL", l=f"app-{doomed}") == 1
        assert (
            count(db, table, f"{label} = :l AND application_id = :i", l=f"app-{kept}", i=kept) == 1
        )
    assert count(db, "model_usage", "analysis_task_id IS NULL") == 1
    # A batch task keeps its place in the job but loses the deleted analysis.
    assert count(db, "batch_tasks") == 2
    assert count(db, "batch_tasks", "app_number = 1 AND analysis_task_id IS NULL") == 1
    assert count(db, "batch_tasks", "app_number = 2 AND analysis_task_id IS NOT NULL") == 1


def test_deleting_a_model_deletes_its_apps_and_their_ports(db: Database, world: World) -> None:
    add(db, *(ROW["port_allocations"](world, n) for n in (1, 2)))
    add(db, PortAllocation(model_name=OTHER, app_number=1, backend_port=5100, frontend_port=8100))
    with db.session() as s:
        s.execute(text("DELETE FROM model_capabilities WHERE canonical_slug = :s"), {"s": SLUG})
    assert count(db, "generated_applications", "model_slug = :s", s=SLUG) == 0
    assert count(db, "port_allocations", "model_name = :s", s=SLUG) == 0
    assert count(db, "generated_applications", "model_slug = :s", s=OTHER) == 1
    assert count(db, "port_allocations", "model_name = :s", s=OTHER) == 1


def test_renaming_a_model_slug_renames_it_in_its_apps_and_their_ports(
    db: Database, world: World
) -> None:
    add(db, ROW["port_allocations"](world, 30, app_number=30))
    with db.session() as s:
        s.execute(
            text("UPDATE model_capabilities SET canonical_slug = :new WHERE canonical_slug = :s"),
            {"new": "openai_gpt-4o-2024", "s": SLUG},
        )
    assert count(db, "generated_applications", "model_slug = :s", s=SLUG) == 0
    assert count(db, "generated_applications", "model_slug = 'openai_gpt-4o-2024'") == 5
    assert count(db, "port_allocations", "model_name = 'openai_gpt-4o-2024'") == 1


def test_deleting_a_batch_job_deletes_its_tasks(db: Database, world: World) -> None:
    add(db, *(ROW["batch_tasks"](world, n, job=0) for n in (1, 2, 3)))
    add(db, *(ROW["batch_tasks"](world, n, job=1) for n in (1, 2)))
    with db.session() as s:
        s.execute(text("DELETE FROM batch_jobs WHERE id = :id"), {"id": world.jobs[0]})
    assert count(db, "batch_tasks", "job_id = :j", j=world.jobs[0]) == 0
    assert count(db, "batch_tasks", "job_id = :j", j=world.jobs[1]) == 2


# --- types ---------------------------------------------------------------------------------


def test_datetimes_are_read_back_as_the_same_instant_timezone_aware_in_utc(
    db: Database, world: World
) -> None:
    now = utcnow()
    india = datetime(2026, 3, 29, 1, 30, 15, 123456, tzinfo=timezone(timedelta(hours=5.5)))
    with db.session() as s:
        app = s.get(GeneratedApplication, world.app_id)
        app.last_status_check = now
        app.missing_since = india
    with db.session() as s:
        if db.dialect == "postgresql":  # the driver then hands back New York times
            s.execute(text("SET LOCAL TIME ZONE 'America/New_York'"))
        app = s.get(GeneratedApplication, world.app_id)
        for stored, written in ((app.last_status_check, now), (app.missing_since, india)):
            assert stored == written
            assert stored.tzinfo == UTC
        assert app.missing_since.replace(tzinfo=None) == datetime(2026, 3, 28, 20, 0, 15, 123456)
        assert app.created_at.tzinfo == UTC
        assert abs(app.created_at - now) < timedelta(minutes=5)


def test_writing_a_naive_datetime_raises_and_writes_nothing(db: Database, world: World) -> None:
    with pytest.raises(StatementError, match="naive datetime"), db.session() as s:
        s.get(GeneratedApplication, world.app_id).last_status_check = datetime(2026, 1, 1, 12)
    with db.session() as s:
        assert s.get(GeneratedApplication, world.app_id).last_status_check is None


def test_json_columns_round_trip_nested_dicts_and_lists(db: Database, world: World) -> None:
    metadata = {
        "languages": {"python": 120, "javascript": 40},
        "services": [{"name": "api", "ports": [5000, 5001], "env": {}}, {"name": "web"}],
        "nothing": None,
        "flags": [True, False],
        "ratio": 0.25,
        "name": "Grüße ✓",
    }
    tools = ["bandit", {"name": "eslint", "rules": ["no-eval"]}, [1, [2, []]]]
    with db.session() as s:
        s.get(GeneratedApplication, world.app_id).app_metadata = metadata
        s.add(SecurityAnalysis(application_id=world.app_id, enabled_tools=tools))
        s.add(Setting(key="columns", value=tools))
    with db.session() as s:
        assert s.get(GeneratedApplication, world.app_id).app_metadata == metadata
        assert s.scalars(select(SecurityAnalysis.enabled_tools)).one() == tools
        assert s.scalars(select(Setting.value).where(Setting.key == "columns")).one() == tools
