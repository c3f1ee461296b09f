"""Generation as a task of a job: the batch engine runs it like an analysis (its concurrency
is the LLM slots, its pause, cancel and crash-resume the engine's) and stores it as an
analysis row of type `generation`, whose log holds the model's answers as they stream.

App N of the task is built from template N. A cancel stops the generation at the next piece
of the answer, before anything is written.
"""

from __future__ import annotations

import asyncio
import threading
from typing import TYPE_CHECKING

from tui.services.analysis.contract import Outcome, TaskRef
from tui.services.generation.templates import load_templates

if TYPE_CHECKING:
    from tui.services.analysis.contract import AnalysisContext
    from tui.services.container_logs import ActionLog


class _Lines:
    """The streamed answer cut into whole lines for the log."""

    def __init__(self, log: ActionLog) -> None:
        self.log = log
        self.pending = ""

    def feed(self, text: str) -> None:
        self.pending += text
        *lines, self.pending = self.pending.split("\n")
        for line in lines:
            self.log(f"   {line}")

    def flush(self) -> None:
        if self.pending:
            self.log(f"   {self.pending}")
            self.pending = ""


async def run_generation(service: AnalysisContext, ref: TaskRef, log: ActionLog) -> Outcome:
    from tui.services.generation.generator import generate_app

    settings = service.settings
    loaded = await asyncio.to_thread(
        lambda: load_templates(settings.templates_dir).get(ref.app_number)
    )
    stop = threading.Event()
    lines = _Lines(log)
    try:
        done = await asyncio.to_thread(
            generate_app, service.db, settings, ref.model_slug, loaded,
            force=True, on_text=lines.feed, log=log, stop=stop, analysis_task_id=ref.id,
        )  # fmt: skip
    except asyncio.CancelledError:
        stop.set()  # the thread stops at the next piece of the answer, writing nothing
        raise
    finally:
        lines.flush()
    return Outcome(
        summary={
            "template": loaded.template.slug,
            "attempts": sum(done.attempts.values()),
            "calls": len(done.calls),
            "tokens": done.tokens,
            "cost": round(done.cost, 6),
        }
    )
