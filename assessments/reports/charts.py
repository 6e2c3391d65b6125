"""Charts drawn on the server as SVG, shared by the web pages and the PDF reports.

Each function returns an inline <svg> (role="img" with a <title> and <desc>), so a page shows the
same picture as the report. The numbers themselves must also be given as a table next to the
chart (screen readers, and anyone who prefers numbers); the templates do that.
All text is escaped; scores are 0–100 or None (nothing to score yet).
"""

import math
import re
from collections.abc import Sequence

from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

from assessments import scoring
from assessments.scoring import Number

FONT = "IPAexGothic, 'IPAexゴシック', 'Noto Sans CJK JP', sans-serif"
# Okabe–Ito palette: distinguishable with the common colour-vision deficiencies.
SERIES_COLOURS = ("#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00")
# Series also differ by line (solid, dashed, dotted…) and width, so that two equal series (a
# designated city's average when it is the only one) stay visible one above the other.
SERIES_DASHES = ("", "7 3", "2 2", "9 3 2 3", "4 2", "1 2")
SERIES_WIDTHS = (4.5, 3, 2, 2, 1.5, 1.5)
# Levels 0–4, 該当なし, then 未回答 (white, outlined).
LEVEL_COLOURS = ("#d7191c", "#fdae61", "#e6d600", "#a6d96a", "#1a9641", "#9e9e9e", "#ffffff")
LINE_HEIGHT = 13


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


# A run of Latin letters and digits, a run of spaces, or one full-width character.
_TOKENS = re.compile(r"[^\s\u2e80-\uffff]+|\s+|[\u2e80-\uffff]")
_NO_LINE_START = frozenset("、。，．）」』】・ー：；")


def text_width(text: str, font_size: float = 12) -> float:
    """An estimate of the width of `text`: full-width characters are one em, others about half."""
    return sum(font_size * (0.55 if ord(ch) < 0x2E80 else 1.0) for ch in text)


def wrap(text: str, width: float, font_size: float = 12) -> list[str]:
    """Break `text` into lines that fit `width` (never cut, never shortened with 「…」).

    Breaks after a space or between full-width characters, as Japanese text breaks; a run of
    Latin letters or digits is kept together where it fits on one line.
    """
    lines: list[str] = []
    current = ""
    tokens: list[str] = []
    for token in _TOKENS.findall(text):
        if tokens and token in _NO_LINE_START:
            tokens[-1] += token  # 、。）」 never begin a line (禁則)
        else:
            tokens.append(token)
    for token in tokens:
        if current and text_width(current + token, font_size) > width:
            lines.append(current.rstrip())
            current = token.lstrip()
        else:
            current += token
    if current.strip():
        lines.append(current.rstrip())
    return lines or [""]


def _text_lines(x: float, y_middle: float, lines: Sequence[str], anchor: str, size: float) -> str:
    """Lines of text centred vertically on y_middle."""
    top = y_middle - (len(lines) - 1) * size * 1.1 / 2 + size * 0.35
    spans = "".join(
        f'<tspan x="{x:.1f}" y="{top + i * size * 1.1:.1f}">{escape(line)}</tspan>'
        for i, line in enumerate(lines)
    )
    return f'<text text-anchor="{anchor}" font-size="{size:g}">{spans}</text>'


def _line_sample(i: int, x: float, y: float) -> str:
    colour = SERIES_COLOURS[i % len(SERIES_COLOURS)]
    dash = SERIES_DASHES[i % len(SERIES_DASHES)]
    width = SERIES_WIDTHS[i % len(SERIES_WIDTHS)]
    dash_attr = f' stroke-dasharray="{dash}"' if dash else ""
    return (
        f'<line x1="{x:.1f}" y1="{y:.1f}" x2="{x + 22:.1f}" y2="{y:.1f}" stroke="{colour}" '
        f'stroke-width="{width}"{dash_attr}/>' + _marker(i, x + 11, y)
    )


