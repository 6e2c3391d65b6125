from django.urls import path, register_converter

from assessments.views import home, reports


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
PREFECTURE = "prefectures/<body:prefecture_code>/<fy:fiscal_year>/<slug:guideline_code>/"

urlpatterns = [
    # Home and the assessment page (foundation)
    path("", home.home, name="home"),
    path(ASSESSMENT, home.assessment_detail, name="assessment_detail"),
    # Filling, saving, evidence, history, submit (staff)
    # Review chain and survey rounds (reviewers, national administrators)
    # Dashboards
    # Reports and spreadsheets
    path(f"{ASSESSMENT}report.pdf", reports.report_pdf, name="report_pdf"),
    path(f"{ASSESSMENT}questionnaire.xlsx", reports.questionnaire_xlsx, name="questionnaire_xlsx"),
    path(
        f"{ASSESSMENT}questionnaire/upload/",
        reports.questionnaire_upload,
        name="questionnaire_upload",
    ),
    path(
        f"{ASSESSMENT}questionnaire/apply/", reports.questionnaire_apply, name="questionnaire_apply"
    ),
    path(f"{PREFECTURE}summary.pdf", reports.prefecture_summary_pdf, name="prefecture_summary_pdf"),
    path(f"{PREFECTURE}report-batches/", reports.report_batches, name="report_batches"),
    path(
        "report-batches/<uuid:batch_id>/", reports.report_batch_detail, name="report_batch_detail"
    ),
    path(
        "report-batches/<uuid:batch_id>/reports.zip",
        reports.report_batch_zip,
        name="report_batch_zip",
    ),
]
