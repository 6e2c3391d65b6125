"""One number everywhere: a score is rounded once (四捨五入 to one decimal) and reads the same on
every page, export, questionnaire and PDF; a draft's score is provisional (暫定) and never ranked
or averaged among results.

The assessment built here earns exactly 1 of 16 weighted points: 6.25, which half-to-even
rounding (Python's round(), f"{x:.1f}") shows as 6.2 and 四捨五入 as 6.3.
"""

import csv
import io
import re
from decimal import Decimal

import openpyxl
import pytest
from django.urls import reverse, reverse_lazy
from pypdf import PdfReader

from assessments import scoring
from assessments.models import Answer, Assessment, Measure
from assessments.questionnaire import layout
from tests.support import download_pdf

YEAR = 2026
SECTION = "II.1"


def text_of(html: str) -> str:
    """The text a reader sees (element contents, SVG titles and labels), without attributes."""
    return " ".join(re.findall(r">([^<]+)<", html))


def numbers_in(text: str) -> set[str]:
    return set(re.findall(r"(?<![\d.])\d+\.\d(?![\d])", text))


def assert_shows_6_3(text: str, where: str) -> None:
    found = numbers_in(text)
    assert "6.3" in found, f"{where}: 6.3 not shown"
    assert "6.2" not in found, f"{where}: shows 6.2 (half-to-even) for 6.25"


@pytest.fixture
def six_and_a_quarter(make_assessment, guideline_2003):
    """札幌市 FY2026, submitted: four weight-1 measures of II.1 at levels 1, 0, 0, 0 → 1/16."""
    assessment = make_assessment("011002", YEAR, status=Assessment.Status.SUBMITTED)
    section = Measure.objects.get(guideline=guideline_2003, ref=SECTION)
    light = list(Measure.objects.filter(section=section, weight=1).scored()[:4])
    assert len(light) == 4
    Answer.objects.bulk_create(
        Answer(assessment=assessment, measure=m, level=1 if i == 0 else 0)
        for i, m in enumerate(light)
    )
    scored = Assessment.objects.with_scores().get(pk=assessment.pk)
    assert (scored.score_earned, scored.score_possible) == (1, 16)
    assert scored.score.value == Decimal("6.25")
    return assessment


def test_the_one_rounding_rule():
    assert scoring.display(Decimal("6.25")) == "6.3"
    assert scoring.display(6.25) == "6.3"
    assert scoring.display(Decimal(100) / Decimal(16)) == "6.3"
    # A database average of 6.25 may arrive a hair below it; it still rounds up.
    assert scoring.display(6.2499999999997) == "6.3"
    assert scoring.display(6.24) == "6.2" and scoring.display(None) == "—"
    assert scoring.percent(1, 8) == Decimal("12.5") and scoring.percent(1, 16) == Decimal("6.3")


def test_every_page_shows_the_same_rounded_score(
    client, six_and_a_quarter, sapporo_staff, hokkaido_reviewer, national_admin
):
    assessment = six_and_a_quarter
    kwargs = assessment.url_kwargs
    params = {"fiscal_year": YEAR, "guideline": "egov-2003"}
    pages = {
        sapporo_staff: [
            reverse("home"),
            reverse("assessment_detail", kwargs=kwargs),
            reverse("assessment_section", kwargs={**kwargs, "section_ref": SECTION}),
        ],
        hokkaido_reviewer: [
            reverse("review_queue"),
            reverse("review", kwargs=kwargs),
            reverse("dashboard") + "?fiscal_year=2026",
            reverse("dashboard_heatmap") + "?fiscal_year=2026",
            reverse("comparison", kwargs=kwargs),
        ],
        national_admin: [reverse("dashboard_prefectures") + "?fiscal_year=2026"],
    }
    for user, urls in pages.items():
        client.force_login(user)
        for url in urls:
            response = client.get(url)
            assert response.status_code == 200, url
            assert_shows_6_3(text_of(response.content.decode()), url)

    client.force_login(hokkaido_reviewer)
    csv_export = client.get(reverse("dashboard_export", kwargs={"fmt": "csv"}), params)
    rows = list(csv.reader(io.StringIO(csv_export.content.decode("utf-8-sig"))))
    sapporo = next(row for row in rows if row[0] == "011002")
    header = rows[0]
    assert sapporo[header.index("総合点")] == "6.3"
    assert sapporo[header.index("点数の扱い")] == "確定"
    section_column = next(i for i, name in enumerate(header) if name.startswith(f"{SECTION} "))
    assert sapporo[section_column] == "6.3"

    xlsx_export = client.get(reverse("dashboard_export", kwargs={"fmt": "xlsx"}), params)
    sheet = openpyxl.load_workbook(io.BytesIO(xlsx_export.content)).active
    values = [[cell.value for cell in row] for row in sheet.iter_rows()]
    sapporo = next(row for row in values if str(row[0]) == "011002")
    assert sapporo[values[0].index("総合点")] == pytest.approx(6.3)

    client.force_login(sapporo_staff)
    workbook = openpyxl.load_workbook(
        io.BytesIO(client.get(reverse("questionnaire_xlsx", kwargs=kwargs)).content)
    )
    cover = {row[0].value: row[1].value for row in workbook[layout.SHEET].iter_rows(max_row=8)}
    assert cover["総合点"] == "6.3"


