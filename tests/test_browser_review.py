"""The review journey in a real browser, every page the reviewer sees checked with axe-core.

The staff's side (fixing an answer and resubmitting) goes through the service layer: the
staff's filling screens are built separately, so the test updates the Answer and calls
workflow.assessment_transition(action="submit") as the staff user would through them.
"""

import re

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from assessments.models import Answer, Assessment, AssessmentTransition, Body, Guideline, Measure
from assessments.workflow import assessment_transition
from tests.support import assert_accessible, log_in, make_user

pytestmark = pytest.mark.browser


def submitted_assessment(code: str, levels: int) -> Assessment:
    guideline = Guideline.objects.get(code="egov-2003")
    assessment = Assessment.objects.create(
        body=Body.objects.get(code=code),
        guideline=guideline,
        fiscal_year=2026,
        status=Assessment.Status.SUBMITTED,
        submitted_at=timezone.now(),
    )
    measures = Measure.objects.filter(guideline=guideline, is_scored=True).order_by("order")
    Answer.objects.bulk_create(
        Answer(assessment=assessment, measure=m, level=(i + levels) % 5)
        for i, m in enumerate(measures)
    )
    return assessment


def test_reviewer_returns_with_comments_then_approves_the_resubmission(page):
    make_user("hokkaido-reviewer", "prefecture_reviewer", "010006")
    staff = make_user("sapporo-staff", "body_staff", "011002")
    sapporo = submitted_assessment("011002", 1)
    AssessmentTransition.objects.create(
        assessment=sapporo, from_status="in_progress", to_status="submitted", by=staff
    )
    submitted_assessment("012025", 3)  # 函館市, for the dashboard's averages
    security = Measure.objects.get(guideline__code="egov-2003", ref="II.3.(1)")

    log_in(page, "hokkaido-reviewer")
    page.get_by_role("link", name="審査待ち").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("審査待ち")
    assert_accessible(page)

    page.get_by_role("link", name="札幌市を審査").click()
    expect(page.locator("#assessment-status")).to_have_text("提出済み")
    assert_accessible(page)

    # A per-measure comment marked 要修正.
    page.locator(f"#comment-{security.pk}-body").fill(
        "監査の記録を根拠資料として添付してください。"
    )
    page.locator(f"#comment-{security.pk}-needs_fix").check()
    page.get_by_role("button", name="II.3.(1) にコメント").click()
    expect(page.locator(f"#m-{security.pk}-comment-status")).to_have_text(
        "II.3.(1) にコメントを追加しました。"
    )
    expect(
        page.locator(f"#m-{security.pk}-comments").get_by_text(
            "監査の記録を根拠資料として添付してください。"
        )
    ).to_be_visible()
    assert_accessible(page)

    # Returning without a reason is refused, with the message next to the field.
    page.get_by_role("button", name="差し戻す").click()
    expect(page.get_by_text("差戻しの理由を入力してください。").first).to_be_visible()
    assert_accessible(page)
    page.get_by_label("差戻しの理由").fill("II.3.(1) の根拠資料を添付のうえ再提出してください。")
    page.get_by_role("button", name="差し戻す").click()
    expect(page.locator("#assessment-status")).to_have_text("差戻し")
    expect(
        page.get_by_role("cell", name="II.3.(1) の根拠資料を添付のうえ再提出してください。")
    ).to_be_visible()
    assert_accessible(page)
    sapporo.refresh_from_db()
    assert sapporo.status == "returned"

    # The staff fix the answer and resubmit (service layer; see the module docstring).
    Answer.objects.filter(assessment=sapporo, measure=security).update(
        level=4, evidence_url="https://example.jp/audit-2026.pdf", updated_by=staff
    )
    assessment_transition(assessment=sapporo, user=staff, action="submit")

    page.reload()
    expect(page.locator("#assessment-status")).to_have_text("提出済み")
    expect(page.get_by_text("対応済み")).to_be_visible()
    expect(page.get_by_text("https://example.jp/audit-2026.pdf")).to_be_visible()
    page.get_by_role("button", name="承認する").click()
    expect(page.locator("#assessment-status")).to_have_text("承認済み")
    expect(page.get_by_role("button", name="承認する")).to_have_count(0)
    assert_accessible(page)
    sapporo.refresh_from_db()
    assert sapporo.status == "approved"
    assert list(sapporo.transitions.values_list("to_status", flat=True)) == [
        "submitted",
        "returned",
        "submitted",
        "approved",
    ]

    # The dashboard and its views.
    page.get_by_role("link", name="ダッシュボード").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(re.compile("^ダッシュボード"))
    expect(page.get_by_role("row", name="札幌市")).not_to_have_count(0)
    assert_accessible(page)
    page.get_by_role("link", name="ヒートマップ").click()
    expect(page.locator("svg[role=img]")).to_have_count(1)
    assert_accessible(page)
    page.get_by_role("link", name="レベルの分布").click()
    expect(page.get_by_role("table")).to_have_count(34)  # one per scored measure
    assert_accessible(page)
    page.get_by_role("link", name="一覧").click()
    page.get_by_role("link", name="札幌市と平均の比較").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(re.compile("^平均との比較"))
    expect(page.locator("svg[role=img]")).to_have_count(2)
    assert_accessible(page)


