"""PDF reports: one assessment (for the mayor's desk) and a prefecture's summary of its bodies.

Renderers are functions that return bytes; views only set headers. The HTML comes from
templates/assessments/pdf/, rendered by WeasyPrint with a fetcher that loads nothing but the
PDF stylesheet (assessments.pdf_fetcher). Text is set in IPAexGothic, embedded and subset.
Every figure is computed by the database in a fixed number of queries, whatever the data size.
"""

import datetime
import logging
from dataclasses import dataclass, field

from django.conf import settings
from django.core.cache import caches
from django.db.models import Count, Max, OuterRef, Q, Subquery, Sum
from django.db.models.functions import Coalesce
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext as _

from assessments import charts, comparisons, scoring
from assessments.answers import level_labels
from assessments.models import (
    Answer,
    Assessment,
    Body,
    Guideline,
    Level,
    Measure,
    ReviewComment,
)
from assessments.pdf_fetcher import STATIC_BASE, StaticOnlyFetcher

logger = logging.getLogger(__name__)

# Bump when a template, the stylesheet or this module changes what a PDF looks like, so cached
# PDFs made by the old code are not served again.
REPORT_VERSION = "2026-11-26.3"
CACHE_ALIAS = "reports"
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
    head = {
        Body.Kind.TOWN: (_("副町長"), _("町長")),
        Body.Kind.VILLAGE: (_("副村長"), _("村長")),
        Body.Kind.SPECIAL_WARD: (_("副区長"), _("区長")),
    }.get(body.kind, (_("副市長"), _("市長")))
    return [_("課長"), _("部長"), *head]


# --- One assessment ----------------------------------------------------------------------------