HOKKAIDO_SUMMARY = reverse_lazy(
    "prefecture_summary_pdf",
    kwargs={"prefecture_code": "010006", "fiscal_year": YEAR, "guideline_code": "egov-2003"},
)


def pdf_text(data: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)


def test_the_pdfs_show_the_same_rounded_score(client, six_and_a_quarter, hokkaido_reviewer):
    client.force_login(hokkaido_reviewer)
    report = download_pdf(client, reverse("report_pdf", kwargs=six_and_a_quarter.url_kwargs))
    assert report.status_code == 200
    assert_shows_6_3(pdf_text(report.content), "assessment PDF")
    summary = client.get(HOKKAIDO_SUMMARY)
    assert summary.status_code == 200
    assert_shows_6_3(pdf_text(summary.content), "prefecture summary PDF")


@pytest.fixture
def result_and_draft(make_assessment, scored_2003):
    """函館市 submitted at 50 (a result); 札幌市 in progress at 100 on 2 measures (a draft)."""
    hakodate = make_assessment("012025", YEAR, status=Assessment.Status.SUBMITTED)
    Answer.objects.bulk_create(Answer(assessment=hakodate, measure=m, level=2) for m in scored_2003)
    sapporo = make_assessment("011002", YEAR)
    Answer.objects.bulk_create(
        Answer(assessment=sapporo, measure=m, level=4) for m in scored_2003[:2]
    )
    return hakodate, sapporo


def test_a_draft_is_provisional_and_never_ranked_among_results(
    client, result_and_draft, hokkaido_reviewer
):
    hakodate, sapporo = result_and_draft
    client.force_login(hokkaido_reviewer)
    params = {"fiscal_year": YEAR, "guideline": "egov-2003", "sort": "-score"}
    response = client.get(reverse("dashboard"), params)
    rows = [r for r in response.context["rows"] if r.score.value is not None]
    assert [r.assessment for r in rows] == [hakodate, sapporo]  # 50 ranks above the draft's 100
    assert str(rows[1].score) == "100.0（暫定・回答 2 / 34）"
    assert "100.0（暫定・回答 2 / 34）" in response.content.decode()
    assert not rows[0].score.provisional and str(rows[0].score) == "50.0"

    # Only when the user asks for drafts are they ranked among the results.
    with_drafts = client.get(reverse("dashboard"), {**params, "include_drafts": "on"})
    ranked = [r.assessment for r in with_drafts.context["rows"] if r.score.value is not None]
    assert ranked == [sapporo, hakodate]

    # The averages are of results only: 北海道 = 50, not 75.
    averages = {
        a.label: a
        for a in client.get(reverse("comparison", kwargs=hakodate.url_kwargs)).context["averages"]
    }
    assert (averages["北海道平均"].overall, averages["北海道平均"].bodies) == (50, 1)


def test_the_prefecture_summary_ranks_results_and_lists_drafts_apart(
    client, result_and_draft, hokkaido_reviewer
):
    hakodate, sapporo = result_and_draft
    from assessments.models import Body, Guideline
    from assessments.reports.context import prefecture_summary_context

    context = prefecture_summary_context(
        Body.objects.get(code="010006"), Guideline.objects.get(code="egov-2003"), YEAR
    )
    by_body = {row.body.code: row for row in context["rows"]}
    assert by_body["012025"].rank == 1
    assert by_body["011002"].rank is None and by_body["011002"].score.provisional
    client.force_login(hokkaido_reviewer)
    summary = client.get(HOKKAIDO_SUMMARY)
    text = pdf_text(summary.content)
    assert "暫定" in text
