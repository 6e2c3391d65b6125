"""Browser journeys: the PDF progress page starts the download when the worker is done (with
JavaScript by polling, without it by its meta refresh); a failure is shown with a retry button.

The worker's part is done by the test (tests.support.run_pending_renders) while the page waits;
rendering stands in for WeasyPrint (the real one is tested in test_reports.py).
"""

from pathlib import Path
from unittest import mock

import pytest

from assessments.models import Assessment, Body, Guideline
from assessments.reports import pdf
from tests.support import BROWSER_CONTEXT, assert_accessible, log_in, make_user, run_pending_renders

pytestmark = pytest.mark.browser

FAKE_PDF = b"%PDF-1.7 rendered in a test\n%%EOF"
SCREENSHOTS = Path(__file__).resolve().parent.parent / "var" / "screenshots"


@pytest.fixture
def sapporo_assessment(reference_data):
    make_user("sapporo-staff", "body_staff", "011002")
    return Assessment.objects.create(
        body=Body.objects.get(code="011002"),
        guideline=Guideline.objects.get(code="egov-2003"),
        fiscal_year=2026,
        status=Assessment.Status.IN_PROGRESS,
    )


@pytest.fixture
def fake_renderer():
    with mock.patch.object(pdf, "render_assessment_pdf", return_value=FAKE_PDF) as renderer:
        yield renderer


def screenshot(page, name: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=SCREENSHOTS / name, full_page=True)


def test_the_progress_page_starts_the_download_when_the_render_is_done(
    page, sapporo_assessment, fake_renderer
):
    log_in(page, "sapporo-staff")
    page.goto(sapporo_assessment.get_absolute_url())
    page.get_by_role("link", name="報告書（PDF）").click()
    page.wait_for_selector("#render-status")
    assert "報告書（PDF）を作成しています" in page.content()
    assert page.locator("#render-status").inner_text() == "待機中"
    assert_accessible(page)
    screenshot(page, "report-render-progress.png")

    with page.expect_download(timeout=15_000) as download:
        run_pending_renders()  # the worker finishes while the page polls
    assert download.value.suggested_filename == "011002_札幌市_2026_egov-2003.pdf"
    assert Path(download.value.path()).read_bytes() == FAKE_PDF
    page.wait_for_selector("#render-ready")
    assert page.locator("#render-announce").inner_text() == "報告書（PDF）: 完了"
    assert_accessible(page)


def test_without_javascript_the_page_reloads_into_the_download(
    chromium, live_server, sapporo_assessment, fake_renderer
):
    context = chromium.new_context(
        **BROWSER_CONTEXT, base_url=live_server.url, java_script_enabled=False
    )
    try:
        page = context.new_page()
        page.set_default_timeout(15_000)
        log_in(page, "sapporo-staff")
        page.goto(f"{sapporo_assessment.get_absolute_url()}report.pdf")
        assert "報告書（PDF）を作成しています" in page.content()
        with page.expect_download(timeout=15_000) as download:
            run_pending_renders()  # the next meta refresh (5 s) is the download
        assert Path(download.value.path()).read_bytes() == FAKE_PDF
    finally:
        context.close()


def test_a_failed_render_is_shown_with_a_retry_button(page, sapporo_assessment, fake_renderer):
    fake_renderer.side_effect = RuntimeError("レイアウトが終わりません")
    log_in(page, "sapporo-staff")
    page.goto(f"{sapporo_assessment.get_absolute_url()}report.pdf")
    run_pending_renders()
    alert = page.get_by_role("alert")
    alert.wait_for()
    assert "RuntimeError: レイアウトが終わりません" in alert.inner_text()
    assert page.locator("#render-announce").inner_text() == "報告書（PDF）: 失敗"
    assert_accessible(page)
    screenshot(page, "report-render-failed.png")

    fake_renderer.side_effect = None
    page.get_by_role("button", name="もう一度作成する").click()
    page.wait_for_selector("#render-status")
    assert "もう一度開始しました" in page.content()
    with page.expect_download(timeout=15_000):
        run_pending_renders()
