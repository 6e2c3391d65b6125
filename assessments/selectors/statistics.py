"""The tabulation behind published statistics (統計の公表) and the prefecture summary.

`tabulate()` counts, per scored measure, how many bodies are at each level (0–4), 該当なし or
未回答, by MIC's 団体区分 (MicCategory) and by prefecture, with the denominators: every body
of the registry in the scope (all 1,788, or one prefecture and its municipalities). Only results
count as answers (`Assessment.objects.results()`: submitted and approved; drafts never); a body
without a result for the measure — no assessment, a draft, an excused body, an answer with no
level — counts as 未回答, so the columns of a row always add up to its denominator. A measure
that applies to one kind of body only (assessments.applicability) has its own denominators: the
bodies of the scope it applies to (2000 5.4 都道府県の役割: the prefectures only). A share
「x%」 is of that denominator (scoring.percent, 四捨五入 to one decimal).

Three queries whatever the number of bodies: the bodies per 団体区分 and prefecture, the answers
grouped by measure × 団体区分 × prefecture × level, and the measures.

`Tabulation.as_data()` freezes it as plain JSON (what a published release stores); the
`PublishedTables` view of such data is what the public page, the files and the PDF show.
"""

import datetime
from collections.abc import Iterator
from dataclasses import dataclass, field

import tablib
from django.db.models import Count, Q
from django.db.models.functions import Coalesce
from django.utils import translation
from django.utils.translation import gettext as _

from assessments import levels, scoring
from assessments.applicability import AppliesTo, applies
from assessments.fiscal_year import fiscal_year_start
from assessments.models import (
    Answer,
    Assessment,
    Body,
    Guideline,
    Measure,
    MicCategory,
    SurveyRound,
)
from assessments.models.registry import mic_category_expression
from assessments.selectors.dashboards import Cell
from assessments.spreadsheets import neutralize

UNANSWERED = "none"  # the column of bodies without an answer counted (未回答)
TOTAL = "all"  # the row or column of all 団体区分 together (計)
# The columns of every table, in order: levels 0–4, 該当なし, 未回答 (as text keys, for JSON).
COLUMNS: tuple[str, ...] = (*(str(c) for c, _label in levels.columns()), UNANSWERED)
BY_CATEGORY = "category"
BY_PREFECTURE = "prefecture"


def column_labels() -> dict[str, str]:
    """{column key: label} in the active language: 「0 未着手」 … 「該当なし」「未回答」."""
    labels = {str(c): label for c, label in levels.columns()}
    return labels | {UNANSWERED: _("未回答")}


def category_labels() -> dict[str, str]:
    return {value: str(label) for value, label in MicCategory.choices} | {TOTAL: _("計")}


def base_date(fiscal_year: int) -> datetime.date:
    """MIC's 基準日: April 1 of the fiscal year."""
    return fiscal_year_start(fiscal_year)


@dataclass
class MeasureCounts:
    """One measure: {row key (団体区分 or prefecture code): {column: count}} for both tables."""

    ref: str
    title: str
    by_category: dict[str, dict[str, int]] = field(default_factory=dict)
    by_prefecture: dict[str, dict[str, int]] = field(default_factory=dict)
    # The bodies the measure applies to, per row: the row's denominator (a prefecture-only
    # measure counts no municipality, assessments.applicability).
    bodies_by_category: dict[str, int] = field(default_factory=dict)
    bodies_by_prefecture: dict[str, int] = field(default_factory=dict)


