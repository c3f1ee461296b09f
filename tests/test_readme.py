"""The README stays true: it documents every setting and every CLI command."""

from __future__ import annotations

import re
from pathlib import Path

from click import Context, Group

from tui.cli import cli
from tui.config import settings_table

README = (Path(__file__).resolve().parent.parent / "README.md").read_text()


def test_readme_opens_with_the_install_and_test_commands() -> None:
    blocks = re.findall(r"```bash\n(.*?)\n```", README, flags=re.S)
    test_command = "pip install -e '.[test]' && analyzers/install && pytest"
    assert blocks[:2] == ["pip install -e . && thesis", test_command]
    ci = (Path(__file__).resolve().parent.parent / ".ci" / "run").read_text()
    for step in ("pip install -q -e '.[test]'", "analyzers/install", "-m pytest"):
        assert step in ci, f"CI does not run the README's test step {step!r}"


def test_readme_documents_every_setting_with_its_default() -> None:
    for variable, default, _ in settings_table():
        row = next(
            (line for line in README.splitlines() if line.startswith(f"| `{variable}`")), None
        )
        assert row is not None, f"{variable} is missing from the README settings table"
        if default:
            assert f"`{default}`" in row


def test_readme_documents_every_cli_command() -> None:
    def commands(group: Group, prefix: str) -> list[str]:
        found = []
        context = Context(group)
        for name in group.list_commands(context):
            command = group.get_command(context, name)
            found.append(f"{prefix} {name}")
            if isinstance(command, Group):
                found.extend(commands(command, f"{prefix} {name}"))
        return found

    for command in commands(cli, "thesis"):
        assert f"`{command}" in README, f"`{command}` is missing from the README"


def test_readme_key_tables_are_the_generated_help() -> None:
    """The key tables are `thesis keys --markdown`: the same bindings as `?` and the bar."""
    from tui.commands.keys import keys_document

    start, end = "<!-- keys: `thesis keys --markdown` -->\n", "<!-- /keys -->"
    assert start in README and end in README
    shown = README.split(start, 1)[1].split(end, 1)[0]
    assert shown == keys_document(markdown=True), "run `thesis keys --markdown` into the README"
