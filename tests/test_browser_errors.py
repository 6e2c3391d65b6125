"""The error pages in Chromium: the site's layout, a way back, and no axe-core violation.

Persona: staff of 札幌市, who may not open the dashboard (403) and meet a missing page (404).
"""

import pytest
from playwright.sync_api import expect

from tests.support import assert_accessible, log_in, make_user

pytestmark = pytest.mark.browser


def test_error_pages_are_accessible_and_lead_back_home(page):
    make_user("sapporo-staff", "body_staff", "011002")
    log_in(page, "sapporo-staff")
    page.goto("/dashboard/")
    expect(page.get_by_role("heading", level=1)).to_have_text("このページを開く権限がありません")
    assert_accessible(page)
    page.goto("/no-such-page/")
    expect(page.get_by_role("heading", level=1)).to_have_text("ページが見つかりません")
    assert_accessible(page)
    page.get_by_role("link", name="ホームへ戻る").click()
    expect(page.get_by_role("heading", name="自己評価", exact=True)).to_be_visible()
