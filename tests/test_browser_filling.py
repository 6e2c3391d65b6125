"""札幌市's staff fill a whole 2003 assessment in Chromium: start, autosave, reload, submit.

axe-core checks every page of the journey; one measure is answered with the keyboard alone.
"""

import re

import pytest
from playwright.sync_api import expect

from assessments.models import Answer, Assessment, Measure
from tests.support import assert_accessible, log_in, make_user

pytestmark = pytest.mark.browser


def autosaved(page, action):
    """Run `action`, wait for the autosave it triggers to be answered and for the page to say so.

    The response arrives before the script has read its body and updated the status line, so
    the line is emptied first and the helper waits until the script has written to it again.
    """
    status = page.locator("#autosave-status")
    status.evaluate("element => { element.textContent = ''; }")
    with page.expect_response(lambda r: "/autosave/" in r.url) as response:
        action()
    expect(status).not_to_have_text("")
    return response.value


def tab_to(page, selector: str, limit: int = 80) -> None:
    """Press Tab until the element matching `selector` has the focus (keyboard only)."""
    for _ in range(limit):
        page.keyboard.press("Tab")
        if page.evaluate(f"document.activeElement.matches({selector!r})"):
            return
    raise AssertionError(f"Tab never reached {selector}")


def test_staff_complete_and_submit_a_2003_assessment(page):
    make_user("sapporo-staff", "body_staff", "011002")
    scored = list(
        Measure.objects.filter(guideline__code="egov-2003", is_scored=True).order_by("order")
    )
    assert len(scored) == 34  # II.2.(1) frames II.2 and is not scored
    log_in(page, "sapporo-staff")
    assert_accessible(page)

    # Start this year's assessment, empty.
    page.get_by_label("空の状態から始める").check()
    page.get_by_role("button", name="開始する").click()
    page.wait_for_url("**/assessments/011002/*/egov-2003/")
    assert_accessible(page)
    assessment = Assessment.objects.get(body__code="011002", guideline__code="egov-2003")
    assert assessment.status == "in_progress"

    # First section: the first measure with the keyboard only.
    page.get_by_role("link", name=re.compile("^I.2 ")).first.click()
    page.wait_for_url("**/sections/I.2/")
    assert_accessible(page)
    first = scored[0]
    page.locator("body").focus()
    tab_to(page, f"input[name='m{first.order}-level']")
    autosaved(page, lambda: page.keyboard.press("Space"))  # selects level 0
    autosaved(page, lambda: page.keyboard.press("ArrowDown"))  # level 1
    autosaved(page, lambda: page.keyboard.press("ArrowDown"))  # level 2
    tab_to(page, f"textarea[name='m{first.order}-note']")
    page.keyboard.type("キーボードだけで入力")
    autosaved(page, lambda: page.keyboard.press("Tab"))  # leaving the field saves it
    status = page.locator("#autosave-status")
    expect(status).to_have_text(re.compile(r"保存しました \d\d:\d\d$"))
    stored = Answer.objects.get(assessment=assessment, measure=first)
    assert (stored.level, stored.note) == (2, "キーボードだけで入力")

    # The rest of the section by pointer; the second measure is 該当なし with a reason.
    section_measures = [m for m in scored if m.section_id == first.section_id]
    second = section_measures[1]
    autosaved(page, lambda: page.locator(f"#id_m{second.order}-level_5").check())
    expect(status).to_contain_text("保存できませんでした")  # the reason is still missing
    assert_accessible(page)
    page.locator(f"#id_m{second.order}-not_applicable_reason").fill(
        "住民向け説明は都道府県が一括実施"
    )
    autosaved(page, lambda: page.locator(f"#id_m{second.order}-department").focus())
    for measure in section_measures[2:]:
        autosaved(page, lambda m=measure: page.locator(f"#id_m{m.order}-level_3").check())

    # Reload mid-way: everything typed is there, saved by autosave alone.
    page.reload()
    expect(page.locator(f"#id_m{first.order}-level_2")).to_be_checked()
    assert page.locator(f"#id_m{first.order}-note").input_value() == "キーボードだけで入力"
    expect(page.locator(f"#id_m{second.order}-level_5")).to_be_checked()
    assert (
        "都道府県が一括実施"
        in page.locator(f"#id_m{second.order}-not_applicable_reason").input_value()
    )
    for measure in section_measures[2:]:
        expect(page.locator(f"#id_m{measure.order}-level_3")).to_be_checked()
    assert_accessible(page)

    # The other sections: answer, then "save and go to the next section" (no JS needed for it).
    page.get_by_role("button", name="保存して次の章へ").click()
    page.wait_for_url("**/sections/II.1/")
    remaining = [m for m in scored if m.section_id != first.section_id]
    while True:
        on_page = [m for m in remaining if page.locator(f"#measure-{m.order}").count()]
        assert on_page, page.url
        for measure in on_page:
            autosaved(page, lambda m=measure: page.locator(f"#id_m{m.order}-level_4").check())
        assert_accessible(page)
        remaining = [m for m in remaining if m not in on_page]
        if not remaining:
            break
        current = page.url
        page.get_by_role("button", name="保存して次の章へ").click()
        page.wait_for_url(lambda url, current=current: url != current)

    # The history of the keyboard-answered measure.
    page.goto(
        f"/assessments/011002/{assessment.fiscal_year}/egov-2003/measures/{first.ref}/history/"
    )
    expect(page.get_by_text("キーボードだけで入力")).not_to_have_count(0)
    assert_accessible(page)

    # Submit: nothing missing.
    page.goto(assessment.get_absolute_url())
    assert_accessible(page)
    page.get_by_role("link", name="提出前の確認").click()
    expect(page.get_by_text("すべての項目に回答済みです")).to_be_visible()
    assert_accessible(page)
    page.get_by_role("button", name="提出する").click()
    page.wait_for_url(f"**{assessment.get_absolute_url()}")
    expect(page.get_by_text("提出しました")).to_be_visible()
    assert_accessible(page)
    assessment.refresh_from_db()
    assert assessment.status == "submitted"
    assert Answer.objects.filter(assessment=assessment).count() == 34

    # Submitted: the section page is read-only now.
    page.goto(f"/assessments/011002/{assessment.fiscal_year}/egov-2003/sections/II.3/")
    expect(page.get_by_text("この自己評価は閲覧のみです")).to_be_visible()
    expect(page.locator("input[type=radio]")).to_have_count(0)
    assert_accessible(page)


