"""PDF rendering and its cache: renderers are functions that return bytes; views set headers.

The HTML comes from templates/assessments/pdf/ (contexts in reports.context), rendered by
WeasyPrint with a fetcher that loads nothing but the PDF stylesheet (reports.fetcher). Text is
set in IPAexGothic, embedded and subset. A rendered PDF is kept in the "reports" cache under a
key naming the state it shows, so a repeated download and a batch ZIP do not render again.
"""

import re

from django.conf import settings
from django.core.cache import caches
from django.db.models import Count, Max, OuterRef, Q, Subquery, Sum
from django.db.models.functions import Coalesce
from django.template.loader import render_to_string
from django.utils.translation import get_language
from django.utils.translation import gettext as _

from assessments.models import (
    Answer,
    Assessment,
    Body,
    DocumentSettings,
    Guideline,
    ReviewComment,
)
from assessments.reports.context import assessment_report_context, prefecture_summary_context
from assessments.reports.fetcher import STATIC_BASE, StaticOnlyFetcher

# Bump when a template, the stylesheet or the report code changes what a PDF looks like, so
# cached PDFs made by the old code are not served again.
REPORT_VERSION = "2026-12-03.3"  # no heading or caption left alone at a page foot
CACHE_ALIAS = "reports"


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


# Characters a file name cannot hold on Windows or in a ZIP (and white space, kept as one "_").
UNSAFE_IN_FILE_NAMES = re.compile(r'[\\/:*?"<>|\s\x00-\x1f]+')


def _file_part(text: str) -> str:
    return UNSAFE_IN_FILE_NAMES.sub("_", text).strip("._") or "_"


def report_filename(assessment: Assessment, extension: str = "pdf") -> str:
    """A body's document named by code and name: 011002_札幌市_2026_egov-2003.pdf."""
    body = assessment.body
    return (
        f"{body.code}_{_file_part(body.name)}_{assessment.fiscal_year}_"
        f"{assessment.guideline.code}.{extension}"
    )


def summary_filename(prefecture: Body, fiscal_year: int, guideline: Guideline) -> str:
    """010006_北海道_2026_egov-2003_集計報告書.pdf"""
    label = _("集計報告書")
    return (
        f"{prefecture.code}_{_file_part(prefecture.name)}_{fiscal_year}_{guideline.code}_"
        f"{_file_part(label)}.pdf"
    )


def batch_filename(prefecture: Body, fiscal_year: int, guideline: Guideline) -> str:
    """010006_北海道_2026_egov-2003_報告書一式.zip"""
    label = _("報告書一式")
    return (
        f"{prefecture.code}_{_file_part(prefecture.name)}_{fiscal_year}_{guideline.code}_"
        f"{_file_part(label)}.zip"
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
            documents=Subquery(
                DocumentSettings.objects.filter(body=OuterRef("body")).values("updated_at")[:1]
            ),
        )
        .values_list("version", "created_at", "last_answer", "comment_count", "documents")
        .get()
    )
    version, created, last_answer, comment_count, documents = state
    stamp = "-".join(
        f"{moment.timestamp() if moment else 0:.6f}" for moment in (created, last_answer, documents)
    )
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


def summary_cache_key(prefecture: Body, guideline: Guideline, fiscal_year: int) -> str:
    """The state a summary shows: every assessment of the year (the national average counts
    them all), their versions, their answers' latest update and the prefecture's document
    settings, in two queries."""
    scope = {"guideline": guideline, "fiscal_year": fiscal_year}
    state = Assessment.objects.filter(**scope).aggregate(
        n=Count("pk"), versions=Coalesce(Sum("version"), 0), updated=Max("updated_at")
    )
    state |= Answer.objects.filter(
        assessment__guideline=guideline, assessment__fiscal_year=fiscal_year
    ).aggregate(
        answered=Max("updated_at"),
        documents=Max(
            Subquery(DocumentSettings.objects.filter(body=prefecture).values("updated_at")[:1])
        ),
    )
    stamps = "-".join(
        f"{state[k].timestamp():.6f}" if state[k] else "0"
        for k in ("updated", "answered", "documents")
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
