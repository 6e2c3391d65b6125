"""The numbers behind the dashboards, computed by the database.

Every function here runs a fixed number of queries whatever the number of bodies: scores come
from Assessment.objects.with_scores(), section scores and level counts are grouped aggregates,
and averages are Assessment.objects.mean_scores(). Views only choose the scope and the page.

Scope: `Assessment.objects.visible_to(user)` — a prefecture reviewer's prefecture and its
municipalities, or everything for a national administrator. Drafts are never ranked among
results nor averaged unless the filters ask for them (`include_drafts`).
"""

from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import cast

import tablib
from django.db.models import Count, F, Q, QuerySet, Value
from django.db.models.expressions import Combinable
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext as _

from assessments import levels, scoring
from assessments.fiscal_year import fiscal_year_start
from assessments.models import Answer, Assessment, Body, Guideline, Measure, User, labels
from assessments.models.assessments import AssessmentQuerySet, SectionTotals
from assessments.models.statistics import cell_text
from assessments.selectors.catalog import catalog_for
from assessments.spreadsheets import neutralize

# Sort keys offered to users → the annotated or related field they sort on.
SORTS = {
    "code": "body__code",
    "name": "body__name_kana",
    "status": "status",
    "score": "score_value",
}


@dataclass
class Filters:
    guideline: Guideline
    fiscal_year: int
    prefecture: Body | None = None
    kind: str = ""
    status: str = ""
    sort: str = "code"  # a key of SORTS, "-" in front for descending
    include_drafts: bool = False  # rank and average drafts among results
    overdue: bool = False  # only the late: not submitted (nor excused) after the due date


@dataclass
class Row:
    assessment: Assessment
    score: scoring.Score
    sections: list[Decimal | None] = field(default_factory=list)


def filtered_assessments(user: User, filters: Filters) -> AssessmentQuerySet:
    """The assessments a dashboard shows, before scores and ordering."""
    qs = Assessment.objects.visible_to(user).of_round(filters.guideline, filters.fiscal_year)
    if filters.prefecture is not None:
        qs = qs.of_prefecture(filters.prefecture)
    if filters.kind:
        qs = qs.filter(body__kind=filters.kind)
    if filters.status:
        qs = qs.filter(status=filters.status)
    if filters.overdue:
        qs = qs.overdue(timezone.localdate())
    return qs


def _ordered(assessments: AssessmentQuerySet, filters: Filters) -> QuerySet:
    """Order by the requested key; by score, results first unless drafts are included."""
    key = filters.sort.lstrip("-")
    descending = filters.sort.startswith("-")
    if key == "due":  # the earliest due date first; bodies of no round last
        return assessments.with_due_dates().order_by(
            F("due_date").asc(nulls_last=True), "body__code"
        )
    if key == "score":
        if filters.include_drafts:
            score = F("score_value")
            order = score.desc(nulls_last=True) if descending else score.asc(nulls_last=True)
            return assessments.order_by(order, "body__code")
        return assessments.ranked_by_score(descending=descending)
    field_name = F(SORTS.get(key, SORTS["code"]))
    order = field_name.desc(nulls_last=True) if descending else field_name.asc(nulls_last=True)
    return assessments.order_by(order, "body__code")


def ordered_ids(user: User, filters: Filters) -> QuerySet:
    """The ids of the filtered assessments in the requested order (to page through).

    Sorting by score groups the answers by assessment id only (a narrow GROUP BY); the page's
    rows are then fetched with `rows_for_page`.
    """
    assessments = filtered_assessments(user, filters)
    if filters.sort.lstrip("-") == "score":
        narrow = (
            assessments.values("pk")
            .annotate(**scoring.score_sums("answers__"))
            .annotate(score_value=scoring.score_expression())
        )
        return _ordered(cast(AssessmentQuerySet, narrow), filters).values_list("pk", flat=True)
    return _ordered(assessments, filters).values_list("pk", flat=True)


