"""Assessment PDFs are rendered by the worker ("reports" queue): the download serves the cache or
a progress page; a failure is recorded, shown, and retried only when the owner asks.

The renders run by calling the task's function (what the worker does), so no test waits for a
worker; tests/test_recovery.py runs a real db_worker process.
"""

import time
from unittest import mock

import pytest
from django.core.cache import caches
from django.urls import reverse
from django_tasks_db.models import DBTaskResult

from assessments.models import Answer, Assessment, ReportRender
from assessments.reports import pdf
from assessments.reports import render as pdf_render
from assessments.workflow import assessment_transition
from tests.support import run_pending_renders

FAKE_PDF = b"%PDF-1.7 rendered in a test\n%%EOF"


@pytest.fixture
def fake_renderer():
    """Rendering stands in for WeasyPrint (the real one is tested in test_reports.py)."""
    with mock.patch.object(pdf, "render_assessment_pdf", return_value=FAKE_PDF) as renderer:
        yield renderer


@pytest.fixture
def sapporo(make_assessment):
    return make_assessment("011002", 2026)


def url_of(assessment: Assessment) -> str:
    return reverse("report_pdf", kwargs=assessment.url_kwargs)


def test_a_miss_shows_the_progress_page_and_queues_one_render_on_commit(
    client, sapporo_staff, sapporo, fake_renderer, django_capture_on_commit_callbacks
):
    client.force_login(sapporo_staff)
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        response = client.get(url_of(sapporo))
    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]
    page = response.content.decode()
    assert "報告書（PDF）を作成しています" in page
    # Without JavaScript the page reloads itself; with it, report.js polls the same URL.
    assert '<noscript><meta http-equiv="refresh" content="5"></noscript>' in page
    assert 'data-poll="1"' in page and "js/report.js" in page
    assert len(callbacks) == 1
    render = ReportRender.objects.get()
    assert (render.status, render.language, render.requested_by) == ("queued", "ja", sapporo_staff)
    task = DBTaskResult.objects.get()
    assert (task.queue_name, task.args_kwargs["args"]) == ("reports", [render.pk])
    assert not fake_renderer.called  # nothing rendered in the request

    # Asking again while it waits queues nothing more.
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        client.get(url_of(sapporo))
    assert callbacks == [] and DBTaskResult.objects.count() == 1


def test_the_page_script_follows_the_state_and_the_url_then_serves_the_pdf(
    client, hokkaido_reviewer, sapporo, fake_renderer
):
    client.force_login(hokkaido_reviewer)
    json = {"HTTP_ACCEPT": "application/json"}
    state = client.get(url_of(sapporo), **json).json()
    assert (state["status"], state["ready"], state["failed"]) == ("queued", False, False)
    assert state["announcement"] == "報告書（PDF）: 待機中"

    assert run_pending_renders() == 1
    render = ReportRender.objects.get()
    assert (render.status, render.attempts, render.error) == ("done", 1, "")
    assert render.started_at <= render.finished_at
    state = client.get(url_of(sapporo), **json).json()
    assert (state["status"], state["ready"]) == ("done", True)
    response = client.get(url_of(sapporo))
    assert (response["Content-Type"], response.content) == ("application/pdf", FAKE_PDF)
    assert fake_renderer.call_count == 1


def test_a_failed_render_is_shown_and_not_retried_on_each_click(
    client,
    sapporo_staff,
    hokkaido_reviewer,
    sapporo,
    fake_renderer,
    django_capture_on_commit_callbacks,
):
    fake_renderer.side_effect = ValueError("フォントが見つかりません")
    client.force_login(hokkaido_reviewer)
    client.get(url_of(sapporo))
    run_pending_renders()
    render = ReportRender.objects.get()
    assert (render.status, render.error) == ("failed", "ValueError: フォントが見つかりません")

    # The reviewer sees the failure and its message, but no retry button (not the owner).
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        page = client.get(url_of(sapporo)).content.decode()
    assert callbacks == []
    assert "報告書（PDF）を作成できませんでした" in page and "フォントが見つかりません" in page
    assert "もう一度作成する" not in page and "再作成は団体の担当者が行えます" in page
    assert "<noscript>" not in page  # a finished state does not reload itself
    retry = reverse("report_pdf_retry", kwargs=sapporo.url_kwargs)
    assert client.post(retry).status_code == 403
    assert fake_renderer.call_count == 1
    render.refresh_from_db()
    assert render.status == "failed"

    # The owner (staff of 札幌市) retries: queued again, rendered by the worker.
    client.force_login(sapporo_staff)
    page = client.get(url_of(sapporo)).content.decode()
    assert "もう一度作成する" in page
    fake_renderer.side_effect = None
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        response = client.post(retry)
    assert response.status_code == 302 and response.url == url_of(sapporo)
    assert len(callbacks) == 1
    render.refresh_from_db()
    assert (render.status, render.error) == ("queued", "")
    run_pending_renders()
    render.refresh_from_db()
    assert (render.status, render.attempts) == ("done", 2)
    assert client.get(url_of(sapporo)).content == FAKE_PDF
    # Retrying what did not fail does nothing.
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        client.post(retry)
    assert callbacks == []


