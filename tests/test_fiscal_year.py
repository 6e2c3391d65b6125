import datetime

from django.utils import translation

from assessments import fiscal_year as fy


def test_fiscal_years_start_in_april():
    assert fy.fiscal_year_of(datetime.date(2027, 3, 31)) == 2026
    assert fy.fiscal_year_of(datetime.date(2026, 4, 1)) == 2026


def test_wareki():
    with translation.override("ja"):
        assert fy.wareki(2026) == "令和8年度"
        assert fy.wareki(2019) == "令和元年度"
        assert fy.wareki(2003) == "平成15年度"
        assert fy.label(2025) == "2025年度（令和7年度）"
    with translation.override("en"):
        assert fy.wareki(2026) == "FY Reiwa 8"
