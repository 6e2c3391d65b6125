from django.urls import path, register_converter

from assessments.views import (
    catalog,
    dashboard,
    documents,
    filling,
    home,
    reports,
    review,
    rounds,
    statistics,
)


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


class MeasureRefConverter:
    """A guideline's own numbering, e.g. II.1.(2)② (URL-encoded by reverse()); never a slash."""

    regex = "[^/]+"

    def to_python(self, value: str) -> str:
        return value

    def to_url(self, value: str) -> str:
        return value


register_converter(BodyCodeConverter, "body")
register_converter(MeasureRefConverter, "ref")
register_converter(FiscalYearConverter, "fy")

ASSESSMENT = "assessments/<body:body_code>/<fy:fiscal_year>/<slug:guideline_code>/"
PREFECTURE = "prefectures/<body:prefecture_code>/<fy:fiscal_year>/<slug:guideline_code>/"

ROUND = "rounds/<slug:guideline_code>/<fy:fiscal_year>/"

urlpatterns = [
    # Home and the assessment page (foundation)
    path("", home.home, name="home"),
    path(
        "bodies/<body:body_code>/documents/",
        documents.document_settings,
        name="document_settings",
    ),
    # Filling, saving, evidence, history, submit (staff)
    path(ASSESSMENT, filling.assessment_detail, name="assessment_detail"),
    path("assessment-start/", filling.assessment_start, name="assessment_start"),
    path(
        ASSESSMENT + "sections/<ref:section_ref>/",
        filling.assessment_section,
        name="assessment_section",
    ),
    path(
        ASSESSMENT + "measures/<ref:measure_ref>/autosave/",
        filling.answer_autosave,
        name="answer_autosave",
    ),
    path(
        ASSESSMENT + "measures/<ref:measure_ref>/history/",
        filling.answer_history,
        name="answer_history",
    ),
    path(
        ASSESSMENT + "measures/<ref:measure_ref>/evidence/",
        filling.evidence_download,
        name="evidence_download",
    ),
    path(ASSESSMENT + "submit/", filling.assessment_submit, name="assessment_submit"),
    path(ASSESSMENT + "confirm/", filling.answers_confirm, name="answers_confirm"),
    # Review chain and survey rounds (reviewers, national administrators)
    path("review/", review.review_queue, name="review_queue"),
    path(ASSESSMENT + "review/", review.review, name="review"),
    path(ASSESSMENT + "review/comment/", review.review_comment, name="review_comment"),
    path(ASSESSMENT + "review/return/", review.review_return, name="review_return"),
    path(ASSESSMENT + "review/approve/", review.review_approve, name="review_approve"),
    path(ASSESSMENT + "review/reopen/", review.review_reopen, name="review_reopen"),
    path("rounds/", rounds.round_list, name="round_list"),
    path(
        "rounds/<slug:guideline_code>/<fy:fiscal_year>/",
        rounds.round_progress,
        name="round_progress",
    ),
    path(f"{ROUND}follow-up/", rounds.round_follow_up, name="round_follow_up"),
    path(
        f"{ROUND}follow-up/export.<str:fmt>",
        rounds.round_follow_up_export,
        name="round_follow_up_export",
    ),
    path(f"{ROUND}extend/", rounds.round_extend, name="round_extend"),
    path(f"{ROUND}excuse/", rounds.round_excuse, name="round_excuse_any"),
    path(f"{ROUND}sign-off/<str:prefecture_code>/", rounds.round_sign_off, name="round_sign_off"),
    path(
        f"{ROUND}sign-off/<str:prefecture_code>/decide/",
        rounds.round_sign_off_decide,
        name="round_sign_off_decide",
    ),
    path(f"{ROUND}close/", rounds.round_close, name="round_close"),
    # Dashboards
    path("dashboard/", dashboard.dashboard, name="dashboard"),
    path("dashboard/heatmap/", dashboard.dashboard_heatmap, name="dashboard_heatmap"),
    path(
        "dashboard/distribution/", dashboard.dashboard_distribution, name="dashboard_distribution"
    ),
    path("dashboard/prefectures/", dashboard.dashboard_prefectures, name="dashboard_prefectures"),
    path("dashboard/export.<str:fmt>", dashboard.dashboard_export, name="dashboard_export"),
    path(ASSESSMENT + "comparison/", dashboard.comparison, name="comparison"),
    # Reports and spreadsheets
    path(f"{ASSESSMENT}report.pdf", reports.report_pdf, name="report_pdf"),
    path(f"{ASSESSMENT}report.pdf/retry", reports.report_pdf_retry, name="report_pdf_retry"),
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

# Guideline files and editions (national administrators)
urlpatterns += [
    path("guidelines/imports/", catalog.guideline_imports, name="guideline_imports"),
    path(
        "guidelines/imports/<int:pk>/",
        catalog.guideline_import_preview,
        name="guideline_import_preview",
    ),
    path(
        "guidelines/imports/<int:pk>/confirm/",
        catalog.guideline_import_confirm,
        name="guideline_import_confirm",
    ),
    path(
        "guidelines/<slug:guideline_code>/export.xlsx",
        catalog.guideline_export_xlsx,
        name="guideline_export_xlsx",
    ),
]

# Published statistics (public, no login) and their publication (national administrators)
STATISTICS = "statistics/<int:number>/"
VERSION = STATISTICS + "v<int:version>/"
urlpatterns += [
    path("statistics/", statistics.statistics_index, name="statistics_index"),
    path("statistics/publish/", statistics.statistics_publish, name="statistics_publish"),
    path(
        "statistics/publish/reopen/",
        statistics.statistics_correction_reopen,
        name="statistics_correction_reopen",
    ),
    path(STATISTICS, statistics.statistics_release, name="statistics_release"),
    path(VERSION, statistics.statistics_version, name="statistics_version"),
    path(
        f"{VERSION}prefectures/", statistics.statistics_prefectures, name="statistics_prefectures"
    ),
    path(f"{VERSION}statistics.<str:kind>", statistics.statistics_file, name="statistics_file"),
    path(
        f"{ROUND}measures.<str:fmt>", statistics.round_measure_export, name="round_measure_export"
    ),
]
