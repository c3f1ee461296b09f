"""Generation as a job's task: `generation` joins the values an analysis and a batch task
may have, so the batch engine runs, resumes and records generations as it does analyses
(the CHECK constraints changed in place: tui/db/enum_checks.py).

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-01 01:40:00
"""

from collections.abc import Sequence

from tui.db.enum_checks import remove_analysis_type, set_analysis_types

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BEFORE = ("security", "performance", "quality", "ai_review", "zap", "smoke", "functional")
AFTER = (*BEFORE, "generation")


def upgrade() -> None:
    set_analysis_types(AFTER)


def downgrade() -> None:
    remove_analysis_type("generation", BEFORE)
