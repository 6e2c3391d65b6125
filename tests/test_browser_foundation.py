"""Login and home in a real browser, checked with axe-core."""

import re

import pytest
from playwright.sync_api import expect

from tests.support import assert_accessible, log_in, make_user

pytestmark = pytest.mark.browser


def test_login_and_home_have_no_accessibility_violations(page):
    make_user("sapporo-staff", "body_staff", "011002")
    page.goto("/accounts/login/")
    assert page.locator("html").get_attribute("lang") == "ja"
    assert_accessible(page)

    log_in(page, "sapporo-staff")
    expect(page.get_by_role("heading", level=1)).to_have_text(re.compile("^札幌市"))
    assert_accessible(page)


def test_static_assets_are_served_by_the_app(page):
    page.goto("/accounts/login/")
    font_size = page.evaluate(
        "getComputedStyle(document.querySelector('.btn-primary')).borderRadius"
    )
    assert font_size != "0px"  # Bootstrap's stylesheet was served and applied
    requested = []
    page.on("request", lambda request: requested.append(request.url))
    page.reload()
    assert requested and all(url.startswith(page.url.split("/accounts")[0]) for url in requested)