def _marker(i: int, x: float, y: float) -> str:
    """A vertex marker of series i: circle, square, triangle, diamond…, sized so that equal
    points of several series are all seen (the first is the largest)."""
    colour = SERIES_COLOURS[i % len(SERIES_COLOURS)]
    r = max(2.0, 5.0 - i)
    shape = i % 4
    if shape == 0:
        return f'<circle cx="{x:.1f}" cy="{y:.1f}" r="{r:.1f}" fill="{colour}"/>'
    if shape == 1:
        return (
            f'<rect x="{x - r:.1f}" y="{y - r:.1f}" width="{2 * r:.1f}" height="{2 * r:.1f}" '
            f'fill="#fff" stroke="{colour}" stroke-width="1.5"/>'
        )
    if shape == 2:
        pts = f"{x:.1f},{y - r:.1f} {x + r:.1f},{y + r:.1f} {x - r:.1f},{y + r:.1f}"
        return f'<polygon points="{pts}" fill="{colour}" stroke="none"/>'
    pts = f"{x:.1f},{y - r:.1f} {x + r:.1f},{y:.1f} {x:.1f},{y + r:.1f} {x - r:.1f},{y:.1f}"
    return f'<polygon points="{pts}" fill="#fff" stroke="{colour}" stroke-width="1.5"/>'


def _legend(series_names: Sequence[str], x: float, y: float, *, lines: bool = False) -> str:
    parts = []
    for i, name in enumerate(series_names):
        colour = SERIES_COLOURS[i % len(SERIES_COLOURS)]
        yy = y + i * 18
        sample = (
            _line_sample(i, x, yy - 4)
            if lines
            else f'<rect x="{x:.1f}" y="{yy - 10:.1f}" width="12" height="12" fill="{colour}"/>'
        )
        offset = 30 if lines else 18
        parts.append(f'{sample}<text x="{x + offset:.1f}" y="{yy:.1f}">{escape(name)}</text>')
    return "".join(parts)


def radar_chart(
    axes: Sequence[str],
    series: Sequence[tuple[str, Sequence[Number | None]]],
    *,
    title: str,
    size: int = 360,
    unanswered_label: str = "",
) -> SafeString:
    """A radar (spider) chart of 0–100 scores, one outline per series.

    A section without a score (nothing answered) is a gap: no vertex, and the outline is broken
    there instead of falling to the centre; `unanswered_label` names that in the legend. Series
    are told apart by colour, line style, width and vertex marker, so equal ones stay visible.
    """
    n = len(axes)
    has_gap = any(v is None for _name, values in series for v in values)
    legend_rows = len(series) + (1 if has_gap and unanswered_label else 0)
    legend_height = 18 * legend_rows + 8
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
        dash = SERIES_DASHES[s % len(SERIES_DASHES)]
        width = SERIES_WIDTHS[s % len(SERIES_WIDTHS)]
        dash_attr = f' stroke-dasharray="{dash}"' if dash else ""
        floats = _floats(values)
        if all(v is not None for v in floats):
            pts = " ".join(
                f"{x:.1f},{y:.1f}" for x, y in (point(i, v or 0) for i, v in enumerate(floats))
            )
            fill = ' fill-opacity="0.12"' if s == 0 else ' fill-opacity="0"'
            parts.append(
                f'<polygon points="{pts}" fill="{colour}"{fill} stroke="{colour}" '
                f'stroke-width="{width}"{dash_attr}><title>{escape(name)}</title></polygon>'
            )
        else:
            # The outline between consecutive scored axes only (around the circle).
            for i in range(n):
                a, b = floats[i], floats[(i + 1) % n]
                if a is None or b is None:
                    continue
                (x1, y1), (x2, y2) = point(i, a), point((i + 1) % n, b)
                parts.append(
                    f'<line x1="{x1:.1f}" y1="{y1:.1f}" x2="{x2:.1f}" y2="{y2:.1f}" '
                    f'stroke="{colour}" stroke-width="{width}"{dash_attr}>'
                    f"<title>{escape(name)}</title></line>"
                )
        for i, v in enumerate(floats):
            if v is not None:
                parts.append(_marker(s, *point(i, v)))
    parts.append(_legend([name for name, _v in series], 10, size + 14, lines=True))
    if has_gap and unanswered_label:
        y = size + 14 + 18 * len(series)
        parts.append(
            f'<text x="10" y="{y:.1f}" font-size="11" fill="#333">{escape(unanswered_label)}</text>'
        )
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
    label_width: int = 190,
) -> SafeString:
    """Horizontal bars, one group per category and one bar per series (e.g. 団体・県・全国).

    Category labels wrap onto as many lines as they need; a bar without a value reads 「—」.
    """
    bar_height, gap = 12, 10
    plot_width = width - label_width - 50
    wrapped = [wrap(c, label_width - 10, 11) for c in categories]
    heights = [max(bar_height * len(series), LINE_HEIGHT * len(lines)) + gap for lines in wrapped]
    plot_height = sum(heights)
    height = 30 + plot_height + 18 * len(series) + 10
    parts = []
    for tick in (0, 25, 50, 75, 100):
        x = label_width + plot_width * tick / max_value
        parts.append(
            f'<line x1="{x:.1f}" y1="20" x2="{x:.1f}" y2="{20 + plot_height:.1f}" stroke="#ddd"/>'
            f'<text x="{x:.1f}" y="14" text-anchor="middle" font-size="10" fill="#555">{tick}</text>'
        )
    y0 = 24.0
    for c, category in enumerate(categories):
        group = heights[c] - gap
        parts.append(_text_lines(label_width - 6, y0 + group / 2, wrapped[c], "end", 11))
        bars_top = y0 + (group - bar_height * len(series)) / 2
        for s, (name, values) in enumerate(series):
            value = values[c]
            colour = SERIES_COLOURS[s % len(SERIES_COLOURS)]
            y = bars_top + s * bar_height
            w = 0 if value is None else plot_width * float(value) / max_value
            parts.append(
                f'<rect x="{label_width}" y="{y:.1f}" width="{w:.1f}" height="{bar_height - 2}" '
                f'fill="{colour}"><title>{escape(name)} {escape(category)}: {_fmt(value)}</title></rect>'
                f'<text x="{label_width + w + 4:.1f}" y="{y + bar_height - 3:.1f}" font-size="10">{_fmt(value)}</text>'
            )
        y0 += heights[c]
    parts.append(_legend([name for name, _v in series], label_width, 24 + plot_height + 14))
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