@dataclass
class SectionReport:
    section: Measure
    score: float | None
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
    section_scores = scoring.section_scores([scored.pk])

    sections: dict[int, SectionReport] = {}
    depth = scored.guideline.section_depth
    for measure in measures:
        if measure.depth == depth:
            figures = section_scores.get((scored.pk, measure.pk), {})
            sections[measure.pk] = SectionReport(
                section=measure,
                score=figures.get("score"),
                answered=figures.get("answered", 0),
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
                "parent": by_id.get(measure.parent_id) if measure.depth > depth + 1 else None,
                "answer": answer,
                "level_description": descriptions.get(answer.level) if answer else None,
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
        "overall_rows": [(scored.body.name, scored.score_value)]
        + [(avg.label, avg.overall) for avg in averages],
        "radar": charts.radar_chart(
            axes, series, title=_("章別の点数（団体・都道府県・全国）"), size=380
        ),
        "comparison_bars": charts.grouped_bar_chart(
            [_("総合")] + [f"{s.section.ref} {_short(s.section.title)}" for s in scored_sections],
            [(scored.body.name, [scored.score_value] + [s.score for s in scored_sections])]
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


def html_to_pdf(html: str) -> bytes:
    """Render HTML to a tagged PDF/UA-1 document, fetching only the allow-listed stylesheet."""
    from weasyprint import HTML

    document = HTML(string=html, base_url=STATIC_BASE, url_fetcher=StaticOnlyFetcher())
    return document.write_pdf(pdf_variant="pdf/ua-1", pdf_tags=True)


def render_assessment_html(assessment: Assessment) -> str:
    return render_to_string(
        "assessments/pdf/assessment.html", assessment_report_context(assessment)
    )


def render_assessment_pdf(assessment: Assessment) -> bytes:
    """The assessment report as PDF bytes (A4, Japanese, embedded IPAexGothic)."""
    return html_to_pdf(render_assessment_html(assessment))


def report_filename(assessment: Assessment, extension: str = "pdf") -> str:
    return (
        f"{assessment.body.code}_{assessment.fiscal_year}_{assessment.guideline.code}.{extension}"
    )


# --- Caching -----------------------------------------------------------------------------------


def report_cache_key(assessment: Assessment) -> str:
    """Identify the state a PDF shows: it changes whenever the assessment or its answers do.

    Assessment.version is bumped by every save and status change; the answers' latest update
    and the review comments are read too (one query), so a writer that forgot to bump the
    version still invalidates the PDF. created_at keeps keys apart when a database is rebuilt.
    """
    state = (
        Assessment.objects.filter(pk=assessment.pk)
        .annotate(
            last_answer=Subquery(
                Answer.objects.filter(assessment=OuterRef("pk"))
                .order_by()
                .values("assessment")
                .annotate(m=Max("updated_at"))
                .values("m")[:1]
            ),
            comment_count=Coalesce(
                Subquery(
                    ReviewComment.objects.filter(assessment=OuterRef("pk"))
                    .order_by()
                    .values("assessment")
                    .annotate(
                        n=Count("pk") + Count("resolved_at", filter=Q(resolved_at__isnull=False))
                    )
                    .values("n")[:1]
                ),
                0,
            ),
        )
        .values_list("version", "created_at", "last_answer", "comment_count")
        .get()
    )
    version, created, last_answer, comment_count = state
    stamp = f"{created.timestamp():.6f}-{last_answer.timestamp() if last_answer else 0:.6f}"
    language = (get_language() or settings.LANGUAGE_CODE)[:2]
    return (
        f"assessment-pdf:{REPORT_VERSION}:{assessment.pk}:{version}:{language}:"
        f"{stamp}:{comment_count}"
    )


def cached_assessment_pdf(assessment: Assessment) -> bytes:
    """The assessment PDF, rendered once per state and kept in the reports cache."""
    cache = caches[CACHE_ALIAS]
    key = report_cache_key(assessment)
    data = cache.get(key)
    if data is None:
        data = render_assessment_pdf(assessment)
        cache.set(key, data, timeout=None)
    return data


# --- A prefecture's summary --------------------------------------------------------------------


def prefecture_summary_context(prefecture: Body, guideline: Guideline, fiscal_year: int) -> dict:
    """Every municipality of `prefecture`, ranked, with the heatmap and distributions.

    Queries: municipalities; their assessments with scores; sections; section scores;
    scored measures; the level distribution per measure; 2 comparison scopes × 2. Constant.
    """
    bodies = list(Body.objects.filter(prefecture=prefecture).order_by("code"))
    assessments = {
        a.body_id: a
        for a in Assessment.objects.filter(
            body__prefecture=prefecture, guideline=guideline, fiscal_year=fiscal_year
        ).with_scores()
    }
    sections = list(
        Measure.objects.filter(guideline=guideline, depth=guideline.section_depth)
        .filter(section_measures__is_scored=True)
        .distinct()
        .order_by("order")
    )
    per_section = scoring.section_scores([a.pk for a in assessments.values()])
    rows = []
    for b in bodies:
        a = assessments.get(b.pk)
        rows.append(
            {
                "body": b,
                "assessment": a,
                "status": a.get_status_display() if a else _("未作成"),
                "score": a.score_value if a else None,
                "answered": a.answered_count if a else 0,
                "to_answer": a.to_answer_count if a else 0,
                "sections": [
                    per_section.get((a.pk, s.pk), {}).get("score") if a else None for s in sections
                ],
            }
        )
    ranked = sorted((r for r in rows if r["score"] is not None), key=lambda r: -r["score"])
    previous, rank = None, 0
    for position, row in enumerate(ranked, start=1):
        if row["score"] != previous:
            rank, previous = position, row["score"]
        row["rank"] = rank
    measures = list(Measure.objects.filter(guideline=guideline, is_scored=True).order_by("order"))
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
    for row in counts:
        if row["not_applicable"]:
            distribution[row["measure_id"]][-1] += row["n"]
        elif row["level"] is not None:
            distribution[row["measure_id"]][row["level"]] += row["n"]
    columns = [s.ref for s in sections]
    heat_rows = [(r["body"].name, r["sections"]) for r in rows if r["assessment"]]
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
    common = {"guideline_id": guideline.pk, "fiscal_year": fiscal_year}
    averages = [
        comparisons.average_scores(
            **common, label=prefecture.name + _("平均"), prefecture_id=prefecture.pk
        ),
        comparisons.average_scores(**common, label=_("全国平均")),
    ]
    statuses = {}
    for r in rows:
        statuses[r["status"]] = statuses.get(r["status"], 0) + 1
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


def summary_cache_key(prefecture: Body, guideline: Guideline, fiscal_year: int) -> str:
    """The state a summary shows: every assessment of the year (the national average counts
    them all), their versions and their answers' latest update, in two queries."""
    scope = {"guideline": guideline, "fiscal_year": fiscal_year}
    state = Assessment.objects.filter(**scope).aggregate(
        n=Count("pk"), versions=Coalesce(Sum("version"), 0), updated=Max("updated_at")
    )
    state |= Answer.objects.filter(
        assessment__guideline=guideline, assessment__fiscal_year=fiscal_year
    ).aggregate(answered=Max("updated_at"))
    stamps = "-".join(
        f"{state[k].timestamp():.6f}" if state[k] else "0" for k in ("updated", "answered")
    )
    language = (get_language() or settings.LANGUAGE_CODE)[:2]
    return (
        f"summary-pdf:{REPORT_VERSION}:{prefecture.pk}:{guideline.pk}:{fiscal_year}:{language}:"
        f"{state['n']}:{state['versions']}:{stamps}"
    )


def cached_prefecture_summary_pdf(
    prefecture: Body, guideline: Guideline, fiscal_year: int
) -> bytes:
    cache = caches[CACHE_ALIAS]
    key = summary_cache_key(prefecture, guideline, fiscal_year)
    data = cache.get(key)
    if data is None:
        data = render_prefecture_summary_pdf(prefecture, guideline, fiscal_year)
        cache.set(key, data, timeout=None)
    return data


def render_prefecture_summary_pdf(
    prefecture: Body, guideline: Guideline, fiscal_year: int
) -> bytes:
    html = render_to_string(
        "assessments/pdf/prefecture_summary.html",
        prefecture_summary_context(prefecture, guideline, fiscal_year),
    )
    return html_to_pdf(html)