def test_two_comments_typed_one_sent_both_kept(page):
    """Sending one measure's comment reloads nothing: the other typed comment stays."""
    make_user("hokkaido-reviewer", "prefecture_reviewer", "010006")
    sapporo = submitted_assessment("011002", 1)
    first, second = Measure.objects.filter(
        guideline__code="egov-2003", ref__in=["II.3.(1)", "II.3.(2)"]
    ).order_by("order")
    log_in(page, "hokkaido-reviewer")
    page.goto(f"{sapporo.get_absolute_url()}review/")
    page.locator(f"#comment-{first.pk}-body").fill("一つ目のコメント")
    page.locator(f"#comment-{second.pk}-body").fill("二つ目はまだ送らない")
    page.get_by_label("差戻しの理由").fill("書きかけの差戻し理由")
    page.get_by_role("button", name=f"{first.ref} にコメント").click()
    expect(page.locator(f"#m-{first.pk}-comments")).to_contain_text("一つ目のコメント")
    expect(page.locator(f"#comment-{first.pk}-body")).to_have_value("")
    expect(page.locator(f"#comment-{second.pk}-body")).to_have_value("二つ目はまだ送らない")
    expect(page.get_by_label("差戻しの理由")).to_have_value("書きかけの差戻し理由")
    expect(page.locator("#comment-status")).to_have_text(f"{first.ref} にコメントを追加しました。")
    assert_accessible(page)
    assert list(sapporo.review_comments.values_list("body", flat=True)) == ["一つ目のコメント"]
    # An empty comment is refused beside its field, and nothing else is touched.
    page.get_by_role("button", name=f"{first.ref} にコメント").click()
    expect(page.locator(f"#comment-{first.pk}-body-comment-error")).to_have_text(
        "コメントを入力してください。"
    )
    expect(page.locator(f"#comment-{second.pk}-body")).to_have_value("二つ目はまだ送らない")
    assert_accessible(page)


def test_national_administrator_opens_a_round_and_compares_prefectures(page):
    make_user("national-admin", "national_admin", None)
    submitted_assessment("010006", 2)  # 北海道 itself, waiting for the national review
    log_in(page, "national-admin")
    page.goto("/rounds/")
    assert_accessible(page)
    page.get_by_label("年度（西暦）").fill("2027")
    page.get_by_label("提出期限").fill("2027-09-30")
    page.get_by_label("対象").select_option("prefectures")
    page.get_by_role("button", name="調査回を開始").click()
    expect(page.get_by_text("新規 47 件")).to_be_visible()
    expect(page.get_by_role("row", name="北海道")).to_be_visible()
    assert_accessible(page)
    assert Assessment.objects.filter(fiscal_year=2027).count() == 47

    page.get_by_role("link", name="審査待ち").click()
    expect(page.get_by_role("link", name="北海道を審査")).to_be_visible()
    assert_accessible(page)
    page.get_by_role("link", name="ダッシュボード").click()
    page.get_by_role("link", name="都道府県・区分・年度の比較").click()
    expect(page.locator("#averages-prefectures")).to_be_visible()
    assert_accessible(page)
