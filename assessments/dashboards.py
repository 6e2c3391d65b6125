"""The numbers behind the dashboards, computed by the database.

Every function here runs a fixed number of queries whatever the number of bodies: scores are
annotated (scoring.annotate_scores), section scores and level counts are grouped aggregates, and
averages are one grouped SQL statement. Views only choose the scope and the page.

Scope: `scoped_assessments(user)` is what the user may read (access.visible_bodies_q): a
prefecture reviewer's prefecture and its municipalities, or everything for a national
administrator.
"""

from dataclasses import dataclass, field

from django.db import connection
from django.db.models import (
    Count,
    ExpressionWrapper,
    F,
    FloatField,
    IntegerField,
    Q,
    QuerySet,
    Sum,
    Value,
)
from django.utils.translation import gettext_lazy as _

from assessments import access
from assessments.comparisons import COUNTED_STATUSES, SCORE_SQL, round_score, table
from assessments.models import MAX_LEVEL, Answer, Assessment, Body, Guideline, Level, Measure
from assessments.scoring import score_from_sums, section_scores

NOT_APPLICABLE = "na"  # the distribution's column for 該当なし

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


@dataclass
class Row:
    assessment: Assessment
    score: float | None
    sections: list[float | None] = field(default_factory=list)


def scoped_assessments(user) -> QuerySet[Assessment]:
    return Assessment.objects.filter(access.visible_bodies_q(user, prefix="body__"))


def filtered_assessments(user, filters: Filters) -> QuerySet[Assessment]:
    """The assessments a dashboard shows, before scores and ordering."""
    qs = scoped_assessments(user).filter(
        guideline=filters.guideline, fiscal_year=filters.fiscal_year
    )
    if filters.prefecture is not None:
        qs = qs.filter(Q(body__prefecture=filters.prefecture) | Q(body=filters.prefecture))
    if filters.kind:
        qs = qs.filter(body__kind=filters.kind)
    if filters.status:
        qs = qs.filter(status=filters.status)
    return qs


def _score_sums(assessments: QuerySet[Assessment]) -> QuerySet[Assessment]:
    levelled = Q(answers__measure__is_scored=True, answers__level__isnull=False)
    return assessments.annotate(
        score_earned=Sum(
            F("answers__level") * F("answers__measure__weight"),
            filter=levelled,
            output_field=IntegerField(),
        ),
        score_possible=Sum(
            F("answers__measure__weight") * MAX_LEVEL, filter=levelled, output_field=IntegerField()
        ),
    ).annotate(
        score_value=ExpressionWrapper(
            Value(100.0) * F("score_earned") / F("score_possible"), output_field=FloatField()
        )
    )


def with_joined_scores(assessments: QuerySet[Assessment], guideline: Guideline):
    """Annotate progress and score like scoring.annotate_scores, as one join and GROUP BY.

    The same figures (answered_count, not_applicable_count, to_answer_count, score_earned,
    score_possible, score_value), aggregated over a join of the answers instead of one
    correlated subquery per figure and row (on PostgreSQL about 10× faster for many rows).
    """
    scored = Q(answers__measure__is_scored=True)
    answered = scored & (Q(answers__level__isnull=False) | Q(answers__not_applicable=True))
    to_answer = Measure.objects.filter(guideline=guideline, is_scored=True).count()
    return _score_sums(
        assessments.annotate(
            answered_count=Count("answers", filter=answered),
            not_applicable_count=Count("answers", filter=scored & Q(answers__not_applicable=True)),
            to_answer_count=Value(to_answer, output_field=IntegerField()),
        )
    )


def _ordering(filters: Filters):
    name = SORTS.get(filters.sort.lstrip("-"), SORTS["code"])
    if filters.sort.startswith("-"):
        return F(name).desc(nulls_last=True), "body__code"
    return F(name).asc(nulls_last=True), "body__code"


def ordered_ids(user, filters: Filters) -> QuerySet:
    """The ids of the filtered assessments in the requested order (to page through).

    Sorting by score groups the answers by assessment id only (a narrow GROUP BY); the page's
    rows are then fetched with `rows_for_page`.
    """
    assessments = filtered_assessments(user, filters)
    if filters.sort.lstrip("-") == "score":
        assessments = _score_sums(assessments.values("pk"))
    return assessments.order_by(*_ordering(filters)).values_list("pk", flat=True)


def rows_for_page(ids, guideline: Guideline) -> list[Assessment]:
    """The assessments with these ids, with body, prefecture and scores, in the ids' order."""
    ids = list(ids)
    by_id = with_joined_scores(
        Assessment.objects.filter(pk__in=ids).select_related(
            "body", "body__prefecture", "guideline"
        ),
        guideline,
    ).in_bulk()
    return [by_id[pk] for pk in ids]


def dashboard_rows(user, filters: Filters) -> QuerySet[Assessment]:
    """All filtered assessments with body, prefecture and scores, in the requested order."""
    return with_joined_scores(
        filtered_assessments(user, filters).select_related("body", "body__prefecture", "guideline"),
        filters.guideline,
    ).order_by(*_ordering(filters))


def scored_sections(guideline: Guideline) -> list[Measure]:
    """The guideline's sections (章) that hold at least one scored measure, in order."""
    return list(
        Measure.objects.sections()
        .filter(guideline=guideline, section_measures__is_scored=True)
        .distinct()
        .order_by("order")
    )


