"""Assessment PDFs rendered by the worker, never in a request.

A download asks for the PDF of the assessment's current state: served from the reports cache
when it is there; otherwise a ReportRender records the request (one per state and language) and
the "reports" queue renders it, under the time limit (SIGALRM) and a memory limit (RLIMIT_AS)
of EGOV_REPORT_RENDER_TIME_LIMIT / EGOV_REPORT_RENDER_MEMORY_MB. A failed render stays failed
for that state: it is shown with its message until the owner asks for another attempt.
"""

import contextlib
import os
import resource
import threading
from collections.abc import Iterator

from django.conf import settings
from django.core.cache import caches
from django.db import transaction
from django.db.models import F
from django.utils import timezone, translation

from assessments.models import Assessment, ReportRender, User
from assessments.reports import pdf
from assessments.reports.batch import time_limit
from assessments.reports.pdf import CACHE_ALIAS, report_cache_key
from assessments.tasks import render_assessment_report

Status = ReportRender.Status
MIB = 1024 * 1024


def _address_space_bytes() -> int:
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[0]) * os.sysconf("SC_PAGE_SIZE")


@contextlib.contextmanager
def memory_limit(megabytes: int) -> Iterator[None]:
    """Let the code inside allocate at most `megabytes` more address space (MemoryError after).

    The limit is the process's, so it is only set in the main thread (the worker's), where
    nothing else runs meanwhile; the previous limit is restored after.
    """
    if megabytes <= 0 or threading.current_thread() is not threading.main_thread():
        yield
        return
    try:
        soft, hard = resource.getrlimit(resource.RLIMIT_AS)
        limit = _address_space_bytes() + megabytes * MIB
    except (OSError, ValueError):  # no /proc: no limit rather than no render
        yield
        return
    if hard != resource.RLIM_INFINITY:
        limit = min(limit, hard)
    if soft != resource.RLIM_INFINITY:
        limit = min(limit, soft)
    resource.setrlimit(resource.RLIMIT_AS, (limit, hard))
    try:
        yield
    finally:
        resource.setrlimit(resource.RLIMIT_AS, (soft, hard))


def _language() -> str:
    return (translation.get_language() or settings.LANGUAGE_CODE)[:2]


def _enqueue(render: ReportRender) -> None:
    transaction.on_commit(lambda: render_assessment_report.enqueue(render.pk))


def cached_pdf_or_render(assessment: Assessment, *, user: User | None) -> bytes | ReportRender:
    """The PDF of the assessment's current state from the cache, or the render that makes it.

    The render is created and enqueued on the first request for a state; a finished render whose
    file has left the cache (culled) is enqueued again. A failed one is returned as it is.
    """
    key = report_cache_key(assessment)
    data = caches[CACHE_ALIAS].get(key)
    if data is not None:
        return data
    render, created = ReportRender.objects.get_or_create(
        cache_key=key,
        defaults={"assessment": assessment, "language": _language(), "requested_by": user},
    )
    if created:
        _enqueue(render)
    elif render.status == Status.DONE:
        # Only the request that moves it back to QUEUED enqueues it (two clicks, one render).
        if ReportRender.objects.filter(pk=render.pk, status=Status.DONE).update(
            status=Status.QUEUED, finished_at=None
        ):
            render.status = Status.QUEUED
            _enqueue(render)
    return render


@transaction.atomic
def report_render_retry(*, render: ReportRender) -> bool:
    """Queue a failed render again (the owner's explicit request); False if it had not failed."""
    retried = ReportRender.objects.filter(pk=render.pk, status=Status.FAILED).update(
        status=Status.QUEUED, error="", finished_at=None
    )
    if retried:
        _enqueue(render)
    return bool(retried)


def run_report_render(render_id: int) -> None:
    """Render one queued ReportRender into the cache; record a failure instead of raising it.

    Claiming (QUEUED → RUNNING) is one conditional UPDATE, so a render enqueued twice is
    rendered once.
    """
    claimed = ReportRender.objects.filter(pk=render_id, status=Status.QUEUED).update(
        status=Status.RUNNING, started_at=timezone.now(), attempts=F("attempts") + 1
    )
    if not claimed:
        return
    render = ReportRender.objects.get(pk=render_id)
    try:
        with (
            translation.override(render.language),
            time_limit(settings.REPORT_RENDER_TIME_LIMIT),
            memory_limit(settings.REPORT_RENDER_MEMORY_MB),
        ):
            assessment = Assessment.objects.select_related(
                "body", "body__prefecture", "guideline"
            ).get(pk=render.assessment_id)
            # The state may have moved on since the request: the PDF is stored under the key of
            # what it shows; the page asking for the newer state gets its own render.
            key = report_cache_key(assessment)
            cache = caches[CACHE_ALIAS]
            if cache.get(key) is None:
                cache.set(key, pdf.render_assessment_pdf(assessment), timeout=None)
    except Exception as exc:  # RenderTimeout, MemoryError, a template or font error
        ReportRender.objects.filter(pk=render_id).update(
            status=Status.FAILED,
            error=f"{type(exc).__name__}: {exc}"[:2000],
            finished_at=timezone.now(),
        )
        return
    ReportRender.objects.filter(pk=render_id).update(
        status=Status.DONE, error="", finished_at=timezone.now()
    )


def report_prerender(*, assessment_id: int, language: str) -> None:
    """Render the assessment's current state now (in the worker), unless it is cached already."""
    assessment = Assessment.objects.filter(pk=assessment_id).first()
    if assessment is None:
        return
    with translation.override(language):
        key = report_cache_key(assessment)
        if caches[CACHE_ALIAS].get(key) is not None:
            return
        render, _created = ReportRender.objects.get_or_create(
            cache_key=key, defaults={"assessment": assessment, "language": _language()}
        )
    run_report_render(render.pk)
