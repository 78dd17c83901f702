"""Small SVG charts drawn on the server: no script, no CDN, nothing fetched by the browser."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from markupsafe import Markup, escape

PALETTE = ("#2563eb", "#0891b2", "#16a34a", "#ca8a04", "#dc2626", "#7c3aed", "#db2777", "#475569")
STATUS_COLOURS = {"open": "#2563eb", "in_progress": "#ca8a04", "resolved": "#16a34a", "closed": "#64748b"}
PRIORITY_COLOURS = {"low": "#64748b", "medium": "#ca8a04", "high": "#dc2626"}


def _label(value: str) -> str:
    return value.replace("_", " ").capitalize()


def bar_chart(
    title: str, counts: dict[str, int], colours: dict[str, str] | None = None, key: str = ""
) -> Markup:
    """Horizontal bars, one per key, with the count written at the end of each bar."""
    row, label_width, bar_width = 30, 120, 260
    height = max(len(counts), 1) * row + 10
    top = max(counts.values(), default=0) or 1
    parts = [
        f'<svg class="chart" role="img" viewBox="0 0 {label_width + bar_width + 50} {height}" '
        f'aria-label="{escape(title)}">'
    ]
    for i, (name, count) in enumerate(counts.items()):
        y = i * row + 5
        width = round(bar_width * count / top) if count else 0
        colour = (colours or {}).get(name, PALETTE[i % len(PALETTE)])
        parts.append(
            f'<text x="{label_width - 8}" y="{y + 17}" text-anchor="end">{escape(_label(name))}</text>'
            f'<rect x="{label_width}" y="{y + 3}" width="{max(width, 2)}" height="20" rx="3" '
            f'fill="{colour}"/>'
            f'<text x="{label_width + max(width, 2) + 6}" y="{y + 17}" class="count" '
            f'data-stat="{escape(key)}.{escape(name)}">{count}</text>'
        )
    parts.append("</svg>")
    return Markup("".join(parts))  # noqa: S704 - every text above is escaped or a number


def day_chart(title: str, days: Sequence[tuple[date, int]]) -> Markup:
    """Columns for each day, oldest on the left; a date under every fifth column."""
    column, gap, chart_height, left = 28, 6, 150, 30
    top = max((n for _, n in days), default=0) or 1
    width = left + len(days) * (column + gap) + 10
    parts = [
        f'<svg class="chart" role="img" viewBox="0 0 {width} {chart_height + 40}" '
        f'aria-label="{escape(title)}">',
        f'<line x1="{left}" y1="{chart_height + 10}" x2="{width - 5}" y2="{chart_height + 10}" '
        'class="axis"/>',
        f'<text x="{left - 6}" y="20" text-anchor="end" class="tick">{top}</text>',
        f'<text x="{left - 6}" y="{chart_height + 10}" text-anchor="end" class="tick">0</text>',
    ]
    for i, (day, count) in enumerate(days):
        x = left + i * (column + gap)
        height = round(chart_height * count / top)
        parts.append(
            f'<rect x="{x}" y="{chart_height + 10 - height}" width="{column}" height="{height}" rx="2" '
            f'fill="#2563eb" data-day="{day.isoformat()}" data-count="{count}">'
            f"<title>{day:%a %d %b}: {count}</title></rect>"
        )
        if i % 5 == 0 or i == len(days) - 1:
            parts.append(
                f'<text x="{x + column / 2}" y="{chart_height + 28}" text-anchor="middle" class="tick">'
                f"{day:%d %b}</text>"
            )
    parts.append("</svg>")
    return Markup("".join(parts))  # noqa: S704 - every text above is escaped or a number