def rows_for_page(ids, guideline: Guideline, sections: Sequence[Measure]) -> list[Row]:
    """The rows of these assessment ids, in the ids' order: body, prefecture, round, overall and
    section scores. Two queries whatever the page size: the assessments, and their section
    totals (Answer.objects.section_totals), whose sums are the overall figures (as on the
    assessment's own page, selectors/filling.progress) and the number to answer the catalog's."""
    ids = list(ids)
    by_id = (
        Assessment.objects.filter(pk__in=ids)
        .select_related("body", "body__prefecture", "survey_round", "excusal")
        .in_bulk()
    )
    by_assessment: dict[int, dict[int | None, SectionTotals]] = {pk: {} for pk in ids}
    for (assessment_id, section_id), totals in Answer.objects.section_totals(ids).items():
        by_assessment[assessment_id][section_id] = totals
    empty = SectionTotals()
    rows = []
    for pk in ids:
        assessment, totals = by_id[pk], by_assessment[pk]
        assessment.guideline = guideline  # every row is of the filtered guideline
        assessment.set_totals(totals.values(), catalog_for(assessment).to_answer_count)
        rows.append(
            Row(
                assessment=assessment,
                score=assessment.score,
                sections=[totals.get(s.pk, empty).score for s in sections],
            )
        )
    return rows


def dashboard_rows(user: User, filters: Filters) -> QuerySet[Assessment]:
    """All filtered assessments with body, prefecture and scores, in the requested order."""
    return _ordered(
        filtered_assessments(user, filters)
        .select_related("body", "body__prefecture", "guideline")
        .with_scores(filters.guideline),
        filters,
    )


def scored_sections(guideline: Guideline) -> list[Measure]:
    """The guideline's sections (章) that hold at least one scored measure, in order."""
    return list(Measure.objects.filter(guideline=guideline).scored_sections())


def rows_with_sections(assessments, sections: list[Measure], ids=None) -> list[Row]:
    """Attach the per-section scores (one grouped query for all the rows)."""
    assessments = list(assessments)
    by_pair = Answer.objects.section_totals(ids if ids is not None else [a.pk for a in assessments])
    empty = SectionTotals()
    return [
        Row(
            assessment=a,
            score=a.score,
            sections=[by_pair.get((a.pk, s.pk), empty).score for s in sections],
        )
        for a in assessments
    ]


def status_counts(assessments: QuerySet[Assessment]) -> dict[str, int]:
    """{status: count} for every status (zero included), in one grouped query."""
    counts = dict(
        assessments.order_by()
        .values_list("status")
        .annotate(n=Count("pk"))
        .values_list("status", "n")
    )
    return {status: counts.get(status, 0) for status in Assessment.Status.values}


def export_dataset(user: User, filters: Filters) -> tablib.Dataset:
    """The dashboard's rows (all pages) as a dataset; every text cell neutralised."""
    sections = scored_sections(filters.guideline)
    assessments = dashboard_rows(user, filters)
    ids = filtered_assessments(user, filters).values("pk")
    rows = rows_with_sections(assessments, sections, ids=ids)
    headers = [
        _("団体コード"),
        _("団体名"),
        _("都道府県"),
        _("区分"),
        _("年度"),
        _("指針"),
        _("状態"),
        _("回答済み"),
        _("対象項目数"),
        _("該当なし"),
        _("総合点"),
        _("点数の扱い"),
        *[f"{s.ref} {s.title}" for s in sections],
    ]
    dataset = tablib.Dataset(headers=[neutralize(h) for h in headers], title="dashboard")
    for row in rows:
        a = row.assessment
        prefecture = (a.body.prefecture or a.body).name
        dataset.append(
            [
                neutralize(value)
                for value in (
                    a.body.code,
                    a.body.name,
                    prefecture,
                    labels.label(Body.Kind, a.body.kind),
                    a.fiscal_year,
                    a.guideline.code,
                    labels.label(Assessment.Status, a.status),
                    a.answered_count,
                    a.to_answer_count,
                    a.not_applicable_count,
                    row.score.rounded,
                    _("暫定") if row.score.provisional else _("確定"),
                    *[scoring.rounded(value) for value in row.sections],
                )
            ]
        )
    return dataset


# --- Distribution of levels ---------------------------------------------------------------------


@dataclass
class Cell:
    """「N団体（x%）」: a count of bodies and the denominator it is a share of (the dashboard's
    distribution and the published statistics)."""

    count: int
    total: int

    @property
    def percent(self) -> Decimal:
        return scoring.percent(self.count, self.total)

    def __str__(self) -> str:
        return cell_text(self.count, self.total)


