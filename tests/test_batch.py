"""Batch rendering: the render_reports command (processes, resume, time limit) and the web job."""

import io
import time
import zipfile

import pytest
from django.core.management import call_command
from django.urls import reverse

from assessments.models import Assessment, ReportBatch
from assessments.reports import batch
from assessments.reports import pdf as reports
from tests.test_reports import fill, pdf_text, report_cache  # noqa: F401 (autouse fixture)


@pytest.fixture
def hokkaido_assessments(make_assessment, scored_2003):
    """Three 北海道 bodies and one 青森県 body with FY2026 assessments."""
    made = []
    for code in ("011002", "012025", "010006", "022012"):
        assessment = make_assessment(code, 2026, status=Assessment.Status.SUBMITTED)
        fill(assessment, scored_2003[:6], with_text=False)
        made.append(assessment)
    return made


def test_render_reports_command_renders_a_prefecture_and_resumes(hokkaido_assessments, tmp_path):
    out = tmp_path / "pdf"
    stderr, stdout = io.StringIO(), io.StringIO()
    call_command(
        "render_reports",
        "--prefecture", "01", "--fiscal-year", "2026", "--out", str(out), "--jobs", "1",
        stdout=stdout, stderr=stderr,
    )  # fmt: skip
    names = sorted(p.name for p in out.iterdir())
    assert names == [
        "010006_北海道_2026_egov-2003.pdf",
        "011002_札幌市_2026_egov-2003.pdf",
        "012025_函館市_2026_egov-2003.pdf",
    ]
    assert "rendered 3, skipped 0" in stdout.getvalue()
    assert "[##############################] 3/3" in stderr.getvalue()
    assert "函館市" in pdf_text((out / "012025_函館市_2026_egov-2003.pdf").read_bytes())
    # An interrupted write (truncated file) is rendered again; complete files are skipped.
    broken = out / "011002_札幌市_2026_egov-2003.pdf"
    broken.write_bytes(broken.read_bytes()[:500])
    stdout = io.StringIO()
    call_command(
        "render_reports", "--prefecture", "01", "--fiscal-year", "2026", "--out", str(out),
        "--jobs", "1", "--no-progress", stdout=stdout,
    )  # fmt: skip
    assert "rendered 1, skipped 2" in stdout.getvalue()
    assert batch.is_complete(broken)
    assert not list(out.glob(".*.part"))


@pytest.mark.django_db(transaction=True)
def test_render_reports_in_two_processes(reference_data, hokkaido_assessments, tmp_path):
    """Worker processes read the database themselves, so the data must be committed."""
    out = tmp_path / "pdf"
    stdout = io.StringIO()
    call_command(
        "render_reports", "--all", "--fiscal-year", "2026", "--out", str(out), "--jobs", "2",
        "--no-progress", stdout=stdout,
    )  # fmt: skip
    assert "rendered 4, skipped 0 (already complete), failed 0" in stdout.getvalue()
    assert all(batch.is_complete(p) for p in out.iterdir())
    assert "青森県" in pdf_text((out / "022012_青森市_2026_egov-2003.pdf").read_bytes())


@pytest.fixture
def slow_hakodate(monkeypatch):
    """A stand-in renderer: instant, except 函館市's report, which takes 5 s (a pathological one).

    Tests of the time limit use it so that they do not depend on this machine's speed.
    """

    def render(assessment):
        if assessment.body.code == "012025":
            time.sleep(5)
        return b"%PDF-1.7\n" + b"0" * 200 + b"\n%%EOF\n"

    monkeypatch.setattr(reports, "render_assessment_pdf", render)


