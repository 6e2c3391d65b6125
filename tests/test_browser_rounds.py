"""A survey round from the national administrator's side in a real browser (issue 11): open it,
watch progress, remind the late, accept a prefecture's sign-off, close; and the reviewer's
sign-off. Every page checked with axe-core.
"""

import datetime
import re

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from assessments.models import Assessment, Body, OutboundMail, PrefectureSignOff, Reminder
from tests.support import BROWSER_CONTEXT, assert_accessible, log_in, make_user

pytestmark = pytest.mark.browser


def test_national_administrator_runs_a_round_to_its_close(page):
    make_user("national-admin", "national_admin", None)
    make_user("hokkaido-reviewer", "prefecture_reviewer", "010006")
    make_user("sapporo-staff", "body_staff", "011002")
    log_in(page, "national-admin")
    page.goto("/rounds/")
    page.get_by_label("年度（西暦）").fill("2026")
    yesterday = timezone.localdate() - datetime.timedelta(days=1)
    page.get_by_label("提出期限").fill(yesterday.isoformat())
    page.get_by_label("対象").select_option("prefectures")
    page.get_by_role("button", name="調査回を開始").click()
    expect(page.get_by_text("新規 47 件")).to_be_visible()
    expect(page.locator("#round-progress")).to_contain_text("北海道")
    assert_accessible(page)

    # The 47 prefectures are all late; Hokkaido's count opens its follow-up list.
    page.get_by_role("link", name=re.compile("期限超過の団体（47）")).click()
    expect(page.locator("#follow-up-count")).to_have_text("47 団体")
    assert_accessible(page)
    page.goto(page.url.split("?")[0] + "?prefecture=010006&status=not_started")
    expect(page.locator("#follow-up tbody tr")).to_have_count(1)
    # 札幌市 is not a prefecture: the list holds 北海道 itself. Add 札幌市 to the round as late.
    hokkaido = Assessment.objects.get(body__code="010006", fiscal_year=2026)
    sapporo = Assessment.objects.create(
        body=Body.objects.get(code="011002"),
        guideline=hokkaido.guideline,
        fiscal_year=2026,
        status="in_progress",
        survey_round=hokkaido.survey_round,
    )
    page.reload()
    expect(page.locator("#follow-up tbody tr")).to_have_count(1)
    page.goto(page.url.split("?")[0] + "?prefecture=010006&overdue=on")
    expect(page.locator("#follow-up tbody tr")).to_have_count(2)
    page.get_by_label("札幌市に督促する").check()
    page.get_by_role("button", name="選んだ団体の担当者に今すぐ督促メールを送る").click()
    expect(page.get_by_text("督促メールを 1 通送りました。")).to_be_visible()
    assert_accessible(page)
    assert Reminder.objects.get().recipient.username == "sapporo-staff"
    assert OutboundMail.objects.filter(to="sapporo-staff@example.jp").exists()

    # The reviewer signs off once 札幌市 is approved.
    Assessment.objects.filter(pk=sapporo.pk).update(status="approved", approved_at=timezone.now())
    reviewer = page.context.browser.new_context(
        **BROWSER_CONTEXT, base_url=page.url.split("/rounds/")[0]
    )
    other = reviewer.new_page()
    log_in(other, "hokkaido-reviewer")
    other.get_by_role("link", name="審査待ち").click()
    other.get_by_role("link", name="取りまとめ").first.click()
    expect(other.locator("#sign-off-status")).to_have_text("未")
    assert_accessible(other)
    other.get_by_label("国への連絡事項（任意）").fill("管内すべて確認しました。")
    other.get_by_role("button", name="取りまとめを送る").click()
    expect(other.locator("#sign-off-status")).to_have_text("取りまとめ済み（国の確認待ち）")
    assert_accessible(other)
    reviewer.close()

    # The national administrator accepts it from the progress page, then closes the round.
    page.goto("/rounds/egov-2003/2026/")
    page.get_by_role("link", name=re.compile("取りまとめ済み（国の確認待ち） 北海道")).click()
    expect(page.get_by_text("管内すべて確認しました。")).to_be_visible()
    assert_accessible(page)
    page.get_by_label("受理する").check()
    page.get_by_role("button", name="決定する").click()
    expect(page.locator("#sign-off-status")).to_have_text("受理")
    assert_accessible(page)
    assert PrefectureSignOff.objects.get().status == "accepted"
    sapporo.refresh_from_db()
    assert sapporo.is_locked

    page.get_by_role("link", name="調査回の進捗へ").click()
    page.get_by_role("button", name="締め切る").click()
    expect(page.get_by_text(re.compile("締め切るには理由を入力してください"))).to_be_visible()
    assert_accessible(page)
    page.get_by_label(re.compile("締切の理由")).fill("期限を過ぎたため締め切ります。")
    page.get_by_role("button", name="締め切る").click()
    expect(page.get_by_text("調査回を締め切りました。")).to_be_visible()
    expect(page.get_by_text(re.compile("この調査回のデータは変更できません"))).to_be_visible()
    assert_accessible(page)
