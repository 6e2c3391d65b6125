"""What the PDF reports show: one assessment (for the mayor's desk) and a prefecture's summary.

Every figure is computed by the database in a fixed number of queries, whatever the data size,
through the same querysets and scoring as the pages (assessments.scoring: one score, one
rounding). Rendering and caching are in reports.pdf.
"""

import datetime
from dataclasses import dataclass, field
from decimal import Decimal

from django.conf import settings
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext as _

from assessments import scoring
from assessments.fiscal_year import fiscal_year_start
from assessments.levels import Level, level_labels
from assessments.models import Answer, Assessment, Body, Guideline, Measure, ReviewComment, labels
from assessments.models.assessments import SectionTotals
from assessments.models.documents import header_for, settings_of
from assessments.models.registry import MicCategory
from assessments.reports import charts
from assessments.reports.fetcher import STATIC_BASE
from assessments.selectors import comparisons, filling, statistics

HEATMAP_ROWS_PER_PAGE = 42
DISTRIBUTION_ROWS_PER_PAGE = 20


def chart_level_names() -> list[str]:
    """The legend of level charts: the same names as the tables (levels, 該当なし, 未回答)."""
    return [*level_labels(), _("未回答")]


UNANSWERED_SECTIONS = _("線の途切れた軸: 点数のない章（未回答）")


def _local_date(value: datetime.datetime | None) -> datetime.date | None:
    return timezone.localtime(value).date() if value else None


def purposes_of(measures: list[Measure]) -> list[tuple[Measure | None, list[Measure]]]:
    """The guideline's purposes (I.1 and its like): unscored headings without children, which
    frame the report rather than being rated; grouped under their parent heading."""
    parents = {m.parent_id for m in measures}
    by_id = {m.pk: m for m in measures}
    groups: dict[int | None, list[Measure]] = {}
    for m in measures:
        if not m.is_scored and m.pk not in parents and m.depth > 1:
            groups.setdefault(m.parent_id, []).append(m)
    return [(by_id.get(parent or 0), items) for parent, items in groups.items()]


def shows_on_roadmap(answer: Answer | None) -> bool:
    """A plan worth printing: it has text, and its target is above the current level."""
    if answer is None or not answer.improvement_plan.strip():
        return False
    if answer.target_level is None or answer.level is None or answer.not_applicable:
        return True
    return answer.target_level > answer.level


# --- One assessment ----------------------------------------------------------------------------


@dataclass
class SectionReport:
    section: Measure
    score: scoring.Number | None
    answered: int
    items: list[dict] = field(default_factory=list)  # {"measure", "answer", "descriptions", …}
    distribution: list[int] = field(default_factory=list)  # count per level 0–4, then 該当なし