def test_a_report_over_the_time_limit_fails_alone(hokkaido_assessments, tmp_path, slow_hakodate):
    items = batch.select_assessments(fiscal_year=2026, guideline_code="egov-2003", prefecture="01")
    outcome = batch.render_many(items, tmp_path, jobs=1, seconds=1)
    assert [name for name, _error in outcome.failed] == ["012025_函館市_2026_egov-2003.pdf"]
    assert "RenderTimeout" in outcome.failed[0][1]
    assert sorted(outcome.rendered) == [
        "010006_北海道_2026_egov-2003.pdf",
        "011002_札幌市_2026_egov-2003.pdf",
    ]
    assert not (tmp_path / "012025_函館市_2026_egov-2003.pdf").exists()
    assert not list(tmp_path.glob(".*.part"))


def test_command_refuses_a_bad_prefecture(db, tmp_path):
    from django.core.management import CommandError

    with pytest.raises(CommandError, match="01〜47"):
        call_command(
            "render_reports", "--prefecture", "48", "--fiscal-year", "2026", "--out", str(tmp_path)
        )


# --- Web job -----------------------------------------------------------------------------------


@pytest.fixture
def batch_dir(settings, tmp_path):
    settings.REPORT_BATCH_DIR = tmp_path / "batches"
    settings.STORAGES = settings.STORAGES | {
        "reports": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": str(tmp_path / "zips"), "allow_overwrite": True},
        }
    }
    return settings.REPORT_BATCH_DIR


def test_reviewer_starts_a_batch_follows_progress_and_downloads_the_zip(
    client, hokkaido_reviewer, hokkaido_assessments, batch_dir, django_capture_on_commit_callbacks
):
    client.force_login(hokkaido_reviewer)
    url = reverse(
        "report_batches",
        kwargs={"prefecture_code": "010006", "fiscal_year": 2026, "guideline_code": "egov-2003"},
    )
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = client.post(url)
    assert len(callbacks) == 1, "the job is enqueued only when the transaction commits"
    job = ReportBatch.objects.get()
    assert response.status_code == 302
    assert response.url == reverse("report_batch_detail", kwargs={"batch_id": job.public_id})
    assert (job.status, job.total, job.done) == ("queued", 3, 0)  # 北海道 and 2 municipalities
    page = client.get(response.url).content.decode()
    assert "待機中" in page and "0 / 3" in page and "reports.zip" not in page
    assert 'data-poll="' in page and "js/batch.js" in page  # the page follows the job itself
    state = client.get(response.url, headers={"Accept": "application/json"}).json()
    assert (state["status"], state["finished"]) == ("queued", False)
    assert "0 / 3" in state["html"] and "<html" not in state["html"]

    batch.run_report_batch(job.pk)  # what the worker does

    job.refresh_from_db()
    assert (job.status, job.done, job.failed) == ("done", 3, 0)
    page = client.get(response.url).content.decode()
    assert "完了" in page and "3 / 3（100%）" in page
    assert "data-poll" not in page and "js/batch.js" not in page  # finished: nothing to follow
    state = client.get(response.url, headers={"Accept": "application/json"}).json()
    assert state["finished"] and "010006_北海道_2026_egov-2003_報告書一式.zip" in state["html"]
    response = client.get(reverse("report_batch_zip", kwargs={"batch_id": job.public_id}))
    assert response.status_code == 200
    assert "filename*=utf-8''010006_" in response["Content-Disposition"]
    archive = zipfile.ZipFile(io.BytesIO(b"".join(response.streaming_content)))
    assert sorted(archive.namelist()) == [
        "010006_北海道_2026_egov-2003.pdf",
        "010006_北海道_2026_egov-2003_集計報告書.pdf",
        "011002_札幌市_2026_egov-2003.pdf",
        "012025_函館市_2026_egov-2003.pdf",
    ]
    assert "札幌市" in pdf_text(archive.read("011002_札幌市_2026_egov-2003.pdf"))


def test_the_job_runs_through_the_tasks_framework(
    client,
    hokkaido_reviewer,
    hokkaido_assessments,
    batch_dir,
    django_capture_on_commit_callbacks,
    immediate_tasks,
):
    client.force_login(hokkaido_reviewer)
    url = reverse(
        "report_batches",
        kwargs={"prefecture_code": "010006", "fiscal_year": 2026, "guideline_code": "egov-2003"},
    )
    with django_capture_on_commit_callbacks(execute=True):
        client.post(url)
    job = ReportBatch.objects.get()
    assert job.status == "done" and batch.batch_storage().exists(job.zip_name)


