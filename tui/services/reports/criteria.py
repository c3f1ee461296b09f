"""What the reports offer, apart from the modules that compute them so a screen or the
CLI's options can name it without loading numpy: the export formats, the ranking methods
and the ranking's default criteria."""

from __future__ import annotations

FORMATS = ("table", "csv", "json", "markdown", "latex")
METHODS = ("topsis", "wsm")

DEFAULT_CRITERIA: tuple[tuple[str, float], ...] = (
    ("smoke.deployable", 0.25),
    ("ai_review.requirements", 0.20),
    ("security.findings_per_kloc", 0.20),
    ("quality.findings_per_kloc", 0.15),
    ("apps.loc", 0.05),
    ("cost.price", 0.15),
)
"""The default criteria and weights, after the platform this tool succeeds: deployability,
requirement compliance, security and quality defects per KLOC, lines of code per app, and
price. Those the report has no value for (no smoke test run, say) are left out."""
