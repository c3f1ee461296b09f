"""A comparison of models as text: a terminal table, CSV, JSON, Markdown or LaTeX.

CSV and JSON are tidy: one row per model and metric (its mean, the interval's bounds and
the number of apps behind it), and with `per_app` one row per app and metric. Markdown and
LaTeX (booktabs) are tables ready for a thesis: a row per model, `mean [low, high]` cells.
Model slugs come from folder names: they are escaped for each format, never trusted.
"""

from __future__ import annotations

import csv
import io
import json
import math
from pathlib import Path
from typing import Any

from tui.errors import ValidationError
from tui.secrets import redact_value
from tui.services.atomic import write_atomically
from tui.services.reports.compare import Metric, Report
from tui.services.reports.stats import LEVEL, Estimate

FORMATS = ("table", "csv", "json", "markdown", "latex")


def number(value: float | None) -> str:
    """A value to three significant figures or so; an em dash for none."""
    if value is None or not math.isfinite(value):
        return "—"
    size = abs(value)
    if value == 0:
        return "0"
    if size >= 100:
        return f"{value:.0f}"
    if size >= 10:
        return f"{value:.1f}"
    if size >= 0.01:
        return f"{value:.2f}"
    return f"{value:.2g}"


def cell(estimate: Estimate) -> str:
    """`12.3 [10.1, 14.2]`, `12.3` when there is no interval, `—` when nothing was measured."""
    if estimate.mean is None:
        return "—"
    if estimate.low is None or estimate.high is None:
        return number(estimate.mean)
    return f"{number(estimate.mean)} [{number(estimate.low)}, {number(estimate.high)}]"


def _rounded(value: float | None) -> float | None:
    return None if value is None or not math.isfinite(value) else round(value, 6)


def tidy_rows(report: Report) -> list[dict[str, Any]]:
    """One row per model and metric, `apps.total` first."""
    rows = []
    for stats in report.models:
        rows.append({"model": stats.model, "metric": "apps.total", "label": "Apps",
                     "better": "", "mean": stats.apps, "ci_low": None, "ci_high": None,
                     "apps": stats.apps})  # fmt: skip
        for metric in report.metrics:
            estimate = stats.metrics[metric.key]
            rows.append(
                {
                    "model": stats.model,
                    "metric": metric.key,
                    "label": metric.label,
                    "better": metric.better,
                    "mean": _rounded(estimate.mean),
                    "ci_low": _rounded(estimate.low),
                    "ci_high": _rounded(estimate.high),
                    "apps": estimate.apps,
                }
            )
    return rows


def per_app_rows(report: Report) -> list[dict[str, Any]]:
    """One row per app and metric: the values the means were made from."""
    return [
        {"model": model, "app": app, "metric": key, "value": _rounded(value)}
        for (model, key), sample in sorted(report.samples.items())
        for app, value in sorted(sample)
    ]


def _wide(report: Report) -> tuple[list[str], list[list[str]]]:
    """Header and rows of the table with a row per model."""
    header = ["Model", "Apps", *(metric.label for metric in report.metrics)]
    rows = [
        [
            stats.model,
            str(stats.apps),
            *(
                str(stats.analysed) if m.key == "apps.analysed" else cell(stats.metrics[m.key])
                for m in report.metrics
            ),
        ]
        for stats in report.models
    ]
    return header, rows


def _table(report: Report) -> str:
    header, rows = _wide(report)
    widths = [max(len(line[i]) for line in [header, *rows]) for i in range(len(header))]
    lines = ["  ".join(text.ljust(w) for text, w in zip(line, widths, strict=True)).rstrip()
             for line in [header, *rows]]  # fmt: skip
    return "\n".join(lines) + "\n"


def _markdown_text(text: str) -> str:
    return text.replace("\\", "\\\\").replace("|", "\\|").replace("\n", " ")


def _markdown(report: Report) -> str:
    header, rows = _wide(report)
    lines = ["| " + " | ".join(_markdown_text(t) for t in header) + " |",
             "| " + " | ".join("---" for _ in header) + " |"]  # fmt: skip
    lines += ["| " + " | ".join(_markdown_text(t) for t in row) + " |" for row in rows]
    return "\n".join(lines) + "\n" + _note(report) + "\n"


_LATEX = {
    "\\": r"\textbackslash{}", "&": r"\&", "%": r"\%", "$": r"\$", "#": r"\#", "_": r"\_",
    "{": r"\{", "}": r"\}", "~": r"\textasciitilde{}", "^": r"\textasciicircum{}",
    "—": "---",
}  # fmt: skip


def _latex_text(text: str) -> str:
    return "".join(_LATEX.get(char, char) for char in text if char.isprintable())


def _latex(report: Report) -> str:
    header, rows = _wide(report)
    spec = "l" + "r" * (len(header) - 1)
    lines = [
        rf"\begin{{tabular}}{{{spec}}}",
        r"\toprule",
        " & ".join(_latex_text(t) for t in header) + r" \\",
        r"\midrule",
        *(" & ".join(_latex_text(t) for t in row) + r" \\" for row in rows),
        r"\bottomrule",
        r"\end{tabular}",
        f"% {_note(report)}",
    ]
    return "\n".join(lines) + "\n"


def _note(report: Report) -> str:
    scope = f"job {report.job_id}" if report.job_id is not None else "latest analyses"
    return (
        f"Means per app over {scope}; [{int(LEVEL * 100)} % bootstrap interval over apps, "
        f"{report.resamples} resamples, seed {report.seed}]."
    )


def _csv(rows: list[dict[str, Any]]) -> str:
    if not rows:
        return ""
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(rows[0]), lineterminator="\n")
    writer.writeheader()
    for row in rows:
        # A spreadsheet runs a cell that starts with = + - @ as a formula: not from a slug.
        writer.writerow({key: _no_formula(value) for key, value in row.items()})
    return out.getvalue()


def _no_formula(value: Any) -> Any:
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value


def _json(report: Report, per_app: bool) -> str:
    document: dict[str, Any] = {
        "job": report.job_id,
        "types": [str(kind) for kind in report.types],
        "level": LEVEL,
        "resamples": report.resamples,
        "seed": report.seed,
        "metrics": [_metric(metric) for metric in report.metrics],
        "rows": tidy_rows(report),
    }
    if per_app:
        document["apps"] = per_app_rows(report)
    return json.dumps(document, indent=1, ensure_ascii=False) + "\n"


def _metric(metric: Metric) -> dict[str, Any]:
    return {"key": metric.key, "label": metric.label, "better": metric.better}


def render(report: Report, fmt: str, *, per_app: bool = False) -> str:
    """The report in `fmt` (one of FORMATS); `per_app` adds (JSON) or gives (CSV) the rows
    of single apps."""
    if fmt not in FORMATS:
        raise ValidationError(f"Unknown format {fmt!r}; choose from {', '.join(FORMATS)}")
    if fmt == "csv":
        return _csv(per_app_rows(report) if per_app else tidy_rows(report))
    if fmt == "json":
        return _json(report, per_app)
    if fmt == "markdown":
        return _markdown(report)
    if fmt == "latex":
        return _latex(report)
    return _table(report)


def write(text: str, path: Path) -> None:
    """Write an export atomically (a reader never sees half of it), secrets masked."""
    write_atomically(path, str(redact_value(text)).encode("utf-8"), what="the report")