def _flow_legend(names: Sequence[str], left: float, right: float) -> tuple[str, float]:
    """Level swatches with their full names, left to right, wrapping onto further rows."""
    parts, x, y = [], left, 0.0
    for level, name in enumerate(names):
        item = 16 + text_width(name, 10) + 14
        if x > left and x + item > right:
            x, y = left, y + 16
        parts.append(
            f'<rect x="{x:.1f}" y="{y - 10:.1f}" width="12" height="12" stroke="#555" '
            f'stroke-width="0.5" fill="{LEVEL_COLOURS[level % len(LEVEL_COLOURS)]}"/>'
            f'<text x="{x + 16:.1f}" y="{y:.1f}" font-size="10">{escape(name)}</text>'
        )
        x += item
    return "".join(parts), y + 16


def distribution_bars(
    rows: Sequence[tuple[str, Sequence[int]]],
    level_names: Sequence[str],
    *,
    title: str,
    width: int = 640,
    label_width: int = 190,
) -> SafeString:
    """100% stacked bars: per row, how many bodies (or measures) are at each level.

    Counts are in the order of `level_names`: levels 0–4, then 該当なし, then 未回答 when given
    (drawn white and outlined). Row labels wrap instead of being cut; the legend uses the same
    names as the tables beside the chart.
    """
    bar_height = 16
    plot_width = width - label_width - 10
    wrapped = [wrap(label, label_width - 10, 11) for label, _counts in rows]
    heights = [max(bar_height, LINE_HEIGHT * len(lines)) + 6 for lines in wrapped]
    legend, legend_height = _flow_legend(level_names, 10, width - 10)
    height = 10 + sum(heights) + 12 + legend_height + 8
    parts = []
    y0 = 10.0
    for r, (label, counts) in enumerate(rows):
        y = y0 + (heights[r] - 6 - bar_height) / 2
        total = sum(counts) or 1
        parts.append(_text_lines(label_width - 6, y + bar_height / 2, wrapped[r], "end", 11))
        x = float(label_width)
        for level, count in enumerate(counts):
            w = plot_width * count / total
            if w <= 0:
                continue
            share = scoring.percent(count, total)
            parts.append(
                f'<rect x="{x:.1f}" y="{y:.1f}" width="{w:.1f}" height="{bar_height}" '
                f'fill="{LEVEL_COLOURS[level % len(LEVEL_COLOURS)]}" stroke="#555" '
                f'stroke-width="0.5"><title>{escape(label)} '
                f"{escape(level_names[level])}: {count} ({share}%)</title></rect>"
            )
            if w > 34:
                parts.append(
                    f'<text x="{x + w / 2:.1f}" y="{y + bar_height - 4:.1f}" text-anchor="middle" '
                    f'font-size="10">{share}%</text>'
                )
            x += w
        y0 += heights[r]
    parts.append(f'<g transform="translate(0 {y0 + 12:.1f})">{legend}</g>')
    desc = "; ".join(
        f"{label}: " + ", ".join(f"{level_names[i]} {c}" for i, c in enumerate(counts))
        for label, counts in rows
    )
    return _svg(width, height, title, desc, "".join(parts))
