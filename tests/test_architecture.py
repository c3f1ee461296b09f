"""The layers hold: nothing in tui/db, services, analyzers or jobs imports Textual, imports
run one way (UI over services over data), and the analysis runners and the database's
sessions do not import what drives them, as the import-linter contracts say."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_import_linter_contracts_are_kept() -> None:
    lint_imports = shutil.which("lint-imports") or str(Path(sys.executable).parent / "lint-imports")
    result = subprocess.run(
        [lint_imports, "--config", str(ROOT / "pyproject.toml")],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    contracts = (ROOT / "pyproject.toml").read_text().count("[[tool.importlinter.contracts]]")
    assert contracts >= 4
    assert f"Contracts: {contracts} kept, 0 broken." in result.stdout


def test_domain_packages_never_import_textual_even_indirectly_at_runtime() -> None:
    code = (
        "import sys, tui.db.models, tui.db.migrate, tui.services.catalog, tui.services.apps, "
        "tui.services.ports, tui.services.analyses, tui.services.batches, tui.config; "
        "print('textual' in sys.modules)"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True
    )
    assert out.stdout.strip() == "False"


def _attributes_textual_sets(cls: type) -> set[str]:
    """Names the Textual classes in `cls`'s ancestry assign on their instances."""
    import inspect
    import re

    names: set[str] = set()
    for base in cls.__mro__:
        if base.__module__.startswith("textual.") and base is not object:
            source = inspect.getsource(base)
            names |= set(re.findall(r"self\.(\w+)\s*(?::[^=\n]+)?=(?!=)", source))
    return names


def _method_or_property(cls: type, name: str) -> bool:
    value = vars(cls).get(name)
    return callable(value) or isinstance(value, property)


def test_no_method_of_ours_is_shadowed_by_an_attribute_textual_sets() -> None:
    """A method named like an attribute Textual sets in __init__ (`_auto_refresh` on every
    DOM node) is replaced by that attribute on each instance: a timer given the method got
    None and the tables never refreshed by themselves."""
    import importlib
    import inspect
    import pkgutil

    from textual.dom import DOMNode

    import tui.screens
    import tui.widgets
    from tui.app import ThesisApp

    classes: list[type] = [ThesisApp]
    for package in (tui.screens, tui.widgets):
        for info in pkgutil.iter_modules(package.__path__):
            module = importlib.import_module(f"{package.__name__}.{info.name}")
            classes += [
                cls
                for _, cls in inspect.getmembers(module, inspect.isclass)
                if cls.__module__ == module.__name__ and issubclass(cls, DOMNode)
            ]
    assert len(classes) > 15
    shadowed = [
        f"{cls.__name__}.{name}"
        for cls in classes
        for name in _attributes_textual_sets(cls)
        if any(
            _method_or_property(own, name) for own in cls.__mro__ if own.__module__[:4] == "tui."
        )
    ]
    assert shadowed == []


SHOW_EVERY_SCREEN = r"""
import sys
from tui.app import SCREEN_CLASSES, ThesisApp
from tui.config import load_settings
from tui.db import open_database

url = sys.argv[1]


class ShowAll(ThesisApp):
    def on_mount(self):
        super().on_mount()
        self.set_interval(0.1, self.check)
        self.set_timer(30, lambda: self.exit(None, 3))

    def check(self):
        stacks = getattr(self, "_screen_stacks", {})
        screens = [stacks[mode][0] for mode in SCREEN_CLASSES if stacks.get(mode)]
        ahead = [s for s in screens if s.LOAD_OUT_OF_SIGHT]  # Reports loads when first shown
        if len(screens) == len(SCREEN_CLASSES) and all(s.loaded for s in ahead):
            self.exit()


app = ShowAll(lambda: open_database(url), load_settings(database_url=url),
              resume_jobs=True, warm_screens=True, watch_docker=False)
app.run(headless=True, size=(80, 24))
heavy = ("sqlalchemy.orm", "pydantic", "numpy")
print(app.return_code, sorted(m for m in heavy if m in sys.modules))
"""


def test_the_tui_lists_every_screens_rows_without_loading_the_orm_pydantic_or_numpy(
    sqlite_db, sqlite_url, study
) -> None:
    """The listings read Core tables: a TUI that shows tables holds about 18 MB less than
    one that loads SQLAlchemy's ORM and pydantic (measured by benchmarks/bench_tui.py), and
    the Reports screen (numpy) is made ahead but computes nothing until it is shown."""
    from sqlalchemy import insert
    from test_batch_engine import new_job

    from tui.config import PortRange
    from tui.db.tables import analysis_tasks
    from tui.jobs import control
    from tui.services.apps import list_applications
    from tui.services.ports import allocate_all
    from tui.services.scanner import scan_apps

    scan_apps(sqlite_db, study)
    allocate_all(sqlite_db, PortRange(41000, 41100), PortRange(42000, 42100))
    control.cancel(sqlite_db, new_job(sqlite_db, options={"tools": "bandit"}))  # not resumed
    app_id = list_applications(sqlite_db).rows[0].id
    with sqlite_db.write() as connection:
        connection.execute(
            insert(analysis_tasks).values(
                task_id="t-1", application_id=app_id, task_type="security"
            )
        )
    out = subprocess.run(
        [sys.executable, "-c", SHOW_EVERY_SCREEN, sqlite_url],
        capture_output=True, text=True, timeout=120, check=False, cwd=ROOT,
    )  # fmt: skip
    assert out.stdout.strip().splitlines()[-1:] == ["0 []"], out.stdout + out.stderr
