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
