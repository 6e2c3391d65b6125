"""What the PDF reports show: one assessment (for the mayor's desk) and a prefecture's summary.

Every figure is computed by the database in a fixed number of queries, whatever the data size,
through the same querysets and scoring as the pages (assessments.scoring: one score, one
rounding). Rendering and caching are in reports.pdf.
"""

import datetime
from dataclasses import dataclass, field
from decimal import Decimal

from django.conf import settings
from django.db.models import Count
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext as _

from assessments import scoring
from assessments.levels import Level, level_labels
from assessments.models import Answer, Assessment, Body, Guideline, Measure, ReviewComment
from assessments.models.assessments import SectionTotals
from assessments.reports import charts
from assessments.reports.fetcher import STATIC_BASE
from assessments.selectors import comparisons

HEATMAP_ROWS_PER_PAGE = 40


def chart_level_names() -> list[str]:
    """Short level names for chart legends (the tables beside the charts give the full ones)."""
    return [
        _("0 未着手"),
        _("1 計画中"),
        _("2 一部実施"),
        _("3 運用"),
        _("4 評価・改善"),
        _("該当なし"),
    ]


def _short(text: str, length: int = 11) -> str:
    return text if len(text) <= length else text[: length - 1] + "…"


def _local_date(value: datetime.datetime | None) -> datetime.date | None:
    return timezone.localtime(value).date() if value else None


def approval_roles(body: Body) -> list[str]:
    """The 決裁欄 of the body, from the section chief up to its head."""
    if body.is_prefecture:
        return [_("課長"), _("部長"), _("副知事"), _("知事")]
    head: tuple[str, str] = {
        Body.Kind.TOWN.value: (_("副町長"), _("町長")),
        Body.Kind.VILLAGE.value: (_("副村長"), _("村長")),
        Body.Kind.SPECIAL_WARD.value: (_("副区長"), _("区長")),
    }.get(body.kind, (_("副市長"), _("市長")))
    return [_("課長"), _("部長"), *head]


# --- One assessment ----------------------------------------------------------------------------


@dataclass
class SectionReport:
    section: Measure
    score: scoring.Number | None
    answered: int
    items: list[dict] = field(default_factory=list)  # {"measure", "answer", "descriptions", …}
    distribution: list[int] = field(default_factory=list)  # count per level 0–4, then 該当なし


