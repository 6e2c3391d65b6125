"""Browser journeys: the questionnaire upload (preview, conflict, apply) and the batch pages."""

import io

import pytest
from openpyxl import load_workbook

from assessments.models import Answer, Assessment, Body, Guideline, Measure
from assessments.questionnaire import build, layout
from tests.support import assert_accessible, log_in, make_user

pytestmark = pytest.mark.browser


def make_sapporo_assessment() -> Assessment:
    assessment = Assessment.objects.create(
        body=Body.objects.get(code="011002"),
        guideline=Guideline.objects.get(code="egov-2003"),
        fiscal_year=2026,
        status=Assessment.Status.IN_PROGRESS,
    )
    measures = Measure.objects.filter(guideline=assessment.guideline, is_scored=True)
    Answer.objects.bulk_create(
        Answer(assessment=assessment, measure=m, level=1) for m in measures.order_by("order")[:3]
    )
    return assessment


def test_staff_upload_a_filled_questionnaire_preview_and_apply(page, tmp_path):
    make_user("sapporo-staff", "body_staff", "011002")
    assessment = make_sapporo_assessment()
    data = build.build_questionnaire(assessment)
    workbook = load_workbook(io.BytesIO(data))
    workbook[layout.SHEET][f"E{layout.FIRST_ROW}"] = "3 全庁的に運用"
    path = tmp_path / "filled.xlsx"
    workbook.save(path)

    log_in(page, "sapporo-staff")
    page.goto(f"{assessment.get_absolute_url()}questionnaire/upload/")
    assert_accessible(page)
    page.get_by_label("記入した調査票（.xlsx）").set_input_files(str(path))
    page.get_by_role("button", name="変更点を確認する").click()
    page.wait_for_selector("#preview")
    assert "3 全庁的に運用" in page.locator("#preview").inner_text()
    assert_accessible(page)
    page.get_by_role("button", name="この内容で反映する").click()
    page.wait_for_url(f"**{assessment.get_absolute_url()}")
    assert "1 項目の回答を反映しました" in page.content()
    first = Answer.objects.filter(assessment=assessment).order_by("measure__order").first()
    assert first.level == 3


def test_upload_errors_are_announced_and_accessible(page, tmp_path):
    make_user("sapporo-staff", "body_staff", "011002")
    assessment = make_sapporo_assessment()
    path = tmp_path / "other.xlsx"
    path.write_bytes(b"not an xlsx")
    log_in(page, "sapporo-staff")
    page.goto(f"{assessment.get_absolute_url()}questionnaire/upload/")
    page.get_by_label("記入した調査票（.xlsx）").set_input_files(str(path))
    page.get_by_role("button", name="変更点を確認する").click()
    alert = page.get_by_role("alert")
    assert "何も変更していません" in alert.inner_text()
    assert_accessible(page)


def test_reviewer_batch_pages_are_accessible(page):
    make_user("hokkaido-reviewer", "prefecture_reviewer", "010006")
    log_in(page, "hokkaido-reviewer")
    page.goto("/prefectures/010006/2026/egov-2003/report-batches/")
    assert_accessible(page)
    page.get_by_role("button", name="一括作成を開始").click()
    page.wait_for_url("**/report-batches/*-*/")
    assert "待機中" in page.content()
    assert_accessible(page)