def assessment_report_context(assessment: Assessment) -> dict:
    """Everything the assessment PDF shows, in 13 queries (3 comparison scopes × 2 included).

    Queries: the assessment with its scores; measures; their level descriptions; answers;
    review comments with authors; the notes in force on the base date; section scores; the
    comparison averages (2 per scope); the body's document settings.
    """
    scored = (
        Assessment.objects.select_related("body", "body__prefecture", "guideline")
        .with_scores()
        .get(pk=assessment.pk)
    )
    measures = list(
        Measure.objects.filter(guideline_id=scored.guideline_id)
        .prefetch_related("level_descriptions")
        .order_by("order")
    )
    answers = {a.measure_id: a for a in Answer.objects.filter(assessment=scored)}
    by_id = {m.pk: m for m in measures}
    for given in answers.values():
        given.measure = by_id[given.measure_id]  # from the list above, not a query each
    comments: dict[int, list[ReviewComment]] = {}
    for comment in ReviewComment.objects.filter(assessment=scored).select_related("author"):
        comments.setdefault(comment.measure_id, []).append(comment)
    notes = filling.notes_by_measure(scored)
    section_totals = Answer.objects.section_totals([scored.pk])

    sections: dict[int, SectionReport] = {}
    depth = scored.guideline.section_depth
    for measure in measures:
        if measure.depth == depth:
            figures = section_totals.get((scored.pk, measure.pk), SectionTotals())
            sections[measure.pk] = SectionReport(
                section=measure,
                score=figures.score,
                answered=figures.answered,
                distribution=[0] * (len(Level.choices) + 1),
            )
    kind = scored.body.kind
    # What the body answers, as Measure.objects.to_answer() selects it (scored, applying to it).
    counted = [m for m in measures if m.is_scored and m.applies_to_kind(kind)]
    for measure in counted:
        if measure.section_id not in sections:
            continue
        answer = answers.get(measure.pk)
        report = sections[measure.section_id]
        descriptions = {d.level: d for d in measure.level_descriptions.all()}
        if answer and answer.not_applicable:
            report.distribution[-1] += 1
        elif answer and answer.level is not None:
            report.distribution[answer.level] += 1
        report.items.append(
            {
                "measure": measure,
                "parent": by_id.get(measure.parent_id or 0) if measure.depth > depth + 1 else None,
                "answer": answer,
                "level_description": descriptions.get(answer.level)
                if answer and answer.level is not None
                else None,
                "comments": comments.get(measure.pk, []),
                "notes": notes.get(measure.pk, []),
            }
        )
    scored_sections = [s for s in sections.values() if s.items]
    for s in scored_sections:
        s.distribution.append(len(s.items) - sum(s.distribution))  # 未回答

    averages = comparisons.comparison_for(scored)
    series = [(scored.body.name, [s.score for s in scored_sections])] + [
        (avg.label, [avg.sections.get(s.section.pk) for s in scored_sections]) for avg in averages
    ]
    axes = [s.section.ref for s in scored_sections]
    names = level_labels()
    totals = [sum(s.distribution[i] for s in scored_sections) for i in range(len(names) + 1)]
    unanswered = totals.pop()
    roadmap = sorted(
        (item for s in scored_sections for item in s.items if shows_on_roadmap(item["answer"])),
        key=lambda item: (
            item["answer"].target_fiscal_year or 9999,
            item["measure"].order,
        ),
    )
    return {
        "assessment": scored,
        "body": scored.body,
        "guideline": scored.guideline,
        "sections": scored_sections,
        "averages": averages,
        "section_rows": [
            (s.section, [s.score] + [avg.sections.get(s.section.pk) for avg in averages])
            for s in scored_sections
        ],
        "overall_rows": [(scored.body.name, scored.score)]
        + [(avg.label, avg.overall) for avg in averages],
        "radar": charts.radar_chart(
            axes,
            series,
            title=_("章別の点数（団体・都道府県・全国）"),
            size=380,
            unanswered_label=UNANSWERED_SECTIONS,
        ),
        "comparison_bars": charts.grouped_bar_chart(
            [_("総合")] + [f"{s.section.ref} {s.section.title}" for s in scored_sections],
            [(scored.body.name, [scored.score.value] + [s.score for s in scored_sections])]
            + [
                (
                    avg.label,
                    [avg.overall] + [avg.sections.get(s.section.pk) for s in scored_sections],
                )
                for avg in averages
            ],
            title=_("都道府県平均・全国平均との比較"),
            width=600,
            label_width=200,
        ),
        "distribution_chart": charts.distribution_bars(
            [(f"{s.section.ref} {s.section.title}", s.distribution) for s in scored_sections],
            chart_level_names(),
            title=_("章ごとのレベルの分布"),
            width=600,
            label_width=200,
        ),
        "level_names": names,
        "level_totals": totals,
        "unanswered": unanswered,
        "roadmap": roadmap,
        "document": header_for(scored.body, scored.fiscal_year, settings_of(scored.body)),
        "is_draft": not scored.is_result,
        "purposes": purposes_of(measures),
        "weighted": [m for m in counted if m.weight > 1],
        "uncounted": filling.uncounted_answers(answers.values(), counted),
        "submitted_on": _local_date(scored.submitted_at),
        "approved_on": _local_date(scored.approved_at),
        "generated_at": timezone.localtime(),
        "formula": scoring.FORMULA,
        "static_base": STATIC_BASE,
        "language": (get_language() or settings.LANGUAGE_CODE)[:2],
    }


