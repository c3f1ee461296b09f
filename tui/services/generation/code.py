"""What a model's reply holds: its fenced code blocks, whether they are whole code, whether
they parse — all read, never run.

A block names its file in its fence, ```` ```python:backend/app.py ````; the files a step
asks for must all be there, none may be a placeholder ("rest of the code here", a bare
`...`), Python must pass `ast.parse` and JSX a parse by espree (the parser of the eslint we
install for the analyses; run by node on the text given on its standard input, nothing of
the app imported or run). What is wrong is said in one line the next request quotes.
"""

from __future__ import annotations

import ast
import json
import re
import shutil
import subprocess  # nosec B404: node parses text on stdin; an argument list, no shell
from dataclasses import dataclass
from pathlib import Path

from tui.secrets import scrubbed_environment

FENCE = re.compile(
    r"^```[ \t]*([A-Za-z0-9_+-]*)(?:[:\s][ \t]*([\w./-]+))?[ \t]*\r?\n(.*?)^```[ \t]*$",
    re.M | re.S,
)
"""A fenced block: its language, the file named after `:` (or a space), its text."""
PLACEHOLDERS = (
    re.compile(r"^\s*(#|//|/\*)\s*\.\.\.", re.M),
    re.compile(r"(rest|remainder) of (the |your )?(code|implementation|file)", re.I),
    re.compile(r"(your|the) (code|implementation|logic) (goes )?here", re.I),
    re.compile(r"\b(TODO|FIXME)\b[:\s]+(implement|add|write|fill)", re.I),
    re.compile(r"(same as|unchanged from) (before|above)", re.I),
    re.compile(r"^\s*\.\.\.\s*$", re.M),
)
"""Signs that a block stands for code instead of being it."""
MIN_LINES = {"backend/app.py": 15, "frontend/src/App.jsx": 15}
"""Fewer non-blank lines than this is not an app."""
PARSE_JSX = Path(__file__).resolve().parent / "parse_jsx.cjs"
PARSE_TIMEOUT = 30.0


@dataclass(frozen=True)
class Block:
    language: str
    path: str
    """As named in the fence (may be empty)."""
    text: str


def blocks(reply: str) -> list[Block]:
    """The fenced blocks of a reply, in order."""
    return [
        Block(language.lower(), (path or "").strip(), text)
        for language, path, text in FENCE.findall(reply)
    ]


def files_of(reply: str, wanted: tuple[str, ...], optional: tuple[str, ...] = ()) -> dict[str, str]:
    """The reply's blocks of the `wanted` and `optional` files, by path (the last block of a
    path wins: a model that corrects itself in one reply)."""
    known = set(wanted) | set(optional)
    found = {}
    for block in blocks(reply):
        path = block.path.removeprefix("./")
        if path in known:
            found[path] = block.text
    return found


def problems(files: dict[str, str], wanted: tuple[str, ...]) -> list[str]:
    """What is wrong with a step's files, each in one line (none: they can be written)."""
    found = []
    for path in wanted:
        if path not in files:
            found.append(f"no ```{_language(path)}:{path} block")
    for path, text in files.items():
        if not text.strip():
            found.append(f"{path} is empty")
            continue
        placeholder = placeholder_in(text)
        if placeholder:
            found.append(f"{path} is not whole code: it has {placeholder!r} in place of code")
            continue
        lines = sum(1 for line in text.splitlines() if line.strip())
        if lines < MIN_LINES.get(path, 0):
            found.append(f"{path} has {lines} lines of code, too few for the app asked")
            continue
        error = check_syntax(path, text)
        if error:
            found.append(f"{path} does not parse: {error}")
    return found


def placeholder_in(text: str) -> str | None:
    for pattern in PLACEHOLDERS:
        match = pattern.search(text)
        if match:
            return match.group(0).strip()[:60]
    return None


