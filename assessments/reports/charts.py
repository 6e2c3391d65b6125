"""Charts drawn on the server as SVG, shared by the web pages and the PDF reports.

Each function returns an inline <svg> (role="img" with a <title> and <desc>), so a page shows the
same picture as the report. The numbers themselves must also be given as a table next to the
chart (screen readers, and anyone who prefers numbers); the templates do that.
All text is escaped; scores are 0–100 or None (nothing to score yet).
"""

import math
from collections.abc import Sequence

from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

from assessments import scoring
from assessments.scoring import Number

FONT = "IPAexGothic, 'IPAexゴシック', 'Noto Sans CJK JP', sans-serif"
# Okabe–Ito palette: distinguishable with the common colour-vision deficiencies.
SERIES_COLOURS = ("#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00")
LEVEL_COLOURS = ("#d7191c", "#fdae61", "#e6d600", "#a6d96a", "#1a9641", "#9e9e9e")


def _svg(width: float, height: float, title: str, desc: str, body: str) -> SafeString:
    return mark_safe(
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width:.0f} {height:.0f}" '
        f'width="{width:.0f}" height="{height:.0f}" role="img" class="chart" '
        f'font-family="{FONT}" font-size="12">'
        f"<title>{escape(title)}</title><desc>{escape(desc)}</desc>{body}</svg>"
    )


def _fmt(value: Number | None) -> str:
    return scoring.display(value)


def _floats(values: Sequence[Number | None]) -> list[float | None]:
    """Scores as floats for the geometry (labels are made from the exact values by _fmt)."""
    return [None if v is None else float(v) for v in values]


def _legend(series_names: Sequence[str], x: float, y: float) -> str:
    parts = []
    for i, name in enumerate(series_names):
        colour = SERIES_COLOURS[i % len(SERIES_COLOURS)]
        yy = y + i * 18
        parts.append(
            f'<rect x="{x:.1f}" y="{yy - 10:.1f}" width="12" height="12" fill="{colour}"/>'
            f'<text x="{x + 18:.1f}" y="{yy:.1f}">{escape(name)}</text>'
        )
    return "".join(parts)


def radar_chart(
    axes: Sequence[str],
    series: Sequence[tuple[str, Sequence[Number | None]]],
    *,
    title: str,
    size: int = 360,
) -> SafeString:
    """A radar (spider) chart of 0–100 scores, one polygon per series; None counts as 0."""
    n = len(axes)
    legend_height = 18 * len(series) + 8
    cx = cy = size / 2
    radius = size / 2 - 70
    if n < 3:
        return grouped_bar_chart(axes, series, title=title)

    def point(i: int, value: float) -> tuple[float, float]:
        angle = -math.pi / 2 + 2 * math.pi * i / n
        r = radius * value / 100
        return cx + r * math.cos(angle), cy + r * math.sin(angle)

    parts = []
    for ring in (25, 50, 75, 100):
        pts = " ".join(f"{x:.1f},{y:.1f}" for x, y in (point(i, ring) for i in range(n)))
        parts.append(f'<polygon points="{pts}" fill="none" stroke="#bbb" stroke-width="1"/>')
        x, y = point(0, ring)
        parts.append(
            f'<text x="{x + 3:.1f}" y="{y + 4:.1f}" font-size="9" fill="#555">{ring}</text>'
        )
    for i, label in enumerate(axes):
        x, y = point(i, 100)
        parts.append(f'<line x1="{cx:.1f}" y1="{cy:.1f}" x2="{x:.1f}" y2="{y:.1f}" stroke="#ccc"/>')
        lx, ly = point(i, 118)
        anchor = "middle" if abs(lx - cx) < 10 else ("start" if lx > cx else "end")
        parts.append(
            f'<text x="{lx:.1f}" y="{ly + 4:.1f}" text-anchor="{anchor}">{escape(label)}</text>'
        )
    for s, (name, values) in enumerate(series):
        colour = SERIES_COLOURS[s % len(SERIES_COLOURS)]
        pts = " ".join(
            f"{x:.1f},{y:.1f}" for x, y in (point(i, v or 0) for i, v in enumerate(_floats(values)))
        )
        parts.append(
            f'<polygon points="{pts}" fill="{colour}" fill-opacity="0.15" stroke="{colour}" '
            f'stroke-width="2"><title>{escape(name)}</title></polygon>'
        )
    parts.append(_legend([name for name, _v in series], 10, size + 14))
    desc = "; ".join(
        f"{name}: " + ", ".join(f"{a} {_fmt(v)}" for a, v in zip(axes, values, strict=True))
        for name, values in series
    )
    return _svg(size, size + legend_height, title, desc, "".join(parts))