# --- A prefecture's summary --------------------------------------------------------------------


@dataclass
class SummaryRow:
    """One municipality in the prefecture summary; only results get a rank."""

    body: Body
    assessment: Assessment | None
    status: str
    score: scoring.Score | None
    answered: int
    to_answer: int
    sections: list[Decimal | None]
    rank: int | None = None

    @property
    def shown(self) -> Decimal | None:
        return self.score.rounded if self.score else None

    @property
    def ranked(self) -> bool:
        return bool(self.assessment and self.assessment.is_result and self.shown is not None)


@dataclass
class DistributionTable:
    """Per measure, how many of `bodies` bodies are at each level, 該当なし or 未回答.

    Only results count as answers (a draft's body is 未回答), so every row adds up to `bodies`
    and a share reads as MIC writes it: 「N団体（x%）」 of the stated denominator.
    """

    label: str
    bodies: int
    answered: dict[int, list[int]]  # measure id → counts for levels 0–4, then 該当なし

    def counts(self, measure: Measure) -> list[int]:
        """Levels 0–4, 該当なし, 未回答."""
        counts = self.answered.get(measure.pk, [0] * (len(Level.choices) + 1))
        return [*counts, self.bodies - sum(counts)]

    def cells(self, measure: Measure) -> list[tuple[int, Decimal]]:
        return [(n, scoring.percent(n, self.bodies)) for n in self.counts(measure)]

    measures: list[Measure] = field(default_factory=list)

    @property
    def rows(self) -> list[tuple[Measure, list[tuple[int, Decimal]]]]:
        return [(m, self.cells(m)) for m in self.measures]


def distribution_tables(
    tabulation: statistics.Tabulation, measures: list[Measure]
) -> list[DistributionTable]:
    """The municipalities' distribution, then each municipal 団体区分 among them, read from
    the statistics tabulation of the prefecture (the numbers a national release publishes),
    leaving the prefecture's own assessment out."""
    municipal = [c for c in tabulation.categories if c != MicCategory.PREFECTURE]
    by_ref = {counts.ref: counts for counts in tabulation.measures}
    answered_columns = statistics.COLUMNS[:-1]  # levels 0–4 and 該当なし; 未回答 is derived

    def answered(categories: list[str]) -> dict[int, list[int]]:
        return {
            m.pk: [
                sum(by_ref[m.ref].by_category[c][column] for c in categories)
                for column in answered_columns
            ]
            for m in measures
        }

    tables = [
        DistributionTable(
            label=_("全団体"),
            bodies=sum(tabulation.denominators[c] for c in municipal),
            answered=answered(municipal),
            measures=measures,
        )
    ]
    if len(municipal) > 1:
        tables += [
            DistributionTable(
                label=str(MicCategory(c).label),
                bodies=tabulation.denominators[c],
                answered=answered([c]),
                measures=measures,
            )
            for c in municipal
        ]
    return tables


