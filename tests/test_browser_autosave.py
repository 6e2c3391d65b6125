"""Autosave that cannot lose text, in Chromium: a session that expires mid-typing, a tab closed
before the save arrived, and an error shown beside the field it concerns.

Persona: staff of 札幌市 (011002) filling their FY assessment of the 2003 guideline.
"""

import pytest
from django.contrib.sessions.models import Session
from playwright.sync_api import expect

from assessments.models import Answer, Assessment, Measure
from tests.support import PASSWORD, assert_accessible, log_in, make_user

pytestmark = pytest.mark.browser

REF = "II.2.(2)"  # the scored measure of II.2 (II.2.(1) frames it, unscored)


def open_section(page):
    make_user("sapporo-staff", "body_staff", "011002")
    log_in(page, "sapporo-staff")
    page.get_by_label("空の状態から始める").check()
    page.get_by_role("button", name="開始する").click()
    page.wait_for_url("**/egov-2003/")
    page.goto(page.url + "sections/II.2/")
    measure = Measure.objects.get(guideline__code="egov-2003", ref=REF)
    assessment = Assessment.objects.get(body__code="011002", guideline__code="egov-2003")
    return measure, assessment


def test_text_typed_after_the_session_expired_survives_a_reload_and_a_login(page):
    measure, assessment = open_section(page)
    page.on("dialog", lambda dialog: dialog.accept())  # the leave-page warning, on reload
    note = page.locator(f"#id_m{measure.order}-note")
    Session.objects.all().delete()  # the idle timeout, server side
    note.click()
    page.keyboard.type("期限切れの後に書いた備考")
    line = page.locator(f"#measure-{measure.order}-status")
    expect(line).to_contain_text("ログインの有効期限が切れた")  # after the debounce, by itself
    expect(line.get_by_role("link", name="新しいタブでログインする")).to_be_visible()
    expect(page.locator("#autosave-status")).to_contain_text("ログインの有効期限が切れた")
    assert_accessible(page)
    assert not Answer.objects.filter(assessment=assessment).exists()

    page.reload()  # the login page, coming back here afterwards
    page.get_by_label("ユーザー名").fill("sapporo-staff")
    page.get_by_label("パスワード").fill(PASSWORD)
    page.get_by_role("button", name="ログイン").click()
    page.wait_for_url("**/sections/II.2/")
    draft = page.locator(".autosave-draft")
    expect(draft).to_contain_text("期限切れの後に書いた備考")
    expect(page.locator("#autosave-drafts")).to_be_visible()
    assert_accessible(page)
    page.get_by_role("button", name=f"復元して保存 ({REF})").click()
    expect(line).to_contain_text("保存しました")
    expect(note).to_have_value("期限切れの後に書いた備考")
    assert (
        Answer.objects.get(assessment=assessment, measure=measure).note
        == "期限切れの後に書いた備考"
    )
    page.reload()
    expect(page.locator(".autosave-draft")).to_have_count(0)  # confirmed: nothing kept


def test_a_tab_closed_before_its_save_offers_the_text_back(page):
    measure, assessment = open_section(page)
    page.route("**/autosave/", lambda route: route.abort())  # the save never arrives
    page.locator(f"#id_m{measure.order}-improvement_plan").click()
    page.keyboard.type("閉じる前に書いた改善計画")
    expect(page.locator(f"#measure-{measure.order}-status")).to_contain_text("通信エラー")
    dialogs = []

    def leave(dialog):
        dialogs.append(dialog.type)
        dialog.accept()

    page.on("dialog", leave)
    page.close(run_before_unload=True)
    reopened = page.context.new_page()
    reopened.goto(f"{assessment.get_absolute_url()}sections/II.2/")
    # The offer appears once the page's script has read the kept draft; on a loaded machine
    # (the other test worker rendering PDFs) that can take longer than expect's 5 s default.
    expect(reopened.locator(".autosave-draft")).to_contain_text(
        "閉じる前に書いた改善計画", timeout=15_000
    )
    assert dialogs == ["beforeunload"]
    assert not Answer.objects.filter(assessment=assessment).exists()
    reopened.get_by_role("button", name=f"破棄 ({REF})").click()
    expect(reopened.locator(".autosave-draft")).to_have_count(0)
    reopened.reload()
    expect(reopened.locator(".autosave-draft")).to_have_count(0)


def test_not_applicable_without_a_reason_shows_the_error_beside_the_field(page):
    measure, assessment = open_section(page)
    page.locator(f"#id_m{measure.order}-level_5").check()  # 該当なし
    reason = page.locator(f"#id_m{measure.order}-not_applicable_reason")
    error = page.locator(f"#id_m{measure.order}-not_applicable_reason-autosave-error")
    expect(error).to_have_text("「該当なし」を選んだときは、その理由を入力してください。")
    expect(reason).to_have_attribute("aria-invalid", "true")
    expect(page.locator(f"#measure-{measure.order}-status")).to_contain_text("保存できませんでした")
    assert_accessible(page)
    reason.fill("県が一括して実施")
    reason.blur()
    expect(error).to_have_count(0)
    expect(page.locator(f"#measure-{measure.order}-status")).to_contain_text("保存しました")
    stored = Answer.objects.get(assessment=assessment, measure=measure)
    assert stored.not_applicable and stored.not_applicable_reason == "県が一括して実施"
