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
from tui.services.reports.compare import Difference, Metric, Report
from tui.services.reports.criteria import FORMATS
from tui.services.reports.rank import Ranking
from tui.services.reports.stats import LEVEL, Estimate
from tui.services.reports.usage import UsageRow


def _check(fmt: str) -> None:
    if fmt not in FORMATS:
        raise ValidationError(f"Unknown format {fmt!r}; choose from {', '.join(FORMATS)}")


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


def _markdown_text(text: str) -> str:
    return text.replace("\\", "\\\\").replace("|", "\\|").replace("\n", " ")


_LATEX = {
    "\\": r"\textbackslash{}", "&": r"\&", "%": r"\%", "$": r"\$", "#": r"\#", "_": r"\_",
    "{": r"\{", "}": r"\}", "~": r"\textasciitilde{}", "^": r"\textasciicircum{}",
    "—": "---",
}  # fmt: skip


def _latex_text(text: str) -> str:
    return "".join(_LATEX.get(char, char) for char in text if char.isprintable())


def _text_table(
    header: list[str], rows: list[list[str]], fmt: str, notes: list[str], left: int = 1
) -> str:
    """A table as aligned text, Markdown or LaTeX (booktabs, the first `left` columns
    left-aligned), the notes under it."""
    if fmt == "markdown":
        lines = [
            "| " + " | ".join(_markdown_text(t) for t in header) + " |",
            "| " + " | ".join("---" for _ in header) + " |",
            *("| " + " | ".join(_markdown_text(t) for t in row) + " |" for row in rows),
        ]
        return "\n".join([*lines, "", *(_markdown_text(n) for n in notes)]) + "\n"
    if fmt == "latex":
        spec = "l" * left + "r" * (len(header) - left)
        lines = [
            rf"\begin{{tabular}}{{{spec}}}",
            r"\toprule",
            " & ".join(_latex_text(t) for t in header) + r" \\",
            r"\midrule",
            *(" & ".join(_latex_text(t) for t in row) + r" \\" for row in rows),
            r"\bottomrule",
            r"\end{tabular}",
            *(f"% {_latex_text(n)}" for n in notes),
        ]
        return "\n".join(lines) + "\n"
    widths = [max(len(line[i]) for line in [header, *rows]) for i in range(len(header))]
    lines = [
        "  ".join(t.ljust(w) for t, w in zip(line, widths, strict=True)).rstrip()
        for line in [header, *rows]
    ]
    return "\n".join([*lines, *notes]) + "\n"


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
    _check(fmt)
    if fmt == "csv":
        return _csv(per_app_rows(report) if per_app else tidy_rows(report))
    if fmt == "json":
        return _json(report, per_app)
    header, rows = _wide(report)
    return _text_table(header, rows, fmt, [_note(report)])


def write(text: str, path: Path) -> None:
    """Write an export atomically (a reader never sees half of it), secrets masked."""
    write_atomically(path, str(redact_value(text)).encode("utf-8"), what="the report")


def _ranking_rows(ranking: Ranking) -> tuple[list[str], list[list[str]]]:
    header = ["Rank", "Model", "Score", "Range ±20 %", "Apps 95 %",
              *(c.label for c in ranking.criteria)]  # fmt: skip
    rows = [
        [str(r.rank), r.model, f"{r.score:.3f}", span(r.best, r.worst), span(r.low, r.high),
         *(number(value) for value in r.values)]
        for r in ranking.ranked
    ]  # fmt: skip
    return header, rows


def span(first: int, last: int) -> str:
    """A range of ranks: `3`, or `2-4`."""
    return str(first) if first == last else f"{first}-{last}"


def _ranking_note(ranking: Ranking) -> str:
    weights = ", ".join(
        f"{c.label} {c.weight:.0%} {'benefit' if c.benefit else 'cost'}" for c in ranking.criteria
    )
    return f"{ranking.method.upper()} over {weights}."


