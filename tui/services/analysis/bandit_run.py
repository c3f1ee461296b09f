"""bandit over the files named on the command line, in a process of its own.

`python -m tui.services.analysis.bandit_run FILE...` prints one JSON object: `issues` (as
bandit's JSON report has them) and `skipped` ([file, reason] pairs). bandit only parses the
files, but in the TUI's own process two scans' bandit runs took turns on one interpreter
lock, and with the engine's work: a process each runs them side by side. bandit's defaults,
with `# nosec` ignored; no configuration is read from the apps (a `.bandit` file is never
looked for: only files are named).
"""

from __future__ import annotations

import json
import logging
import sys


def main(files: list[str]) -> None:
    from bandit.core import config as bandit_config
    from bandit.core import manager as bandit_manager

    logging.getLogger("bandit").setLevel(logging.ERROR)
    manager = bandit_manager.BanditManager(
        bandit_config.BanditConfig(), "file", ignore_nosec=True, quiet=True
    )
    manager.discover_files(files, recursive=False)
    manager.run_tests()
    json.dump(
        {
            "issues": [issue.as_dict() for issue in manager.get_issue_list()],
            "skipped": [[str(name), str(reason)] for name, reason in manager.skipped],
        },
        sys.stdout,
    )


if __name__ == "__main__":
    main(sys.argv[1:])
