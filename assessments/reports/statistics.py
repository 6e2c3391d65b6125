"""The files of a published statistics version: e-Stat-friendly CSV, XLSX and a PDF in the style
of 地方自治情報管理概要. Each renderer takes the version's frozen data and returns bytes; the
publication service calls them once, when the version is published, and stores the bytes.

CSV: UTF-8 with BOM, one header row, one row per cell (long format, as e-Stat loads it); rows of
the prefecture table carry the prefecture's 団体コード. XLSX: a sheet per table, a row per measure
and 団体区分 (or prefecture) with counts and shares side by side. Every text cell formula-safe.
"""

import io
from collections.abc import Sequence

import tablib
from django.template.loader import render_to_string
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from assessments import fiscal_year as fy
from assessments.models import Correction, ReleaseVersion
from assessments.reports.pdf import html_to_pdf
from assessments.selectors.statistics import BY_CATEGORY, BY_PREFECTURE, PublishedTables
from assessments.spreadsheets import neutralize


def _headers() -> list[str]:
    return [
        _("表"),
        _("基準日"),
        _("指針"),
        _("項目番号"),
        _("項目名"),
        _("団体区分"),
        _("団体コード"),
        _("都道府県"),
        _("回答"),
        _("団体数"),
        _("分母"),
        _("割合（%）"),
    ]


def _dataset(tables: PublishedTables, table: str, title: str) -> tablib.Dataset:
    dataset = tablib.Dataset(headers=[neutralize(h) for h in _headers()], title=title)
    table_name = _("団体区分別") if table == BY_CATEGORY else _("都道府県別")
    guideline = tables.data["guideline"]["code"]
    for measure in tables.tables(table):
        for row in measure.rows:
            for (_column, label), cell in zip(tables.columns, row.cells, strict=True):
                dataset.append(
                    [
                        neutralize(v)
                        for v in (
                            table_name,
                            tables.base_date.isoformat(),
                            guideline,
                            measure.ref,
                            measure.title,
                            row.label if table == BY_CATEGORY else _("計"),
                            row.code,
                            row.label if table == BY_PREFECTURE else "",
                            label,
                            cell.count,
                            cell.total,
                            str(cell.percent),
                        )
                    ]
                )
    return dataset


def statistics_csv(data: dict) -> bytes:
    """Both tables, long format, in one CSV (UTF-8 with BOM, one header row)."""
    with translation.override("ja"):
        tables = PublishedTables(data)
        rows = _dataset(tables, BY_CATEGORY, "category")
        for row in _dataset(tables, BY_PREFECTURE, "prefecture"):
            rows.append(row)
    return ("\ufeff" + rows.export("csv")).encode("utf-8")


def statistics_xlsx(data: dict) -> bytes:
    """A sheet per table (団体区分別, 都道府県別), one row per measure and 団体区分 (or
    prefecture) with the count and the share of each column; values only, never a formula."""
    from openpyxl import Workbook

    with translation.override("ja"):
        tables = PublishedTables(data)
        book = Workbook(write_only=True)
        for table, title in ((BY_CATEGORY, _("団体区分別")), (BY_PREFECTURE, _("都道府県別"))):
            sheet = book.create_sheet(title)
            sheet.append(
                [
                    neutralize(h)
                    for h in (
                        _("基準日"),
                        _("項目番号"),
                        _("項目名"),
                        _("団体コード"),
                        _("団体区分") if table == BY_CATEGORY else _("都道府県"),
                        _("分母"),
                        *[
                            text
                            for _key, label in tables.columns
                            for text in (
                                _("%(label)s（団体数）") % {"label": label},
                                _("%(label)s（%%）") % {"label": label},
                            )
                        ],
                    )
                ]
            )
            for measure in tables.tables(table):
                for row in measure.rows:
                    sheet.append(
                        [
                            tables.base_date.isoformat(),
                            neutralize(measure.ref),
                            neutralize(measure.title),
                            row.code,
                            neutralize(row.label),
                            row.cells[0].total,
                            *[v for cell in row.cells for v in (cell.count, float(cell.percent))],
                        ]
                    )
        stream = io.BytesIO()
        book.save(stream)
    return stream.getvalue()


def statistics_pdf(version: ReleaseVersion, corrections: Sequence[Correction]) -> bytes:
    """The release as an A4 report: 団体区分 tables for every measure, the prefecture overview,
    and on a correction version its 正誤表 first."""
    with translation.override("ja"):
        tables = PublishedTables(version.data)
        html = render_to_string(
            "assessments/pdf/statistics.html",
            {
                "language": "ja",
                "version": version,
                "release": version.release,
                "tables": tables,
                "category_tables": list(tables.tables(BY_CATEGORY)),
                "overview": _overview(tables),
                "corrections": corrections,
                "fiscal_year_label": fy.label(tables.fiscal_year),
                "base_date_label": fy.date_label(tables.base_date),
                "published_label": fy.date_label(timezone.localdate(version.published_at)),
            },
        )
    return html_to_pdf(html)


def _overview(tables: PublishedTables, per_table: int = 10) -> list[dict]:
    """The prefecture overview in tables of `per_table` measures (columns) × prefectures."""
    measures = tables.at_least(3)
    chunks = []
    for start in range(0, len(measures), per_table):
        part = measures[start : start + per_table]
        chunks.append(
            {
                "first": part[0][0],
                "last": part[-1][0],
                "refs": [ref for ref, _title, _cells in part],
                "rows": [
                    (name, bodies, [cells[i] for _ref, _title, cells in part])
                    for i, (_code, name, bodies) in enumerate(tables.prefectures)
                ],
            }
        )
    return chunks


def statistics_filename(version: ReleaseVersion, extension: str) -> str:
    """statistics_no1_v2_2025_egov-2003.csv"""
    data = version.data
    return (
        f"statistics_no{version.release.number}_v{version.number}_{data['fiscal_year']}_"
        f"{data['guideline']['code']}.{extension}"
    )