def test_the_render_has_a_time_limit(settings, sapporo, fake_renderer):
    settings.REPORT_RENDER_TIME_LIMIT = 1
    fake_renderer.side_effect = lambda assessment: time.sleep(5)
    render = pdf_render.cached_pdf_or_render(sapporo, user=None)
    started = time.monotonic()
    pdf_render.run_report_render(render.pk)
    assert time.monotonic() - started < 3
    render.refresh_from_db()
    assert (render.status, render.error) == ("failed", "RenderTimeout: over 1 s")


def test_the_render_has_a_memory_limit(settings, sapporo, fake_renderer):
    import resource

    settings.REPORT_RENDER_MEMORY_MB = 64
    before = resource.getrlimit(resource.RLIMIT_AS)
    fake_renderer.side_effect = lambda assessment: bytearray(512 * 1024 * 1024)
    render = pdf_render.cached_pdf_or_render(sapporo, user=None)
    pdf_render.run_report_render(render.pk)
    render.refresh_from_db()
    assert (render.status, render.error.split(":")[0]) == ("failed", "MemoryError")
    assert resource.getrlimit(resource.RLIMIT_AS) == before  # the limit is lifted after


def test_a_render_whose_file_left_the_cache_is_queued_once_again(
    client, sapporo_staff, sapporo, fake_renderer
):
    client.force_login(sapporo_staff)
    client.get(url_of(sapporo))
    run_pending_renders()
    caches[pdf.CACHE_ALIAS].delete(pdf.report_cache_key(sapporo))  # culled
    assert b"<html" in client.get(url_of(sapporo)).content
    assert ReportRender.objects.get().status == "queued"
    assert run_pending_renders() == 1
    assert client.get(url_of(sapporo)).content == FAKE_PDF


def test_a_changed_assessment_gets_its_own_render(client, sapporo_staff, sapporo, fake_renderer):
    client.force_login(sapporo_staff)
    client.get(url_of(sapporo))
    run_pending_renders()
    Assessment.objects.filter(pk=sapporo.pk).update(version=sapporo.version + 5)
    client.get(url_of(sapporo))
    assert list(ReportRender.objects.values_list("status", flat=True)) == ["queued", "done"]


def test_submit_and_approve_render_the_pdf_ahead_in_the_worker(
    settings,
    sapporo,
    scored_2003,
    sapporo_staff,
    hokkaido_reviewer,
    fake_renderer,
    django_capture_on_commit_callbacks,
):
    settings.REPORT_PRERENDER = True
    Answer.objects.bulk_create(Answer(assessment=sapporo, measure=m, level=2) for m in scored_2003)
    with django_capture_on_commit_callbacks(execute=True):
        assessment_transition(assessment=sapporo, user=sapporo_staff, action="submit")
    prerender = DBTaskResult.objects.filter(task_path__endswith="prerender_assessment_report")
    assert list(prerender.values_list("queue_name", "args_kwargs")) == [
        ("reports", {"args": [sapporo.pk, "ja"], "kwargs": {}})
    ]
    # What the worker then does: the PDF of the submitted state is in the cache.
    pdf_render.report_prerender(assessment_id=sapporo.pk, language="ja")
    sapporo.refresh_from_db()
    assert caches[pdf.CACHE_ALIAS].get(pdf.report_cache_key(sapporo)) == FAKE_PDF
    assert ReportRender.objects.get().status == "done"

    with django_capture_on_commit_callbacks(execute=True):
        assessment_transition(assessment=sapporo, user=hokkaido_reviewer, action="approve")
    assert prerender.count() == 2
    # Returning does not render ahead (the staff change it next).
    with django_capture_on_commit_callbacks(execute=True):
        assessment_transition(
            assessment=sapporo, user=hokkaido_reviewer, action="reopen", comment="再確認"
        )
    assert prerender.count() == 2


def test_tasks_go_to_their_queues(settings):
    from assessments import tasks

    assert tasks.render_report_batch.queue_name == "reports"
    assert tasks.render_assessment_report.queue_name == "reports"
    assert tasks.deliver_mail.queue_name == "mail"
    assert tasks.notify_transition.queue_name == "mail"
    assert set(settings.TASKS["default"]["QUEUES"]) == {"default", "reports", "mail"}
