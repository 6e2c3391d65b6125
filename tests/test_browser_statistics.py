"""Published statistics in Chromium: the public pages (no login) and the national
administrator's publication page; axe-core finds no violation on any of them.

State: the closed FY2025 round of tests/test_statistics.py (a few bodies of 北海道 answered),
published once."""

import pytest
from playwright.sync_api import expect

from assessments import publication
from assessments.models import Guideline, Measure, User
from tests.support import assert_accessible, log_in, make_user
from tests.test_statistics import closed_round

pytestmark = pytest.mark.browser


@pytest.fixture
def published(reference_data, monkeypatch):
    monkeypatch.setattr(publication, "statistics_pdf", lambda version, corrections: b"%PDF-")
    admin = make_user("national-admin", User.Role.NATIONAL_ADMIN, None)
    guideline = Guideline.objects.get(code="egov-2003")
    survey_round = closed_round(
        guideline, list(Measure.objects.filter(guideline=guideline).scored()), admin
    )
    publication.statistics_publish(survey_round=survey_round, user=admin)
    return survey_round, admin


def test_the_public_pages_and_the_publication_page_are_accessible(page, published, tmp_path):
    survey_round, _admin = published
    page.goto("/statistics/")
    expect(page.get_by_role("heading", level=1)).to_contain_text("統計")
    assert_accessible(page)
    page.get_by_role("link", name="第1号", exact=False).first.click()
    expect(page.locator("table").first).to_be_visible()
    assert_accessible(page)
    page.screenshot(path=str(tmp_path / "version.png"), full_page=True)
    page.get_by_role("link", name="都道府県別", exact=False).first.click()
    expect(page.locator("table").first).to_be_visible()
    assert_accessible(page)

    log_in(page, "national-admin")
    page.goto("/statistics/publish/")
    expect(page.get_by_role("heading", level=1)).to_be_visible()
    assert_accessible(page)
    page.screenshot(path=str(tmp_path / "publish.png"), full_page=True)
