"""Fixture apps with known vulnerabilities, written by the tests (never run on the host)."""

from __future__ import annotations

import shutil
from pathlib import Path

from tui.config import load_settings

VULNERABLE_BACKEND = """\
import pickle
import sqlite3
import subprocess

import yaml
from flask import Flask, request

app = Flask(__name__)
SECRET_KEY = "hunter2-very-secret"


@app.route("/user")
def user():
    conn = sqlite3.connect("app.db")
    name = request.args.get("name")
    return str(conn.execute("SELECT * FROM users WHERE name = '%s'" % name).fetchall())


@app.route("/run")
def run():
    return subprocess.check_output(request.args["cmd"], shell=True)


@app.route("/load", methods=["POST"])
def load():
    config = yaml.load(request.data)
    return str(pickle.loads(request.data)) + str(config)


if __name__ == "__main__":
    app.run(host="0.0.0.0", debug=True)
"""

VULNERABLE_FRONTEND = """\
export function calculate(expression) {
  return eval(expression);
}
"""

CLEAN_BACKEND = '''\
def add(left: int, right: int) -> int:
    """Add two numbers."""
    return left + right
'''


def write_vulnerable_app(root: Path, slug: str, number: int = 1) -> Path:
    app = root / slug / f"app{number}"
    (app / "backend").mkdir(parents=True, exist_ok=True)
    (app / "frontend" / "src").mkdir(parents=True, exist_ok=True)
    (app / "backend" / "app.py").write_text(VULNERABLE_BACKEND)
    (app / "backend" / "requirements.txt").write_text("flask==0.12.2\npyyaml==5.3\n")
    (app / "frontend" / "src" / "calc.js").write_text(VULNERABLE_FRONTEND)
    (app / "frontend" / "package.json").write_text(
        '{"name": "f", "version": "1.0.0", "dependencies": {"lodash": "4.17.4"}}\n'
    )
    return app


def write_clean_app(root: Path, slug: str, number: int = 1) -> Path:
    app = root / slug / f"app{number}"
    (app / "backend").mkdir(parents=True, exist_ok=True)
    (app / "backend" / "app.py").write_text(CLEAN_BACKEND)
    return app


def fake_tool(analyzers: Path, body: str) -> Path:
    """A copy of the analyzers folder whose eslint is a script (a crashing or hanging tool)."""
    copy = analyzers.parent / "fake-analyzers"
    copy.mkdir()
    shutil.copy(load_settings().analyzers_dir / "pylintrc", copy / "pylintrc")
    program = copy / "node_modules" / ".bin" / "eslint"
    program.parent.mkdir(parents=True)
    program.write_text(f"#!/bin/sh\n{body}\n")
    program.chmod(0o755)
    return copy