@dataclass
class Tabulation:
    """What `tabulate` returns.

    - `categories`: the 団体区分 (MicCategory values) with at least one body in scope, in order;
    - `denominators`: {団体区分: bodies}, plus TOTAL ("all") for the whole scope;
    - `prefectures`: [(code, name, bodies)] of the scope, in code order (a prefecture counts
      with its municipalities);
    - `measures`: a MeasureCounts per scored measure in guideline order, where every row of
      `by_category` (each category and TOTAL) and of `by_prefecture` holds every column of
      COLUMNS and adds up to its denominator.
    `cell(measure, category, column)` gives a Cell (「N団体（x%）」).
    """

    guideline: Guideline
    fiscal_year: int
    prefecture: Body | None
    categories: list[str]
    denominators: dict[str, int]
    prefectures: list[tuple[str, str, int]]
    measures: list[MeasureCounts]

    @property
    def base_date(self) -> datetime.date:
        return base_date(self.fiscal_year)

    def cell(self, measure: MeasureCounts, category: str, column: str) -> Cell:
        return Cell(measure.by_category[category][column], measure.bodies_by_category[category])

    def unanswered_by_category(self, measure: MeasureCounts) -> dict[str, Cell]:
        """未回答 per 団体区分 (the prefecture summary's breakdown)."""
        return {c: self.cell(measure, c, UNANSWERED) for c in self.categories}

    def as_data(self) -> dict:
        """The tabulation as JSON-ready data (keys and Japanese labels, no model instances)."""
        with translation.override("ja"):
            columns = column_labels()
            categories = category_labels()
        return {
            "guideline": {"code": self.guideline.code, "title": self.guideline.title_ja},
            "fiscal_year": self.fiscal_year,
            "base_date": self.base_date.isoformat(),
            "columns": [{"key": c, "label": columns[c]} for c in COLUMNS],
            "categories": [
                {"key": c, "label": categories[c], "bodies": self.denominators[c]}
                for c in [*self.categories, TOTAL]
            ],
            "prefectures": [
                {"code": code, "name": name, "bodies": n} for code, name, n in self.prefectures
            ],
            "measures": [
                {
                    "ref": m.ref,
                    "title": m.title,
                    "by_category": m.by_category,
                    "by_prefecture": m.by_prefecture,
                    "bodies": {
                        "by_category": m.bodies_by_category,
                        "by_prefecture": m.bodies_by_prefecture,
                    },
                }
                for m in self.measures
            ],
        }


def tabulate(
    guideline: Guideline, fiscal_year: int, *, prefecture: Body | None = None
) -> Tabulation:
    """Per scored measure × level (0–4, 該当なし, 未回答) × 団体区分 and × prefecture, the
    number of bodies, with the denominators; nationally, or for `prefecture` (the prefecture
    and its municipalities). See the module's docstring for what counts."""
    # The bodies of the fiscal year's base date (April 1): mergers change the denominators, and
    # each is counted under the 団体区分 it had on that day.
    day = base_date(fiscal_year)
    bodies = Body.objects.existing_on(day)
    if prefecture is not None:
        bodies = bodies.of_prefecture(prefecture)
    home_code = Coalesce("prefecture__code", "code")
    body_rows = (
        bodies.annotate(category=mic_category_expression(on=day), home=home_code)
        .values("category", "home")
        .annotate(n=Count("pk"))
        .order_by()
    )
    body_counts = list(body_rows)

    def bodies_in_scope(applies_to: str) -> tuple[dict[str, int], dict[str, int]]:
        """({団体区分: bodies, TOTAL: all}, {prefecture code: bodies}) a measure applies to."""
        by_category: dict[str, int] = {}
        by_home: dict[str, int] = {}
        for row in body_counts:
            prefecture_row = row["category"] == MicCategory.PREFECTURE
            n = row["n"] if applies(applies_to, prefecture=prefecture_row) else 0
            by_category[row["category"]] = by_category.get(row["category"], 0) + n
            by_home[row["home"]] = by_home.get(row["home"], 0) + n
        by_category[TOTAL] = sum(by_category.values())
        return by_category, by_home

    denominators, per_prefecture = bodies_in_scope(AppliesTo.ALL)
    categories = [c for c in MicCategory.values if c in denominators and c != TOTAL]
    names = dict(Body.objects.prefectures().values_list("code", "name"))
    prefectures = [(code, names[code], per_prefecture[code]) for code in sorted(per_prefecture)]

    results = Assessment.objects.of_round(guideline, fiscal_year).results()
    if prefecture is not None:
        results = results.of_prefecture(prefecture)
    answer_rows = (
        Answer.objects.filter(scoring.counted(), assessment__in=results.values("pk"))
        .filter(Q(level__isnull=False) | Q(not_applicable=True))
        .annotate(
            category=mic_category_expression("assessment__body__", on=day),
            home=Coalesce("assessment__body__prefecture__code", "assessment__body__code"),
        )
        .values("measure_id", "category", "home", "level", "not_applicable")
        .annotate(n=Count("pk"))
        .order_by()
    )
    answered: dict[int, list[tuple[str, str, str, int]]] = {}
    for row in answer_rows:
        column = levels.NOT_APPLICABLE if row["not_applicable"] else str(row["level"])
        answered.setdefault(row["measure_id"], []).append(
            (row["category"], row["home"], column, row["n"])
        )

    measures = []
    for measure in Measure.objects.filter(guideline=guideline).scored():
        counts = MeasureCounts(ref=measure.ref, title=measure.title_ja)
        counts.bodies_by_category, counts.bodies_by_prefecture = bodies_in_scope(measure.applies_to)
        counts.by_category = {c: dict.fromkeys(COLUMNS, 0) for c in [*categories, TOTAL]}
        counts.by_prefecture = {code: dict.fromkeys(COLUMNS, 0) for code, _n, _b in prefectures}
        for category, home, column, n in answered.get(measure.pk, []):
            counts.by_category[category][column] += n
            counts.by_category[TOTAL][column] += n
            counts.by_prefecture[home][column] += n
        for key, per_column in counts.by_category.items():
            per_column[UNANSWERED] = counts.bodies_by_category[key] - sum(per_column.values())
        for code, _name, _n in prefectures:
            per_column = counts.by_prefecture[code]
            per_column[UNANSWERED] = counts.bodies_by_prefecture[code] - sum(per_column.values())
        measures.append(counts)
    return Tabulation(
        guideline=guideline,
        fiscal_year=fiscal_year,
        prefecture=prefecture,
        categories=categories,
        denominators=denominators,
        prefectures=prefectures,
        measures=measures,
    )