def grouped_bar_chart(
    categories: Sequence[str],
    series: Sequence[tuple[str, Sequence[Number | None]]],
    *,
    title: str,
    width: int = 640,
    max_value: float = 100,
) -> SafeString:
    """Horizontal bars, one group per category and one bar per series (e.g. 団体・県・全国)."""
    label_width, bar_height, gap = 190, 12, 10
    group_height = bar_height * len(series) + gap
    plot_width = width - label_width - 50
    height = 30 + group_height * len(categories) + 18 * len(series) + 10
    parts = []
    for tick in (0, 25, 50, 75, 100):
        x = label_width + plot_width * tick / max_value
        parts.append(
            f'<line x1="{x:.1f}" y1="20" x2="{x:.1f}" y2="{20 + group_height * len(categories):.1f}" stroke="#ddd"/>'
            f'<text x="{x:.1f}" y="14" text-anchor="middle" font-size="10" fill="#555">{tick}</text>'
        )
    for c, category in enumerate(categories):
        y0 = 24 + c * group_height
        parts.append(
            f'<text x="{label_width - 6}" y="{y0 + group_height / 2:.1f}" '
            f'text-anchor="end">{escape(category)}</text>'
        )
        for s, (name, values) in enumerate(series):
            value = values[c]
            colour = SERIES_COLOURS[s % len(SERIES_COLOURS)]
            y = y0 + s * bar_height
            w = 0 if value is None else plot_width * float(value) / max_value
            parts.append(
                f'<rect x="{label_width}" y="{y:.1f}" width="{w:.1f}" height="{bar_height - 2}" '
                f'fill="{colour}"><title>{escape(name)} {escape(category)}: {_fmt(value)}</title></rect>'
                f'<text x="{label_width + w + 4:.1f}" y="{y + bar_height - 3:.1f}" font-size="10">{_fmt(value)}</text>'
            )
    parts.append(
        _legend(
            [name for name, _v in series], label_width, 24 + group_height * len(categories) + 14
        )
    )
    desc = "; ".join(
        f"{category}: " + ", ".join(f"{name} {_fmt(values[c])}" for name, values in series)
        for c, category in enumerate(categories)
    )
    return _svg(width, height, title, desc, "".join(parts))


def heat_colour(score: Number | None) -> str:
    """A sequential blue scale for 0–100; grey for no score. Text on it stays readable."""
    if score is None:
        return "#eeeeee"
    t = max(0.0, min(1.0, float(score) / 100))
    low, high = (239, 243, 255), (8, 69, 148)
    r, g, b = (round(lo + (hi - lo) * t) for lo, hi in zip(low, high, strict=True))
    return f"#{r:02x}{g:02x}{b:02x}"


def heat_text_colour(score: Number | None) -> str:
    return "#ffffff" if score is not None and score >= 55 else "#000000"


def heatmap(
    rows: Sequence[tuple[str, Sequence[Number | None]]],
    columns: Sequence[str],
    *,
    title: str,
    cell_width: int = 56,
    cell_height: int = 18,
    label_width: int = 150,
) -> SafeString:
    """Rows (bodies) × columns (sections), each cell coloured by its score and labelled with it."""
    width = label_width + cell_width * len(columns) + 10
    height = 40 + cell_height * len(rows)
    parts = []
    for c, column in enumerate(columns):
        x = label_width + c * cell_width + cell_width / 2
        parts.append(
            f'<text x="{x:.1f}" y="30" text-anchor="middle" font-size="10">{escape(column)}</text>'
        )
    for r, (label, values) in enumerate(rows):
        y = 36 + r * cell_height
        parts.append(
            f'<text x="{label_width - 6}" y="{y + cell_height - 5:.1f}" text-anchor="end" '
            f'font-size="11">{escape(label)}</text>'
        )
        for c, value in enumerate(values):
            x = label_width + c * cell_width
            parts.append(
                f'<rect x="{x}" y="{y:.1f}" width="{cell_width - 1}" height="{cell_height - 1}" '
                f'fill="{heat_colour(value)}"><title>{escape(label)} {escape(columns[c])}: {_fmt(value)}</title></rect>'
                f'<text x="{x + cell_width / 2:.1f}" y="{y + cell_height - 5:.1f}" text-anchor="middle" '
                f'font-size="10" fill="{heat_text_colour(value)}">{_fmt(value)}</text>'
            )
    desc = f"{len(rows)} × {len(columns)}"
    return _svg(width, height, title, desc, "".join(parts))


def distribution_bars(
    rows: Sequence[tuple[str, Sequence[int]]],
    level_names: Sequence[str],
    *,
    title: str,
    width: int = 640,
) -> SafeString:
    """100% stacked bars: per row, how many bodies are at each level (the last may be 該当なし)."""
    label_width, bar_height = 190, 16
    plot_width = width - label_width - 10
    height = 24 + (bar_height + 6) * len(rows) + 22
    parts = []
    for r, (label, counts) in enumerate(rows):
        y = 10 + r * (bar_height + 6)
        total = sum(counts) or 1
        parts.append(
            f'<text x="{label_width - 6}" y="{y + bar_height - 4:.1f}" text-anchor="end">{escape(label)}</text>'
        )
        x = float(label_width)
        for level, count in enumerate(counts):
            w = plot_width * count / total
            if w <= 0:
                continue
            share = scoring.percent(count, total)
            parts.append(
                f'<rect x="{x:.1f}" y="{y:.1f}" width="{w:.1f}" height="{bar_height}" '
                f'fill="{LEVEL_COLOURS[level % len(LEVEL_COLOURS)]}"><title>{escape(label)} '
                f"{escape(level_names[level])}: {count} ({share}%)</title></rect>"
            )
            if w > 34:
                parts.append(
                    f'<text x="{x + w / 2:.1f}" y="{y + bar_height - 4:.1f}" text-anchor="middle" '
                    f'font-size="10">{share}%</text>'
                )
            x += w
    legend_y = 10 + len(rows) * (bar_height + 6) + 14
    step = plot_width / max(1, len(level_names))
    for level, name in enumerate(level_names):
        x = label_width + level * step
        parts.append(
            f'<rect x="{x:.1f}" y="{legend_y - 10}" width="12" height="12" '
            f'fill="{LEVEL_COLOURS[level % len(LEVEL_COLOURS)]}"/>'
            f'<text x="{x + 16:.1f}" y="{legend_y}" font-size="10">{escape(name)}</text>'
        )
    desc = "; ".join(
        f"{label}: " + ", ".join(f"{level_names[i]} {c}" for i, c in enumerate(counts))
        for label, counts in rows
    )
    return _svg(width, height, title, desc, "".join(parts))