@dataclass
class MeasureDistribution:
    measure: Measure
    # kind → {level (0–4) or "na": Cell}
    by_kind: dict[str, dict]
    # all kinds together, for the chart: counts for levels 0–4 then 該当なし
    overall: list[int]

    @property
    def table(self) -> list[tuple[str, list[Cell]]]:
        """Rows of the printed table: (level label, a cell per kind in `by_kind`'s order)."""
        return [
            (label, [cells[column] for cells in self.by_kind.values()])
            for column, label in levels.columns()
        ]


def level_distribution(user: User, filters: Filters) -> tuple[list[str], list[MeasureDistribution]]:
    """Per measure and kind of body, how many bodies answered each level, and their share.

    The share is of the bodies of that kind that answered the measure (該当なし included), as
    in MIC's tables ("N団体 (x%)"). One grouped query: measure × kind × level.
    """
    assessments = filtered_assessments(user, filters)
    if not filters.status:  # a status filter chooses for itself; else results only
        assessments = assessments.results(include_drafts=filters.include_drafts)
    counts = (
        Answer.objects.filter(
            scoring.counted(),
            assessment__in=assessments.values("pk"),
        )
        .filter(Q(level__isnull=False) | Q(not_applicable=True))
        .values("measure_id", "assessment__body__kind", "level", "not_applicable")
        .annotate(n=Count("pk"))
        .order_by()
    )
    measures = list(Measure.objects.filter(guideline=filters.guideline).scored())
    table: dict[int, dict[str, dict]] = {}
    for row in counts:
        column = levels.NOT_APPLICABLE if row["not_applicable"] else row["level"]
        kinds = table.setdefault(row["measure_id"], {})
        kinds.setdefault(row["assessment__body__kind"], {})[column] = row["n"]
    kinds_present = sorted(
        {kind for per_measure in table.values() for kind in per_measure},
        key=list(Body.Kind.values).index,
    )
    columns = [c for c, _label in levels.columns()]
    result = []
    for measure in measures:
        per_kind = table.get(measure.pk, {})
        by_kind = {}
        for kind in kinds_present:
            counts_for_kind = per_kind.get(kind, {})
            total = sum(counts_for_kind.values())
            by_kind[kind] = {c: Cell(counts_for_kind.get(c, 0), total) for c in columns}
        overall = [sum(per_kind.get(k, {}).get(c, 0) for k in per_kind) for c in columns]
        result.append(MeasureDistribution(measure=measure, by_kind=by_kind, overall=overall))
    return kinds_present, result


# --- Averages by prefecture and by kind, with the change since the previous year ---------------


def grouped_averages(
    guideline: Guideline,
    fiscal_years: list[int],
    *,
    group_by: str,
    kind: str = "",
    include_drafts: bool = False,
    prefecture: Body | None = None,
) -> dict[tuple, scoring.Mean]:
    """{(group, fiscal year): Mean} over the results (each body counts once).

    `group_by` is "prefecture" (a prefecture with its municipalities), "kind" or "all" (one
    group, 0); `prefecture` narrows the scope to that prefecture and its municipalities.
    """
    groups: dict[str, Combinable] = {
        "prefecture": Coalesce("assessment__body__prefecture_id", "assessment__body_id"),
        "kind": F("assessment__body__kind"),
        "all": Value(0),
    }
    group = groups[group_by]
    scope = Assessment.objects.filter(guideline=guideline, fiscal_year__in=fiscal_years).results(
        include_drafts=include_drafts
    )
    if prefecture is not None:
        scope = scope.of_prefecture(prefecture)
    if kind:
        scope = scope.filter(body__kind=kind)
    return scope.mean_scores({"grp": group, "year": "assessment__fiscal_year"})


@dataclass
class AverageRow:
    key: object  # a prefecture Body or a kind value
    label: str
    current: float | None
    current_bodies: int
    previous: float | None
    previous_bodies: int

    @property
    def change(self) -> Decimal | None:
        return scoring.difference(self.current, self.previous)