def assessment_report_context(assessment: Assessment) -> dict:
    """Everything the assessment PDF shows, in 11 queries (3 comparison scopes × 2 included).

    Queries: the assessment with its scores; measures; their level descriptions; answers;
    review comments with authors; section scores; the comparison averages (2 per scope).
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
    comments: dict[int, list[ReviewComment]] = {}
    for comment in ReviewComment.objects.filter(assessment=scored).select_related("author"):
        comments.setdefault(comment.measure_id, []).append(comment)
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
    by_id = {m.pk: m for m in measures}
    for measure in measures:
        if not measure.is_scored or measure.section_id not in sections:
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
            }
        )
    scored_sections = [s for s in sections.values() if s.items]

    averages = comparisons.comparison_for(scored)
    series = [(scored.body.name, [s.score for s in scored_sections])] + [
        (avg.label, [avg.sections.get(s.section.pk) for s in scored_sections]) for avg in averages
    ]
    axes = [s.section.ref for s in scored_sections]
    names = level_labels()
    totals = [sum(s.distribution[i] for s in scored_sections) for i in range(len(names))]
    unanswered = scored.to_answer_count - scored.answered_count
    roadmap = sorted(
        (
            item
            for s in scored_sections
            for item in s.items
            if item["answer"]
            and (
                item["answer"].target_level is not None
                or item["answer"].target_fiscal_year
                or item["answer"].improvement_plan
            )
        ),
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
            axes, series, title=_("章別の点数（団体・都道府県・全国）"), size=380
        ),
        "comparison_bars": charts.grouped_bar_chart(
            [_("総合")] + [f"{s.section.ref} {_short(s.section.title)}" for s in scored_sections],
            [(scored.body.name, [scored.score.value] + [s.score for s in scored_sections])]
            + [
                (
                    avg.label,
                    [avg.overall] + [avg.sections.get(s.section.pk) for s in scored_sections],
                )
                for avg in averages
            ],
            title=_("都道府県平均・全国平均との比較"),
            width=640,
        ),
        "distribution_chart": charts.distribution_bars(
            [
                (f"{s.section.ref} {_short(s.section.title)}", s.distribution)
                for s in scored_sections
            ],
            chart_level_names(),
            title=_("章ごとのレベルの分布"),
            width=760,
        ),
        "level_names": names,
        "level_totals": totals,
        "unanswered": unanswered,
        "roadmap": roadmap,
        "approval_roles": approval_roles(scored.body),
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


def prefecture_summary_context(prefecture: Body, guideline: Guideline, fiscal_year: int) -> dict:
    """Every municipality of `prefecture`, ranked, with the heatmap and distributions.

    Queries: municipalities; their assessments with scores; sections; section scores;
    scored measures; the level distribution per measure; 2 comparison scopes × 2. Constant.
    """
    bodies = list(Body.objects.of_prefecture(prefecture, itself=False).order_by("code"))
    assessments = {
        a.body_id: a
        for a in Assessment.objects.of_prefecture(prefecture, itself=False)
        .of_round(guideline, fiscal_year)
        .with_scores(guideline)
    }
    sections = list(Measure.objects.filter(guideline=guideline).scored_sections())
    per_section = Answer.objects.section_totals([a.pk for a in assessments.values()])
    empty = SectionTotals()
    rows = []
    for b in bodies:
        a = assessments.get(b.pk)
        rows.append(
            SummaryRow(
                body=b,
                assessment=a,
                status=a.get_status_display() if a else _("未作成"),
                score=a.score if a else None,
                answered=a.answered_count if a else 0,
                to_answer=a.to_answer_count if a else 0,
                sections=[
                    per_section.get((a.pk, s.pk), empty).score if a else None for s in sections
                ],
            )
        )
    # Only results are ranked, by their score as shown (ties share a rank); drafts are listed
    # apart with their progress.
    ranked = sorted((r for r in rows if r.ranked), key=lambda r: -(r.shown or 0))
    previous, rank = None, 0
    for position, row in enumerate(ranked, start=1):
        if row.shown != previous:
            rank, previous = position, row.shown
        row.rank = rank
    measures = list(Measure.objects.filter(guideline=guideline).scored())
    counts = (
        Answer.objects.filter(
            assessment__in=[a.pk for a in assessments.values()], measure__is_scored=True
        )
        .values("measure_id", "level", "not_applicable")
        .annotate(n=Count("pk"))
        .order_by()
    )
    names = level_labels()
    distribution = {m.pk: [0] * len(names) for m in measures}
    for count in counts:
        if count["not_applicable"]:
            distribution[count["measure_id"]][-1] += count["n"]
        elif count["level"] is not None:
            distribution[count["measure_id"]][count["level"]] += count["n"]
    columns = [s.ref for s in sections]
    heat_rows = [(r.body.name, r.sections) for r in rows if r.assessment]
    heatmaps = [
        charts.heatmap(
            heat_rows[i : i + HEATMAP_ROWS_PER_PAGE],
            columns,
            title=_("団体 × 章の点数（%(start)s〜%(end)s）")
            % {"start": i + 1, "end": min(i + HEATMAP_ROWS_PER_PAGE, len(heat_rows))},
            label_width=120,
        )
        for i in range(0, len(heat_rows), HEATMAP_ROWS_PER_PAGE)
    ]
    averages = [
        comparisons.average_scores(
            guideline.pk, fiscal_year, label=prefecture.name + _("平均"), prefecture=prefecture
        ),
        comparisons.average_scores(guideline.pk, fiscal_year, label=_("全国平均")),
    ]
    statuses: dict[str, int] = {}
    for r in rows:
        statuses[r.status] = statuses.get(r.status, 0) + 1
    return {
        "prefecture": prefecture,
        "guideline": guideline,
        "fiscal_year": fiscal_year,
        "rows": rows,
        "sections": sections,
        "heatmaps": heatmaps,
        "distribution_chart": charts.distribution_bars(
            [(f"{m.ref} {_short(m.title, 9)}", distribution[m.pk]) for m in measures],
            chart_level_names(),
            title=_("項目ごとのレベルの分布"),
            width=760,
        ),
        "measures": [(m, distribution[m.pk]) for m in measures],
        "level_names": names,
        "averages": averages,
        "statuses": sorted(statuses.items()),
        "generated_at": timezone.localtime(),
        "formula": scoring.FORMULA,
        "static_base": STATIC_BASE,
        "language": (get_language() or settings.LANGUAGE_CODE)[:2],
    }