def check_syntax(path: str, text: str) -> str | None:
    """None when the file parses (or is of a kind we do not parse); else where and why."""
    if path.endswith(".py"):
        try:
            ast.parse(text, filename=path)  # parsed, never compiled into code or run
        except SyntaxError as exc:
            return f"line {exc.lineno}: {exc.msg}"
        except ValueError as exc:  # NUL bytes
            return str(exc)
        return None
    if path.endswith((".jsx", ".js")):
        return check_jsx(text)
    return None


def check_jsx(text: str, analyzers: Path | None = None) -> str | None:
    """espree's verdict on JSX given on stdin; None when it parses or when node or espree is
    not installed (then `jsx_checker()` says why, and the metadata records it)."""
    checker = jsx_checker(analyzers)
    if isinstance(checker, str):
        return None
    try:
        # node, our script and the analyzers folder as an argument list; the text on stdin
        done = subprocess.run(  # noqa: S603  # nosec B603
            checker, input=text, capture_output=True, text=True, timeout=PARSE_TIMEOUT,
            env=scrubbed_environment(), check=False,
        )  # fmt: skip
    except subprocess.TimeoutExpired:
        return f"the parse took over {PARSE_TIMEOUT:g} s"
    try:
        verdict = json.loads(done.stdout.strip().splitlines()[-1])
    except (ValueError, IndexError):
        return None  # the checker itself broke (not the file's fault): not a refusal
    if verdict.get("ok"):
        return None
    return f"line {verdict.get('line')}: {verdict.get('message', 'syntax error')}"


def jsx_checker(analyzers: Path | None = None) -> list[str] | str:
    """The command that parses JSX, or why there is none."""
    from tui.paths import analyzers_path

    folder = analyzers or analyzers_path()
    node = shutil.which("node")
    if node is None:
        return "node is not installed"
    if not (folder / "node_modules" / "espree").is_dir():
        return f"espree is not installed in {folder} (run analyzers/install)"
    return [node, str(PARSE_JSX), str(folder)]


def requirement_lines(reply: str) -> list[str]:
    """Lines of a ```requirements:backend/requirements.txt``` block (the model's additions)."""
    found = files_of(reply, (), ("backend/requirements.txt",))
    return found.get("backend/requirements.txt", "").splitlines()


def npm_dependencies(reply: str) -> dict[str, str]:
    """A ```json:frontend/dependencies.json``` block: {package: version}; {} when absent.
    Raises ValueError when present and not such an object."""
    found = files_of(reply, (), ("frontend/dependencies.json",))
    if "frontend/dependencies.json" not in found:
        return {}
    data = json.loads(found["frontend/dependencies.json"])
    if not isinstance(data, dict) or not all(isinstance(v, str) for v in data.values()):
        raise ValueError("frontend/dependencies.json must map package names to versions")
    return {str(k): v for k, v in data.items()}


def routes(backend: str) -> list[str]:
    """The backend's routes as `METHODS /path`, read from its decorators (`@app.route(...,
    methods=[...])`, `@app.get(...)`, a blueprint's too) in the parsed tree."""
    try:
        tree = ast.parse(backend)
    except (SyntaxError, ValueError):
        return []
    found = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            continue
        for decorator in node.decorator_list:
            if not isinstance(decorator, ast.Call) or not isinstance(decorator.func, ast.Attribute):
                continue
            verb = decorator.func.attr
            if verb not in ("route", "get", "post", "put", "patch", "delete"):
                continue
            if not decorator.args or not isinstance(decorator.args[0], ast.Constant):
                continue
            path = decorator.args[0].value
            methods = [verb.upper()] if verb != "route" else ["GET"]
            for keyword in decorator.keywords:
                if keyword.arg == "methods" and isinstance(keyword.value, ast.List | ast.Tuple):
                    methods = [
                        str(item.value).upper()
                        for item in keyword.value.elts
                        if isinstance(item, ast.Constant)
                    ]
            found.append(f"{','.join(methods)} {path}")
    return found


def _language(path: str) -> str:
    return {"py": "python", "jsx": "jsx", "css": "css", "txt": "requirements",
            "json": "json"}.get(path.rsplit(".", 1)[-1], "text")  # fmt: skip
