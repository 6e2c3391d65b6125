from django.urls import path, register_converter

from assessments.views import home


class BodyCodeConverter:
    regex = "[0-9]{6}"

    def to_python(self, value: str) -> str:
        return value

    def to_url(self, value: str) -> str:
        return value


class FiscalYearConverter:
    regex = "[0-9]{4}"

    def to_python(self, value: str) -> int:
        return int(value)

    def to_url(self, value: int) -> str:
        return str(value)


register_converter(BodyCodeConverter, "body")
register_converter(FiscalYearConverter, "fy")

ASSESSMENT = "assessments/<body:body_code>/<fy:fiscal_year>/<slug:guideline_code>/"

urlpatterns = [
    # Home and the assessment page (foundation)
    path("", home.home, name="home"),
    path(ASSESSMENT, home.assessment_detail, name="assessment_detail"),
    # Filling, saving, evidence, history, submit (staff)
    # Review chain and survey rounds (reviewers, national administrators)
    # Dashboards
    # Reports and spreadsheets
]
