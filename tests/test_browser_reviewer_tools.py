"""The pages issue 10 added around a decision, in a real browser, each checked with axe-core:
reopening an approved assessment, confirming carried-over answers before submitting, the
reviewer's comparison of its prefecture with last year and the nation, and the batch page that
follows its job by itself.
"""

import re

import pytest
from django.core.files.base import ContentFile
from django.utils import timezone
from playwright.sync_api import expect

from assessments import answers
from assessments.models import Answer, Assessment, Body, Guideline, Measure, ReportBatch
from assessments.reports import batch
from tests.support import assert_accessible, log_in, make_user

pytestmark = pytest.mark.browser


def result(code: str, year: int, status: str, levels: int) -> Assessment:
    guideline = Guideline.objects.get(code="egov-2003")
    assessment = Assessment.objects.create(
        body=Body.objects.get(code=code),
        guideline=guideline,
        fiscal_year=year,
        status=status,
        submitted_at=timezone.now(),
        approved_at=timezone.now() if status == "approved" else None,
    )
    measures = Measure.objects.filter(guideline=guideline, is_scored=True).order_by("order")
    Answer.objects.bulk_create(
        Answer(assessment=assessment, measure=m, level=(i + levels) % 5)
        for i, m in enumerate(measures)
    )
    return assessment


def test_reviewer_reopens_compares_and_follows_a_batch(page, settings, tmp_path):
    settings.REPORT_BATCH_DIR = tmp_path / "batches"
    settings.STORAGES = settings.STORAGES | {
        "reports": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": str(tmp_path / "zips")},
        }
    }
    make_user("hokkaido-reviewer", "prefecture_reviewer", "010006")
    sapporo = result("011002", 2026, "approved", 2)
    result("011002", 2025, "approved", 1)
    result("012025", 2026, "submitted", 3)  # 函館市: this year only

    log_in(page, "hokkaido-reviewer")
    page.goto(f"{sapporo.get_absolute_url()}review/")
    expect(page.get_by_role("heading", name="承認の取消し（再開）")).to_be_visible()
    assert_accessible(page)
    page.get_by_role("button", name="差戻しに戻す").click()  # no reason: refused beside the field
    expect(page.get_by_text("再開の理由を入力してください。")).to_be_visible()
    assert_accessible(page)
    page.get_by_label("再開の理由").fill("II.3.(1) の根拠資料が前年度のものでした。")
    page.get_by_role("button", name="差戻しに戻す").click()
    expect(page.locator("#assessment-status")).to_have_text("差戻し")
    assert_accessible(page)
    sapporo.refresh_from_db()
    assert sapporo.status == "returned"

    # The prefecture's documents are one click from the dashboard.
    page.get_by_role("link", name="ダッシュボード").click()
    expect(page.get_by_role("link", name="集計報告書（PDF）")).to_be_visible()
    page.get_by_role("link", name="区分・年度の比較").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("北海道の区分・年度の比較")
    expect(page.get_by_role("row", name=re.compile("全国"))).to_be_visible()
    hakodate = page.locator("#body-changes").get_by_role("row", name=re.compile("函館市"))
    expect(hakodate).to_contain_text("結果なし")  # no FY2025 result to compare with
    assert_accessible(page)

    page.get_by_role("link", name="ダッシュボード").click()
    page.get_by_role("link", name="管内全団体の報告書を一括作成（ZIP）").click()
    assert_accessible(page)
    page.get_by_role("button", name="一括作成を開始").click()
    expect(page.locator("#batch-status")).to_have_text("待機中")
    assert_accessible(page)
    job = ReportBatch.objects.get()
    # What the worker records as it goes: the page shows it without being reloaded.
    ReportBatch.objects.filter(pk=job.pk).update(status="running", done=1)
    expect(page.locator("#batch-status")).to_have_text("作成中", timeout=20_000)
    expect(page.locator("#batch-state")).to_contain_text(f"1 / {job.total}")
    stored = batch.batch_storage().save(
        batch.batch_zip_name(job),
        ContentFile(b"PK\x05\x06" + b"\0" * 18),  # an empty ZIP
    )
    ReportBatch.objects.filter(pk=job.pk).update(
        status="done", done=job.total, zip_name=stored, finished_at=timezone.now()
    )
    download = page.get_by_role("link", name=re.compile("ZIPファイルをダウンロード"))
    expect(download).to_be_visible(timeout=30_000)
    expect(download).to_contain_text("010006_北海道_2026_egov-2003_報告書一式.zip")
    expect(page.locator("#batch-announce")).to_contain_text("完了")
    assert_accessible(page)


def test_carried_over_answers_are_confirmed_before_submitting(page):
    staff = make_user("sapporo-staff", "body_staff", "011002")
    result("011002", 2025, "approved", 2)
    assessment = answers.assessment_start(
        body=Body.objects.get(code="011002"),
        guideline=Guideline.objects.get(code="egov-2003"),
        fiscal_year=2026,
        user=staff,
        prefill="previous_year",
    )
    log_in(page, "sapporo-staff")
    page.goto(f"{assessment.get_absolute_url()}submit/")
    expect(page.locator("#unconfirmed-heading")).to_contain_text("引継ぎ（未確認）の項目が")
    assert_accessible(page)
    page.locator(".unconfirmed-measures a").first.click()
    confirm_section = page.get_by_role("button", name=re.compile("この章の引継ぎ回答"))
    expect(confirm_section).to_be_visible()
    assert_accessible(page)
    confirm_section.click()
    expect(page.get_by_text(re.compile("確認済みにしました"))).to_be_visible()
    assert_accessible(page)
    page.goto(f"{assessment.get_absolute_url()}submit/")
    remaining = Answer.objects.filter(assessment=assessment).exclude(carried_over_from="")
    listed = page.locator(".unconfirmed-measures li")
    expect(listed).to_have_count(remaining.count())