# --- Reading frozen data (a published version) ---------------------------------------------------


@dataclass
class TableRow:
    key: str
    label: str
    code: str  # 団体コード of a prefecture row ("" for a 団体区分 row)
    cells: list[Cell]


@dataclass
class MeasureTable:
    ref: str
    title: str
    table: str  # BY_CATEGORY or BY_PREFECTURE
    rows: list[TableRow]


def _measure_bodies(measure: dict, table: str) -> dict[str, int]:
    """A frozen measure's own denominators per row (releases made before they were frozen have
    none: every measure then applied to every body, so the scope's denominators hold)."""
    return measure.get("bodies", {}).get(table, {})


class PublishedTables:
    """The tables of a release's frozen data, as the page, the files and the PDF show them.

    Labels of levels and 団体区分 are the active language's when known, else the frozen ones."""

    def __init__(self, data: dict):
        self.data = data
        current_columns = column_labels()
        current_categories = category_labels()
        self.columns = [
            (c["key"], current_columns.get(c["key"], c["label"])) for c in data["columns"]
        ]
        self.categories = [
            (c["key"], current_categories.get(c["key"], c["label"]), c["bodies"])
            for c in data["categories"]
        ]
        self.prefectures = [(p["code"], p["name"], p["bodies"]) for p in data["prefectures"]]

    @property
    def base_date(self) -> datetime.date:
        return datetime.date.fromisoformat(self.data["base_date"])

    @property
    def fiscal_year(self) -> int:
        return self.data["fiscal_year"]

    @property
    def total_bodies(self) -> int:
        return next(n for key, _label, n in self.categories if key == TOTAL)

    def denominators(self) -> list[tuple[str, str]]:
        """(団体区分, "1,788") for each 団体区分 and 計."""
        return [(label, f"{n:,}") for _key, label, n in self.categories]

    def _rows(self, measure: dict, table: str) -> list[TableRow]:
        if table == BY_CATEGORY:
            groups = [(key, label, "", n) for key, label, n in self.categories]
            counts = measure["by_category"]
        else:
            groups = [(code, name, code, n) for code, name, n in self.prefectures]
            counts = measure["by_prefecture"]
        bodies = _measure_bodies(measure, table)
        return [
            TableRow(
                key,
                label,
                code,
                [Cell(counts[key][c], bodies.get(key, n)) for c, _l in self.columns],
            )
            for key, label, code, n in groups
        ]

    def tables(self, table: str = BY_CATEGORY) -> Iterator[MeasureTable]:
        for measure in self.data["measures"]:
            yield MeasureTable(measure["ref"], measure["title"], table, self._rows(measure, table))

    def overall(self) -> list[tuple[str, list[int]]]:
        """(measure ref, counts of all bodies per column): the bars of the chart."""
        return [
            (m["ref"], [m["by_category"][TOTAL][c] for c, _l in self.columns])
            for m in self.data["measures"]
        ]

    def at_least(self, level: int = 3) -> list[tuple[str, str, list[Cell]]]:
        """Per measure, the bodies at `level` or above, per prefecture (the PDF's overview)."""
        wanted = [str(n) for n in range(level, levels.MAX_LEVEL + 1)]
        return [
            (
                m["ref"],
                m["title"],
                [
                    Cell(
                        sum(m["by_prefecture"][code][c] for c in wanted),
                        _measure_bodies(m, BY_PREFECTURE).get(code, n),
                    )
                    for code, _name, n in self.prefectures
                ],
            )
            for m in self.data["measures"]
        ]

    def cells(self) -> dict[tuple[str, str, str, str], int]:
        """{(table, measure ref, row key, column): count} of every cell (to compare versions)."""
        result = {}
        for m in self.data["measures"]:
            for table, rows in (
                (BY_CATEGORY, m["by_category"]),
                (BY_PREFECTURE, m["by_prefecture"]),
            ):
                for row, counts in rows.items():
                    for column, n in counts.items():
                        result[(table, m["ref"], row, column)] = n
        return result


