"""The document settings page in Chromium: staff set their 決裁欄 and see the cover's preview;
a mistake keeps what they typed; no axe-core violation."""

import pytest
from playwright.sync_api import expect

from tests.support import assert_accessible, log_in, make_user

pytestmark = pytest.mark.browser


def test_staff_set_the_header_of_their_documents(page, tmp_path):
    make_user("sapporo-staff", "body_staff", "011002")
    log_in(page, "sapporo-staff")
    page.get_by_role("link", name="報告書の体裁").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("札幌市の報告書の体裁")
    preview = page.locator("#approval-preview")
    expect(preview.get_by_role("columnheader")).to_have_text(
        ["担当", "課長", "部長", "局長", "副市長", "市長"]
    )
    assert_accessible(page)

    page.get_by_label("決裁欄").fill("担当、係長、課長、部長、局長、副市長、市長、市長室長、予備")
    page.get_by_label("担当課").fill("デジタル戦略推進局 情報システム課")
    page.get_by_role("button", name="保存する").click()
    expect(page.get_by_text("決裁欄は8欄までです（9欄あります）。")).to_be_visible()
    expect(page.get_by_label("担当課")).to_have_value("デジタル戦略推進局 情報システム課")
    assert_accessible(page)

    page.get_by_label("決裁欄").fill("担当、係長、課長、部長、局長、副市長、市長")
    page.get_by_label("文書番号").fill("札デ戦第{番号}号")
    page.get_by_role("button", name="保存する").click()
    expect(page.get_by_text("文書の設定を保存しました。")).to_be_visible()
    expect(preview.get_by_role("columnheader")).to_have_text(
        ["担当", "係長", "課長", "部長", "局長", "副市長", "市長"]
    )
    expect(page.locator("#header-preview")).to_contain_text("札デ戦第　　　号")
    assert_accessible(page)
    page.screenshot(path=str(tmp_path / "document-settings.png"), full_page=True)