def rows_with_sections(assessments, sections: list[Measure], ids=None) -> list[Row]:
    """Attach the overall and per-section scores (one grouped query for all the rows)."""
    assessments = list(assessments)
    by_pair = section_scores(ids if ids is not None else [a.pk for a in assessments])
    return [
        Row(
            assessment=a,
            score=score_from_sums(a.score_earned, a.score_possible),
            sections=[by_pair.get((a.pk, s.pk), {}).get("score") for s in sections],
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


# --- Distribution of levels ---------------------------------------------------------------------


@dataclass
class Cell:
    count: int
    total: int

    @property
    def percent(self) -> float:
        return round(100 * self.count / self.total, 1) if self.total else 0.0


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
            for column, label in level_columns()
        ]


def level_columns() -> list[tuple[object, str]]:
    return [(level, label) for level, label in Level.choices] + [(NOT_APPLICABLE, _("該当なし"))]


def level_distribution(
    user, filters: Filters, statuses=COUNTED_STATUSES
) -> tuple[list[str], list[MeasureDistribution]]:
    """Per measure and kind of body, how many bodies answered each level, and their share.

    The share is of the bodies of that kind that answered the measure (該当なし included), as
    in MIC's tables ("N団体 (x%)"). One grouped query: measure × kind × level.
    """
    assessments = filtered_assessments(user, filters)
    if filters.status:
        statuses = (filters.status,)
    counts = (
        Answer.objects.filter(
            assessment__in=assessments.filter(status__in=statuses).values("pk"),
            measure__is_scored=True,
        )
        .filter(Q(level__isnull=False) | Q(not_applicable=True))
        .values("measure_id", "assessment__body__kind", "level", "not_applicable")
        .annotate(n=Count("pk"))
        .order_by()
    )
    measures = list(
        Measure.objects.filter(guideline=filters.guideline, is_scored=True).order_by("order")
    )
    table: dict[int, dict[str, dict]] = {}
    for row in counts:
        column = NOT_APPLICABLE if row["not_applicable"] else row["level"]
        kinds = table.setdefault(row["measure_id"], {})
        kinds.setdefault(row["assessment__body__kind"], {})[column] = row["n"]
    kinds_present = sorted(
        {kind for per_measure in table.values() for kind in per_measure},
        key=list(Body.Kind.values).index,
    )
    columns = [c for c, _label in level_columns()]
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
    guideline_id: int, fiscal_years: list[int], *, group_by: str, kind: str = ""
) -> dict[tuple, tuple[float | None, int]]:
    """{(group, fiscal year): (mean score, bodies)} over submitted and approved assessments.

    `group_by` is "prefecture" (a prefecture with its municipalities) or "kind". Each body
    counts once (the mean of the bodies' own scores, as comparisons.average_scores).
    """
    group = {"prefecture": "COALESCE(b.prefecture_id, b.id)", "kind": "b.kind"}[group_by]
    params: list = [guideline_id, *fiscal_years, *COUNTED_STATUSES]
    kind_clause = ""
    if kind:
        kind_clause = "AND b.kind = %s"
        params.append(kind)
    sql = f"""
        SELECT grp, fiscal_year, AVG(score), COUNT(*) FROM (
            SELECT {group} AS grp, s.fiscal_year AS fiscal_year,
                   {SCORE_SQL} AS score
            FROM {table(Answer)} a
            JOIN {table(Measure)} m ON m.id = a.measure_id
            JOIN {table(Assessment)} s ON s.id = a.assessment_id
            JOIN {table(Body)} b ON b.id = s.body_id
            WHERE s.guideline_id = %s
              AND s.fiscal_year IN ({", ".join(["%s"] * len(fiscal_years))})
              AND s.status IN ({", ".join(["%s"] * len(COUNTED_STATUSES))})
              {kind_clause}
              AND m.is_scored AND a.level IS NOT NULL
            GROUP BY s.id, {group}, s.fiscal_year
        ) per_assessment
        GROUP BY grp, fiscal_year
    """
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return {
            (grp, year): (round_score(mean), count) for grp, year, mean, count in cursor.fetchall()
        }


@dataclass
class AverageRow:
    key: object  # a prefecture Body or a kind value
    label: str
    current: float | None
    current_bodies: int
    previous: float | None
    previous_bodies: int

    @property
    def change(self) -> float | None:
        if self.current is None or self.previous is None:
            return None
        return round(self.current - self.previous, 1)


def prefecture_averages(guideline: Guideline, fiscal_year: int, *, kind: str = ""):
    """One row per prefecture: this year's average, last year's, and the change."""
    years = [fiscal_year, fiscal_year - 1]
    averages = grouped_averages(guideline.pk, years, group_by="prefecture", kind=kind)
    rows = []
    for prefecture in Body.objects.prefectures().order_by("code"):
        now = averages.get((prefecture.pk, fiscal_year), (None, 0))
        before = averages.get((prefecture.pk, fiscal_year - 1), (None, 0))
        rows.append(AverageRow(prefecture, prefecture.name, *now, *before))
    return rows


def kind_averages(guideline: Guideline, fiscal_year: int) -> list[AverageRow]:
    """One row per kind of body: this year's average, last year's, and the change."""
    years = [fiscal_year, fiscal_year - 1]
    averages = grouped_averages(guideline.pk, years, group_by="kind")
    rows = []
    for kind, label in Body.Kind.choices:
        now = averages.get((kind, fiscal_year), (None, 0))
        before = averages.get((kind, fiscal_year - 1), (None, 0))
        rows.append(AverageRow(kind, str(label), *now, *before))
    return rows