def _average_rows(
    groups: Sequence[tuple[object, object, str]], averages: dict, fiscal_year: int
) -> list[AverageRow]:
    none = scoring.Mean(None, 0)
    rows = []
    for key, group, label in groups:
        now = averages.get((group, fiscal_year), none)
        before = averages.get((group, fiscal_year - 1), none)
        rows.append(AverageRow(key, label, now.value, now.bodies, before.value, before.bodies))
    return rows


def prefecture_averages(
    guideline: Guideline,
    fiscal_year: int,
    *,
    kind: str = "",
    include_drafts: bool = False,
    prefectures: Sequence[Body] | None = None,
) -> list[AverageRow]:
    """One row per prefecture (all, or those given): this year's average, last year's, and
    the change."""
    averages = grouped_averages(
        guideline,
        [fiscal_year, fiscal_year - 1],
        group_by="prefecture",
        kind=kind,
        include_drafts=include_drafts,
    )
    if prefectures is None:
        prefectures = list(Body.objects.prefectures().order_by("code"))
    return _average_rows([(p, p.pk, p.name) for p in prefectures], averages, fiscal_year)


def national_average(
    guideline: Guideline, fiscal_year: int, *, kind: str = "", include_drafts: bool = False
) -> AverageRow:
    """The national average (every body once) this year and last year: the 全国 row."""
    averages = grouped_averages(
        guideline,
        [fiscal_year, fiscal_year - 1],
        group_by="all",
        kind=kind,
        include_drafts=include_drafts,
    )
    return _average_rows([("all", 0, _("全国"))], averages, fiscal_year)[0]


def kind_averages(
    guideline: Guideline,
    fiscal_year: int,
    *,
    include_drafts: bool = False,
    prefecture: Body | None = None,
) -> list[AverageRow]:
    """One row per kind of body (nationally, or within `prefecture`): this year's average,
    last year's, and the change. Kinds with no body in the scope are left out."""
    averages = grouped_averages(
        guideline,
        [fiscal_year, fiscal_year - 1],
        group_by="kind",
        include_drafts=include_drafts,
        prefecture=prefecture,
    )
    present = {group for group, _year in averages}
    kinds = [
        (kind, kind, str(label))
        for kind, label in Body.Kind.choices
        if prefecture is None or kind in present
    ]
    return _average_rows(kinds, averages, fiscal_year)


@dataclass
class BodyChange:
    """One body's result this year beside last year's (None: no result that year)."""

    body: Body
    current: Assessment | None
    previous: Assessment | None

    @property
    def change(self) -> Decimal | None:
        if self.current is None or self.previous is None:
            return None
        return scoring.difference(self.current.score.value, self.previous.score.value)


@dataclass
class BodyChanges:
    rows: list[BodyChange]

    def _count(self, test) -> int:
        return sum(1 for r in self.rows if r.change is not None and test(r.change))

    @property
    def improved(self) -> int:
        return self._count(lambda c: c > 0)

    @property
    def declined(self) -> int:
        return self._count(lambda c: c < 0)

    @property
    def unchanged(self) -> int:
        return self._count(lambda c: c == 0)

    @property
    def not_comparable(self) -> int:
        return sum(1 for r in self.rows if r.change is None)


def body_changes(user: User, filters: Filters, prefecture: Body) -> BodyChanges:
    """Every body of `prefecture` in the user's scope, with its result this year and last
    (results only unless the filters include drafts): two queries whatever the size."""
    bodies = (
        Body.objects.visible_to(user)
        .of_prefecture(prefecture)
        .existing_on(fiscal_year_start(filters.fiscal_year))
        .order_by("code")
    )
    if filters.kind:
        bodies = bodies.filter(kind=filters.kind)
    years = [filters.fiscal_year, filters.fiscal_year - 1]
    assessments = (
        Assessment.objects.visible_to(user)
        .filter(guideline=filters.guideline, fiscal_year__in=years)
        .of_prefecture(prefecture)
        .results(include_drafts=filters.include_drafts)
        .select_related("guideline")
        .with_scores(filters.guideline)
    )
    by_pair = {(a.body_id, a.fiscal_year): a for a in assessments}
    return BodyChanges(
        [
            BodyChange(
                body=body,
                current=by_pair.get((body.pk, years[0])),
                previous=by_pair.get((body.pk, years[1])),
            )
            for body in bodies
        ]
    )