def test_invalid_section_save_shows_an_accessible_error_summary(page):
    make_user("sapporo-staff", "body_staff", "011002")
    log_in(page, "sapporo-staff")
    page.get_by_role("button", name="開始する").click()
    page.wait_for_url("**/egov-2003/")
    page.goto(page.url + "sections/II.2/")
    measure = Measure.objects.get(guideline__code="egov-2003", ref="II.2.(2)")
    page.locator(f"#id_m{measure.order}-note").fill("残っているはずの備考")
    page.locator(f"#id_m{measure.order}-level_5").check()
    page.get_by_role("button", name="この章を保存").first.click()
    summary = page.locator("#error-summary")
    expect(summary).to_be_visible()
    expect(summary).to_contain_text("理由を入力してください")
    assert page.locator(f"#id_m{measure.order}-note").input_value() == "残っているはずの備考"
    assert_accessible(page)
    summary.get_by_role("link").first.click()
    assert (
        page.evaluate("document.activeElement.id") == f"id_m{measure.order}-not_applicable_reason"
    )


def test_a_colleagues_save_is_never_overwritten_silently(page):
    from assessments import answers

    staff = make_user("sapporo-staff", "body_staff", "011002")
    colleague = make_user("sapporo-colleague", "body_staff", "011002")
    log_in(page, "sapporo-staff")
    page.get_by_role("button", name="開始する").click()
    page.wait_for_url("**/egov-2003/")
    page.goto(page.url + "sections/II.2/")
    assessment = Assessment.objects.get(body__code="011002", guideline__code="egov-2003")
    measure = Measure.objects.get(guideline__code="egov-2003", ref="II.2.(2)")
    # The colleague saves while this page is open.
    answers.answer_save(
        assessment=assessment,
        measure=measure,
        user=colleague,
        data={"level": 4, "note": "同僚の回答"},
        expected_version=0,
    )
    response = autosaved(page, lambda: page.locator(f"#id_m{measure.order}-level_1").check())
    assert response.status == 409
    expect(page.locator("#autosave-status")).to_contain_text("他の人がこの項目を先に保存した")
    page.get_by_role("button", name="この章を保存").first.click()
    expect(page.get_by_text("他の人が先に保存した項目があります")).to_be_visible()
    expect(page.get_by_text("同僚の回答")).to_be_visible()
    expect(page.locator(f"#id_m{measure.order}-level_1")).to_be_checked()  # mine, still typed
    assert_accessible(page)
    assert Answer.objects.get(assessment=assessment, measure=measure).level == 4
    page.get_by_role("button", name="自分の入力を残す（相手の内容を置き換える）").click()
    expect(page.get_by_role("status").filter(has_text="を保存しました")).to_be_visible()
    stored = Answer.objects.get(assessment=assessment, measure=measure)
    assert (stored.level, stored.updated_by) == (1, staff)
