"""The per-measure export of a round for the national tally (issue 12, part 4).

Personas (tests/conftest.py): the national administrator (every body), the 北海道 reviewer
(北海道 and its municipalities only), the 青森県 reviewer (青森県's only), 札幌市's staff (403).
"""

import csv
import datetime
import io

import openpyxl
import pytest
from django.urls import reverse

from assessments.models import Answer, Assessment, Body, SurveyRound


@pytest.fixture
def survey_round(db, guideline_2003):
    return SurveyRound.objects.create(
        guideline=guideline_2003, fiscal_year=2025, due_on=datetime.date(2025, 9, 30)
    )


def add(survey_round, code: str, status: str = "approved") -> Assessment:
    return Assessment.objects.create(
        body=Body.objects.get(code=code),
        guideline=survey_round.guideline,
        fiscal_year=2025,
        status=status,
        survey_round=survey_round,
        approved_at=datetime.datetime(2025, 10, 1, tzinfo=datetime.UTC)
        if status == "approved"
        else None,
    )


def url(fmt: str = "csv") -> str:
    return reverse(
        "round_measure_export",
        kwargs={"guideline_code": "egov-2003", "fiscal_year": 2025, "fmt": fmt},
    )


def rows(response) -> list[list[str]]:
    text = response.content.decode("utf-8")
    assert text.startswith("\ufeff")
    return list(csv.reader(io.StringIO(text.lstrip("\ufeff"))))


def test_every_body_and_measure_with_level_na_reason_and_status(
    client, survey_round, scored_2003, national_admin
):
    sapporo = add(survey_round, "011002")
    add(survey_round, "020001", status="in_progress")
    Answer.objects.create(assessment=sapporo, measure=scored_2003[0], level=3)
    Answer.objects.create(
        assessment=sapporo,
        measure=scored_2003[1],
        not_applicable=True,
        not_applicable_reason='=HYPERLINK("http://x")',
    )
    client.force_login(national_admin)
    table = rows(client.get(url()))
    assert table[0] == [
        "団体コード",
        "団体名",
        "都道府県",
        "団体区分",
        "項目番号",
        "項目名",
        "レベル",
        "該当なしの理由",
        "状態",
    ]
    assert len(table) == 1 + 2 * len(scored_2003)
    first, second, third = table[1:4]
    assert first[:4] == ["011002", "札幌市", "北海道", "政令指定都市"]
    assert (first[4], first[6], first[8]) == (scored_2003[0].ref, "3 全庁的に運用", "承認済み")
    assert second[6] == "該当なし" and second[7].startswith("'=HYPERLINK")
    assert third[6] == "未回答"
    aomori = [r for r in table[1:] if r[0] == "020001"]
    assert aomori[0][3] == "都道府県" and aomori[0][8] == "作成中"
    book = openpyxl.load_workbook(io.BytesIO(client.get(url("xlsx")).content))
    sheet = book.active
    assert sheet.max_row == 1 + 2 * len(scored_2003)
    assert all(c.data_type != "f" for row in sheet.iter_rows() for c in row)
    assert sheet["H3"].value.startswith("'=")


def test_a_reviewer_gets_only_its_prefecture(
    client, survey_round, hokkaido_reviewer, aomori_reviewer, sapporo_staff, scored_2003
):
    add(survey_round, "011002")
    add(survey_round, "010006")
    add(survey_round, "020001")
    client.force_login(hokkaido_reviewer)
    codes = {r[0] for r in rows(client.get(url()))[1:]}
    assert codes == {"011002", "010006"}
    client.force_login(aomori_reviewer)
    assert {r[0] for r in rows(client.get(url()))[1:]} == {"020001"}
    client.force_login(sapporo_staff)
    assert client.get(url()).status_code == 403


def test_the_query_count_stays_the_same_with_more_bodies(
    client, survey_round, national_admin, scored_2003, django_assert_num_queries
):
    client.force_login(national_admin)
    add(survey_round, "011002")

    # session, user, the round (with guideline), measures, answers, assessments (with body and
    # prefecture); the session is not written
    def count():
        with django_assert_num_queries(6):
            assert client.get(url()).status_code == 200

    client.get(url())  # the session's first page stamps its start (a session write)
    count()
    for body in Body.objects.filter(prefecture__code="010006").exclude(code="011002")[:40]:
        a = add(survey_round, body.code)
        Answer.objects.create(assessment=a, measure=scored_2003[0], level=2)
    count()