def prefecture_summary_context(prefecture: Body, guideline: Guideline, fiscal_year: int) -> dict:
    """Every municipality of `prefecture`: results ranked, drafts apart with their progress, the
    heatmap, and the distribution per measure by 団体区分 as 「N団体（x%）」.

    Queries: municipalities; their assessments with scores; sections; section scores;
    scored measures; the statistics tabulation of the prefecture (4); 2 comparison scopes × 2;
    the municipalities nationwide; the prefecture's document settings. Constant.
    """
    base_date = fiscal_year_start(fiscal_year)
    bodies = list(
        Body.objects.of_prefecture(prefecture, itself=False).existing_on(base_date).order_by("code")
    )
    assessments = {
        a.body_id: a
        for a in Assessment.objects.of_prefecture(prefecture, itself=False)
        .of_round(guideline, fiscal_year)
        .with_scores(guideline)
    }
    # The summary lists municipalities only: what a municipality answers (any municipal kind).
    municipal = Body.Kind.CITY
    sections = list(Measure.objects.filter(guideline=guideline).scored_sections(municipal))
    per_section = Answer.objects.section_totals([a.pk for a in assessments.values()])
    empty = SectionTotals()
    rows = []
    for b in bodies:
        a = assessments.get(b.pk)
        rows.append(
            SummaryRow(
                body=b,
                assessment=a,
                status=labels.label(Assessment.Status, a.status) if a else _("未作成"),
                score=a.score if a else None,
                answered=a.answered_count if a else 0,
                to_answer=a.to_answer_count if a else 0,
                sections=[
                    per_section.get((a.pk, s.pk), empty).score if a else None for s in sections
                ],
            )
        )
    # Only results are ranked, by their score as shown (ties share a rank, then code order);
    # drafts are listed apart with their progress.
    ranked = sorted((r for r in rows if r.ranked), key=lambda r: (-(r.shown or 0), r.body.code))
    previous, rank = None, 0
    for position, row in enumerate(ranked, start=1):
        if row.shown != previous:
            rank, previous = position, row.shown
        row.rank = rank
    measures = list(Measure.objects.filter(guideline=guideline).scored().for_kind(municipal))
    tables = distribution_tables(
        statistics.tabulate(guideline, fiscal_year, prefecture=prefecture), measures
    )
    columns = [s.ref for s in sections]
    heat_rows = [(r.body.name, r.sections) for r in ranked]
    heatmaps = [
        charts.heatmap(
            heat_rows[i : i + HEATMAP_ROWS_PER_PAGE],
            columns,
            title=_("団体 × 章の点数（順位 %(start)s〜%(end)s 位の団体）")
            % {"start": i + 1, "end": min(i + HEATMAP_ROWS_PER_PAGE, len(heat_rows))},
            label_width=110,
            cell_width=50,
        )
        for i in range(0, len(heat_rows), HEATMAP_ROWS_PER_PAGE)
    ]
    averages = [
        comparisons.average_scores(
            guideline.pk,
            fiscal_year,
            label=_("%(prefecture)s内の市区町村の平均") % {"prefecture": prefecture.name},
            prefecture=prefecture,
        ),
        comparisons.average_scores(
            guideline.pk, fiscal_year, label=_("全国の市区町村の平均"), municipalities=True
        ),
    ]
    statuses: dict[str, int] = {}
    for r in rows:
        statuses[r.status] = statuses.get(r.status, 0) + 1
    overall = tables[0]
    return {
        "prefecture": prefecture,
        "guideline": guideline,
        "fiscal_year": fiscal_year,
        "rows": rows,
        "ranked": ranked,
        "unranked": [r for r in rows if not r.ranked],
        "sections": sections,
        "heatmaps": heatmaps,
        "distribution_charts": [
            charts.distribution_bars(
                [(f"{m.ref} {m.title}", overall.counts(m)) for m in chunk],
                chart_level_names(),
                title=_("項目ごとのレベルの分布（%(n)s団体）") % {"n": overall.bodies},
                width=600,
                label_width=210,
            )
            for chunk in (
                measures[i : i + DISTRIBUTION_ROWS_PER_PAGE]
                for i in range(0, len(measures), DISTRIBUTION_ROWS_PER_PAGE)
            )
        ],
        "tables": tables,
        "level_names": chart_level_names(),
        "averages": averages,
        "municipalities_nationwide": Body.objects.municipalities().existing_on(base_date).count(),
        "statuses": sorted(statuses.items()),
        "document": header_for(prefecture, fiscal_year, settings_of(prefecture)),
        "generated_at": timezone.localtime(),
        "formula": scoring.FORMULA,
        "static_base": STATIC_BASE,
        "language": (get_language() or settings.LANGUAGE_CODE)[:2],
    }