def render_ranking(ranking: Ranking, fmt: str) -> str:
    """The ranking in `fmt` (one of FORMATS); models not ranked are listed with why."""
    _check(fmt)
    if fmt in ("csv", "json"):
        rows: list[dict[str, Any]] = [
            {"rank": r.rank, "model": r.model, "score": _rounded(r.score), "best_rank": r.best,
             "worst_rank": r.worst, "rank_low": r.low, "rank_high": r.high, "not_ranked": "",
             **{c.key: _rounded(v) for c, v in zip(ranking.criteria, r.values, strict=True)}}
            for r in ranking.ranked
        ]  # fmt: skip
        rows += [
            {"rank": None, "model": model, "score": None, "best_rank": None, "worst_rank": None,
             "rank_low": None, "rank_high": None, "not_ranked": why,
             **{c.key: None for c in ranking.criteria}}
            for model, why in ranking.unranked
        ]  # fmt: skip
        if fmt == "csv":
            return _csv(rows)
        document = {
            "method": ranking.method,
            "min_apps": ranking.min_apps,
            "criteria": [
                {
                    "key": c.key,
                    "label": c.label,
                    "weight": round(c.weight, 6),
                    "direction": "benefit" if c.benefit else "cost",
                }
                for c in ranking.criteria
            ],
            "rows": rows,
        }
        return json.dumps(document, indent=1, ensure_ascii=False) + "\n"
    header, rows_text = _ranking_rows(ranking)
    after = [_ranking_note(ranking)] + [f"Not ranked: {m} ({why})" for m, why in ranking.unranked]
    return _text_table(header, rows_text, fmt, after, left=2)


def render_differences(first: str, second: str, found: list[Difference], fmt: str) -> str:
    """Two models metric by metric: both means with their intervals, the difference and
    its permutation p-value, and whether it is significant at 5 %."""
    _check(fmt)
    if fmt in ("csv", "json"):
        rows = [
            {"metric": d.metric.key, "label": d.metric.label, "better": d.metric.better,
             f"{first}_mean": _rounded(d.first.mean), f"{first}_apps": d.first.apps,
             f"{second}_mean": _rounded(d.second.mean), f"{second}_apps": d.second.apps,
             "difference": _rounded(d.difference), "p_value": _rounded(d.p_value),
             "significant": d.significant}
            for d in found
        ]  # fmt: skip
        if fmt == "csv":
            return _csv(rows)
        return json.dumps({"first": first, "second": second, "rows": rows}, indent=1) + "\n"
    header = ["Metric", first, second, "Difference", "p", "At 5 %"]
    rows_text = [
        [d.metric.label, cell(d.first), cell(d.second), number(d.difference),
         "—" if d.p_value is None else f"{d.p_value:.3f}", _verdict(d)]
        for d in found
    ]  # fmt: skip
    note = (
        "Means per app [95 % bootstrap interval]; p: two-sided permutation test of the "
        "difference of the means over the two models' apps."
    )
    return _text_table(header, rows_text, fmt, [note])


def _verdict(found: Difference) -> str:
    if found.significant is None:
        return "not measured" if not (found.first.apps and found.second.apps) else "too few apps"
    return "differs" if found.significant else "no difference shown"


def render_usage(rows: list[UsageRow], by: str, fmt: str) -> str:
    """Calls, tokens and USD per model, kind or day, the total last."""
    _check(fmt)
    if fmt in ("csv", "json"):
        dicts = [
            {by: row.key, "calls": row.calls, "prompt_tokens": row.prompt_tokens,
             "completion_tokens": row.completion_tokens, "total_tokens": row.total_tokens,
             "usd": round(row.usd, 6)}
            for row in rows
        ]  # fmt: skip
        return (
            _csv(dicts) if fmt == "csv" else json.dumps({"by": by, "rows": dicts}, indent=1) + "\n"
        )
    header = [by.capitalize(), "Calls", "Prompt tokens", "Completion tokens", "USD"]
    table = [
        [row.key, f"{row.calls:,}", f"{row.prompt_tokens:,}", f"{row.completion_tokens:,}",
         f"{row.usd:,.4f}"]
        for row in rows
    ]  # fmt: skip
    return _text_table(header, table, fmt, ["USD from the catalogue's prices at each call."])
