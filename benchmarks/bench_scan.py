"""Scan speed: `thesis apps scan` over a generated tree of MODELS x APPS small apps, against
the floor of walking and reading every file of the same tree once, side by side.

    python benchmarks/bench_scan.py               # 300 models x 30 apps = 9,000 apps
    python benchmarks/bench_scan.py --models 20   # a quick run
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path

from tui.db import open_database
from tui.services.scanner import scan_apps

FILES = {
    "backend/app.py": "from flask import Flask\napp = Flask(__name__)\n" * 20,
    "backend/requirements.txt": "flask==3.0.0\n",
    "backend/Dockerfile": "FROM python:3.12-slim\nCOPY . /app\n",
    "frontend/src/App.jsx": "export default function App() { return null; }\n" * 30,
    "frontend/package.json": '{"name": "app", "dependencies": {"react": "^18"}}\n',
    "docker-compose.yml": "services:\n  backend:\n    build: ./backend\n    ports: ['5000:5000']\n",
}


def make_tree(root: Path, models: int, apps: int) -> None:
    for m in range(models):
        for n in range(1, apps + 1):
            app = root / f"provider{m % 12}_model-{m}" / f"app{n}"
            for relative, content in FILES.items():
                path = app / relative
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_text(content)


def floor(root: Path) -> float:
    started = time.perf_counter()
    for directory, _, names in os.walk(root):
        for name in names:
            Path(directory, name).read_bytes()
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--models", type=int, default=300)
    parser.add_argument("--apps", type=int, default=30)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder) / "apps"
        make_tree(root, args.models, args.apps)
        db = open_database(f"sqlite:///{folder}/bench.db")
        base = floor(root)
        started = time.perf_counter()
        report = scan_apps(db, root)
        first = time.perf_counter() - started
        started = time.perf_counter()
        scan_apps(db, root)
        again = time.perf_counter() - started
        print(
            f"scan {report.found} apps: first {first:.2f} s, rescan {again:.2f} s; "
            f"floor (walk+read) {base:.2f} s; ratio {first / base:.1f}x / {again / base:.1f}x"
        )


if __name__ == "__main__":
    main()