def test_zip_is_404_until_done_and_for_another_prefecture(
    client, hokkaido_reviewer, aomori_reviewer, hokkaido_assessments, batch_dir
):
    from assessments.models import Body, Guideline

    job = batch.report_batch_start(
        prefecture=Body.objects.get(code="010006"),
        guideline=Guideline.objects.get(code="egov-2003"),
        fiscal_year=2026,
        user=hokkaido_reviewer,
    )
    zip_url = reverse("report_batch_zip", kwargs={"batch_id": job.public_id})
    client.force_login(hokkaido_reviewer)
    assert client.get(zip_url).status_code == 404  # not finished
    batch.run_report_batch(job.pk)
    assert client.get(zip_url).status_code == 200
    client.force_login(aomori_reviewer)
    assert client.get(zip_url).status_code == 404


def test_batch_pages_query_counts(
    client, hokkaido_reviewer, hokkaido_assessments, batch_dir, django_assert_num_queries
):
    """List: session, user, prefecture, guideline, batches with requesters, session save (3: the
    session's first page stamps its start). Detail: session, user, batch with prefecture and
    guideline, prefecture check (the session is not written)."""
    from assessments.models import Body, Guideline

    client.force_login(hokkaido_reviewer)
    for _ in range(3):
        job = batch.report_batch_start(
            prefecture=Body.objects.get(code="010006"),
            guideline=Guideline.objects.get(code="egov-2003"),
            fiscal_year=2026,
            user=hokkaido_reviewer,
        )
    url = reverse(
        "report_batches",
        kwargs={"prefecture_code": "010006", "fiscal_year": 2026, "guideline_code": "egov-2003"},
    )
    with django_assert_num_queries(8):
        assert client.get(url).status_code == 200
    with django_assert_num_queries(4):
        assert (
            client.get(
                reverse("report_batch_detail", kwargs={"batch_id": job.public_id})
            ).status_code
            == 200
        )


@pytest.fixture
def restored_signals():
    """db_worker installs its own SIGINT/SIGTERM/SIGQUIT handlers: give pytest's back after."""
    import signal

    names = [signal.SIGINT, signal.SIGTERM, signal.SIGQUIT, signal.SIGALRM]
    saved = {number: signal.getsignal(number) for number in names}
    yield
    for number, handler in saved.items():
        signal.signal(number, handler)


def test_db_worker_applies_the_time_limit_to_each_report(
    reference_data,
    hokkaido_assessments,
    hokkaido_reviewer,
    batch_dir,
    slow_hakodate,
    settings,
    restored_signals,
):
    """The real worker command runs the job: a report over the limit fails, the rest are zipped.

    The limit is a SIGALRM, which only the main thread can receive; db_worker (without --reload)
    runs its tasks there.
    """
    settings.REPORT_RENDER_TIME_LIMIT = 1
    prefecture = hokkaido_assessments[2].body
    job = batch.report_batch_start(
        prefecture=prefecture,
        guideline=hokkaido_assessments[0].guideline,
        fiscal_year=2026,
        user=hokkaido_reviewer,
    )  # committed: the task row is in the queue
    call_command(
        "db_worker", "--batch", "--queue-name", "*", "--no-startup-delay", "--verbosity", "0"
    )
    job.refresh_from_db()
    assert (job.status, job.done, job.failed) == ("done", 3, 1)
    assert job.error == "012025: RenderTimeout"
    with zipfile.ZipFile(batch.batch_storage().open(job.zip_name)) as archive:
        assert sorted(archive.namelist()) == [
            "010006_北海道_2026_egov-2003.pdf",
            "010006_北海道_2026_egov-2003_集計報告書.pdf",
            "011002_札幌市_2026_egov-2003.pdf",
        ]