# --- Per-measure export for the national tally (every body × measure of a round) ---------------


def measure_export_dataset(
    survey_round: SurveyRound, *, prefecture: Body | None = None
) -> tablib.Dataset:
    """Every body of the round × every scored measure that applies to it: code, body, prefecture, 団体区分, the
    measure, its level or 該当なし with the reason (or 未回答), and the assessment's
    status; every text cell formula-safe. `prefecture` limits it to that prefecture and its
    municipalities. Three queries whatever the size: measures, assessments, answers."""
    measures = list(Measure.objects.filter(guideline=survey_round.guideline_id).scored())
    assessments = (
        Assessment.objects.filter(survey_round=survey_round)
        .select_related("body", "body__prefecture")
        # The 団体区分 of the round's base date, as in the published tables (tabulate).
        .annotate(
            category=mic_category_expression("body__", on=base_date(survey_round.fiscal_year))
        )
        .order_by("body__code")
    )
    if prefecture is not None:
        assessments = assessments.of_prefecture(prefecture)
    given = {
        (row[0], row[1]): row[2:]
        for row in Answer.objects.filter(
            scoring.counted(), assessment__in=assessments.values("pk")
        ).values_list(
            "assessment_id", "measure_id", "level", "not_applicable", "not_applicable_reason"
        )
    }
    categories = category_labels()
    statuses = {value: str(label) for value, label in Assessment.Status.choices}
    level_names = {c: label for c, label in levels.columns()}
    unanswered = _("未回答")
    headers = [
        _("団体コード"),
        _("団体名"),
        _("都道府県"),
        _("団体区分"),
        _("項目番号"),
        _("項目名"),
        _("レベル"),
        _("該当なしの理由"),
        _("状態"),
    ]
    dataset = tablib.Dataset(headers=[neutralize(h) for h in headers], title="measures")
    for a in assessments:
        body = a.body
        for measure in measures:
            if not measure.applies_to_kind(body.kind):
                continue
            level, not_applicable, reason = given.get((a.pk, measure.pk), (None, False, ""))
            if not_applicable:
                answer = level_names[levels.NOT_APPLICABLE]
            else:
                answer = level_names[level] if level is not None else unanswered
            dataset.append(
                [
                    neutralize(v)
                    for v in (
                        body.code,
                        body.name,
                        (body.prefecture or body).name,
                        categories[a.category],
                        measure.ref,
                        measure.title_ja,
                        answer,
                        reason if not_applicable else "",
                        statuses[a.status],
                    )
                ]
            )
    return dataset
