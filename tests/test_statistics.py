"""Published statistics (issue 12, part 3): the tabulation, publication, corrections, the public
pages and downloads, the national administrator's page and the management command.

Personas (tests/conftest.py): 札幌市's staff (a designated city), the 北海道 reviewer, the
national administrator. State: a closed FY2025 round of the 2003 guideline in which a few bodies
of 北海道 and 青森県 answered (approved, submitted, a draft, 該当なし, gaps); all other bodies
of the registry count as 未回答.
"""

import datetime
import hashlib
import io

import openpyxl
import pytest
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone

from assessments import answers, publication, rounds, workflow
from assessments.models import (
    Answer,
    Assessment,
    Body,
    MicCategory,
    ReleaseVersion,
    StatisticsRelease,
    SurveyRound,
)
from assessments.selectors.statistics import TOTAL, UNANSWERED, tabulate

FY = 2025

# body code → (status, {measure index: level or "na"}) — unlisted measures have no answer.
ANSWERED = {
    "011002": ("approved", {0: 3, 1: 4, 2: "na", 3: 0}),  # 札幌市 (政令指定都市)
    "012025": ("approved", {0: 2, 1: 2, 2: 1}),  # 函館市 (中核市)
    "012033": ("submitted", {0: 3, 1: "na"}),  # 小樽市 (その他の市)
    "013030": ("approved", {0: 4}),  # 当別町 (町村)
    "010006": ("approved", {0: 3, 1: 3, 2: 3}),  # 北海道 (都道府県)
    "020001": ("in_progress", {0: 4, 1: 4}),  # 青森県: a draft, never counted
    "022021": ("returned", {0: 1}),  # 弘前市: a draft again
}


def set_answer(assessment: Assessment, measure, choice) -> Answer:
    return Answer.objects.create(
        assessment=assessment,
        measure=measure,
        level=None if choice == "na" else choice,
        not_applicable=choice == "na",
        not_applicable_reason="対象となる事務がないため" if choice == "na" else "",
    )


def closed_round(guideline, scored, admin) -> SurveyRound:
    """The FY2025 round with the answers of ANSWERED, closed (with a reason)."""
    survey_round = SurveyRound.objects.create(
        guideline=guideline, fiscal_year=FY, due_on=datetime.date(FY, 9, 30)
    )
    now = timezone.now()
    for code, (status, chosen) in ANSWERED.items():
        assessment = Assessment.objects.create(
            body=Body.objects.get(code=code),
            guideline=guideline,
            fiscal_year=FY,
            status=status,
            survey_round=survey_round,
            submitted_at=now if status in ("submitted", "approved") else None,
            approved_at=now if status == "approved" else None,
        )
        for index, choice in chosen.items():
            set_answer(assessment, scored[index], choice)
    rounds.round_close(survey_round=survey_round, user=admin, reason="集計のため")
    return survey_round


@pytest.fixture
def survey_round(db, guideline_2003, scored_2003, national_admin):
    return closed_round(guideline_2003, scored_2003, national_admin)


@pytest.fixture
def real_pdf():
    """Render the real PDF in this test (else fake_pdf stands in)."""


@pytest.fixture(autouse=True)
def fake_pdf(request, monkeypatch):
    """A stand-in for the PDF renderer (a real render takes 10–20 s here): bytes that name the
    version and its 正誤表, so versions still differ. Tests asking for `real_pdf` render it."""
    if "real_pdf" in request.fixturenames:
        return

    def render(version, corrections):
        return f"%PDF-fake v{version.number} {len(corrections)}".encode()

    monkeypatch.setattr(publication, "statistics_pdf", render)


def recount(guideline, scored) -> dict:
    """Independently of the app's queries: {(measure ref, 団体区分): {column: n}} by walking
    every body of the registry and its result (submitted or approved) in Python."""
    results = {
        a.body_id: a
        for a in Assessment.objects.filter(guideline=guideline, fiscal_year=FY)
        if a.status in ("submitted", "approved")
    }
    given = {(a.assessment_id, a.measure_id): a for a in Answer.objects.all()}
    counts: dict = {}
    for body in Body.objects.all():
        for measure in scored:
            result = results.get(body.pk)
            answer = given.get((result.pk, measure.pk)) if result else None
            if answer is None or (answer.level is None and not answer.not_applicable):
                column = UNANSWERED
            elif answer.not_applicable:
                column = "na"
            else:
                column = str(answer.level)
            for category in (body.mic_category, TOTAL):
                row = counts.setdefault((measure.ref, category), {})
                row[column] = row.get(column, 0) + 1
    return counts


def test_the_tabulation_equals_an_independent_recount(survey_round, guideline_2003, scored_2003):
    tabulation = tabulate(guideline_2003, FY)
    expected = recount(guideline_2003, scored_2003)
    denominators = {c: Body.objects.filter(kind__in=kinds).count() for c, kinds in KINDS.items()}
    assert {c: tabulation.denominators[c] for c in KINDS} == denominators
    assert tabulation.denominators[TOTAL] == 1788
    assert tabulation.denominators[MicCategory.PREFECTURE] == 47
    for measure in tabulation.measures:
        for category in [*tabulation.categories, TOTAL]:
            row = measure.by_category[category]
            assert sum(row.values()) == tabulation.denominators[category]
            want = expected[(measure.ref, category)]
            assert {c: n for c, n in row.items() if n} == want, (measure.ref, category)
    first = tabulation.measures[0]
    # 札幌市 3 and 北海道 3 (approved) and 小樽市 3 (submitted); 青森県's draft 4 is not counted.
    assert first.by_category[TOTAL]["3"] == 3 and first.by_category[TOTAL]["4"] == 1
    assert str(tabulation.cell(first, MicCategory.DESIGNATED_CITY, "3")) == "1団体（5.0%）"
    assert str(tabulation.cell(first, MicCategory.PREFECTURE, UNANSWERED)) == "46団体（97.9%）"
    assert first.by_prefecture["010006"]["3"] == 3 and first.by_prefecture["020001"]["4"] == 0
    assert sum(first.by_prefecture["010006"].values()) == 180  # 北海道 and its 179


KINDS = {
    MicCategory.PREFECTURE: ["prefecture"],
    MicCategory.DESIGNATED_CITY: ["designated_city"],
    MicCategory.CORE_CITY: ["core_city"],
    MicCategory.OTHER_CITY: ["city"],
    MicCategory.TOWN_VILLAGE: ["town", "village"],
    MicCategory.SPECIAL_WARD: ["special_ward"],
}


def test_the_tabulation_of_one_prefecture(survey_round, guideline_2003, django_assert_num_queries):
    hokkaido = Body.objects.get(code="010006")
    # bodies per 団体区分 and prefecture, prefecture names, answers grouped, measures
    with django_assert_num_queries(4):
        tabulation = tabulate(guideline_2003, FY, prefecture=hokkaido)
    assert tabulation.denominators[TOTAL] == 180
    assert [code for code, _name, _n in tabulation.prefectures] == ["010006"]
    first = tabulation.measures[0]
    unanswered = tabulation.unanswered_by_category(first)
    assert unanswered[MicCategory.PREFECTURE].count == 0
    assert unanswered[MicCategory.DESIGNATED_CITY].count == 0


def test_published_figures_equal_the_recount(survey_round, guideline_2003, scored_2003, real_pdf):
    version = publication.statistics_publish(survey_round=survey_round, user=None)
    expected = recount(guideline_2003, scored_2003)
    for measure in version.data["measures"]:
        for category, row in measure["by_category"].items():
            assert {c: n for c, n in row.items() if n} == expected[(measure["ref"], category)]
    assert version.release.number == 1 and version.number == 1
    assert version.release.base_date == datetime.date(FY, 4, 1)
    csv = version.file("csv")
    assert (
        csv.startswith("\ufeff".encode()) and version.csv_sha256 == hashlib.sha256(csv).hexdigest()
    )
    lines = csv.decode("utf-8-sig").splitlines()
    assert lines[0].startswith("表,基準日,指針,項目番号,項目名,団体区分,団体コード")
    assert sum(1 for line in lines if line.startswith("表,")) == 1  # one header row
    ref = scored_2003[0].ref
    assert f"団体区分別,2025-04-01,egov-2003,{ref}," in csv.decode("utf-8-sig")
    hokkaido_row = next(
        line for line in lines if f",{ref}," in line and ",010006,北海道,3 全庁的に運用," in line
    )
    assert hokkaido_row.endswith(",3,180,1.7")
    book = openpyxl.load_workbook(io.BytesIO(version.file("xlsx")))
    assert book.sheetnames == ["団体区分別", "都道府県別"]
    assert all(c.data_type != "f" for sheet in book for row in sheet.iter_rows() for c in row)
    header = [c.value for c in book["都道府県別"][1]]
    assert header[:8] == [
        "基準日",
        "項目番号",
        "項目名",
        "団体コード",
        "都道府県",
        "分母",
        "0 未着手（団体数）",
        "0 未着手（%）",
    ]
    hokkaido = next(
        r
        for r in book["都道府県別"].iter_rows(values_only=True)
        if r[1] == ref and r[3] == "010006"
    )
    assert hokkaido[5] == 180 and hokkaido[6 + 2 * 3] == 3 and hokkaido[6 + 2 * 3 + 1] == 1.7
    assert version.file("pdf").startswith(b"%PDF")


def test_publishing_needs_a_closed_round(guideline_2003, national_admin):
    open_round = SurveyRound.objects.create(
        guideline=guideline_2003, fiscal_year=2024, due_on=datetime.date(2024, 9, 30)
    )
    with pytest.raises(ValidationError, match="締め切られていない"):
        publication.statistics_publish(survey_round=open_round, user=national_admin)
    assert not StatisticsRelease.objects.exists()


def test_republishing_without_change_makes_no_version(survey_round):
    publication.statistics_publish(survey_round=survey_round, user=None)
    with pytest.raises(ValidationError, match="変更がないため"):
        publication.statistics_publish(survey_round=survey_round, user=None, note="再公表")
    assert ReleaseVersion.objects.count() == 1


def test_a_correction_makes_version_2_with_an_errata_and_keeps_version_1(
    client, survey_round, scored_2003, national_admin, sapporo_staff, hokkaido_reviewer
):
    v1 = publication.statistics_publish(survey_round=survey_round, user=national_admin)
    urls = {
        kind: reverse("statistics_file", kwargs={"number": 1, "version": 1, "kind": kind})
        for kind in ("csv", "xlsx", "pdf")
    }
    before = {kind: client.get(url).content for kind, url in urls.items()}
    assert before["csv"] == v1.file("csv")

    sapporo = Assessment.objects.get(body__code="011002", survey_round=survey_round)
    publication.correction_reopen(
        assessment=sapporo, user=national_admin, reason="札幌市から報告の誤りの連絡"
    )
    with pytest.raises(ValidationError, match="修正のため再開中"):
        publication.statistics_publish(survey_round=survey_round, user=national_admin, note="x")
    # The body corrects one level (3 → 2), answers the rest, and its reviewer approves again.
    answer = Answer.objects.get(assessment=sapporo, measure=scored_2003[0])
    answers.answer_save(
        assessment=sapporo,
        measure=scored_2003[0],
        user=sapporo_staff,
        data={"level": 2, "not_applicable": False, "not_applicable_reason": ""},
        expected_version=answer.version,
    )
    Answer.objects.bulk_create(
        [
            Answer(
                assessment=sapporo,
                measure=m,
                not_applicable=True,
                not_applicable_reason="対象外",
            )
            for m in scored_2003[4:]
        ]
    )
    workflow.assessment_transition(assessment=sapporo, user=sapporo_staff, action="submit")
    workflow.assessment_transition(assessment=sapporo, user=hokkaido_reviewer, action="approve")

    with pytest.raises(ValidationError, match="修正の理由"):
        publication.statistics_publish(survey_round=survey_round, user=national_admin)
    v2 = publication.statistics_publish(
        survey_round=survey_round, user=national_admin, note="札幌市の回答の誤りを修正"
    )
    assert v2.number == 2 and v2.release == v1.release
    sapporo.refresh_from_db()
    assert sapporo.is_locked  # locked again with the round

    changed = {
        (c.table, c.measure_ref, c.row_key, c.column_key, c.before_count, c.after_count)
        for c in v2.corrections.all()
    }
    first = scored_2003[0].ref
    expected = {
        ("category", first, MicCategory.DESIGNATED_CITY, "3", 1, 0),
        ("category", first, MicCategory.DESIGNATED_CITY, "2", 0, 1),
        ("category", first, TOTAL, "3", 3, 2),
        ("category", first, TOTAL, "2", 1, 2),
        ("prefecture", first, "010006", "3", 3, 2),
        ("prefecture", first, "010006", "2", 1, 2),
    }
    # The other measures Sapporo answered now (該当なし instead of 未回答) are changes too.
    for m in scored_2003[4:]:
        for table, row in (
            ("category", MicCategory.DESIGNATED_CITY),
            ("category", TOTAL),
            ("prefecture", "010006"),
        ):
            was = v1.data["measures"][scored_2003.index(m)]
            key = "by_category" if table == "category" else "by_prefecture"
            unanswered, na = was[key][row][UNANSWERED], was[key][row]["na"]
            expected |= {
                (table, m.ref, row, UNANSWERED, unanswered, unanswered - 1),
                (table, m.ref, row, "na", na, na + 1),
            }
    assert changed == expected
    assert v2.corrections.count() == len(expected)
    one = v2.corrections.get(table="category", row_key=TOTAL, column_key="3", measure_ref=first)
    assert (one.before, one.after) == ("3団体（0.2%）", "2団体（0.1%）")

    # Version 1's files are what they were, byte for byte; version 2 has its own.
    for kind, url in urls.items():
        response = client.get(url)
        assert response.status_code == 200 and response.content == before[kind]
        assert hashlib.sha256(response.content).hexdigest() == getattr(v1, f"{kind}_sha256")
    v1.refresh_from_db()
    assert v1.file("csv") == before["csv"] and v2.file("csv") != before["csv"]

    # The public page marks version 1 superseded and links version 2's 正誤表.
    page = client.get(reverse("statistics_release", kwargs={"number": 1})).content.decode()
    errata = reverse("statistics_version", kwargs={"number": 1, "version": 2}) + "#errata"
    assert "第2版で修正済み" in page and errata in page
    v2_page = client.get(reverse("statistics_version", kwargs={"number": 1, "version": 2}))
    text = v2_page.content.decode()
    assert "正誤表" in text and "3団体（0.2%）" in text and "札幌市の回答の誤りを修正" in text


def test_correction_reopen_needs_a_closed_round_and_an_approved_assessment(
    make_assessment, national_admin, survey_round
):
    draft = Assessment.objects.get(body__code="020001", survey_round=survey_round)
    with pytest.raises(ValidationError, match="承認済み"):
        publication.correction_reopen(assessment=draft, user=national_admin, reason="x")
    sapporo = Assessment.objects.get(body__code="011002", survey_round=survey_round)
    with pytest.raises(ValidationError, match="理由"):
        publication.correction_reopen(assessment=sapporo, user=national_admin, reason=" ")


# --- Pages ---------------------------------------------------------------------------------------


def test_the_public_pages_need_no_login_and_show_no_body_answers(client, survey_round):
    assert (
        "公表された統計はまだありません" in client.get(reverse("statistics_index")).content.decode()
    )
    publication.statistics_publish(survey_round=survey_round, user=None)
    index = client.get(reverse("statistics_index"))
    assert index.status_code == 200 and "第1号" in index.content.decode()
    page = client.get(reverse("statistics_release", kwargs={"number": 1}))
    text = page.content.decode()
    assert page.status_code == 200
    assert "団体（" in text and "基準日" in text and "1,788" in text and "<svg" in text
    # Aggregates only: no municipality's name, code or reason appears; prefectures do (their rows
    # are a prefecture with its municipalities).
    by_prefecture = client.get(
        reverse("statistics_prefectures", kwargs={"number": 1, "version": 1}),
        {"measure": "II.1.(1)②"},
    ).content.decode()
    for leaked in ("札幌市", "011002", "函館市", "小樽市", "当別町", "対象となる事務がないため"):
        assert leaked not in text and leaked not in by_prefecture
    assert "北海道（180）" in by_prefecture and "010006" in by_prefecture
    assert "II.1.(1)②" in by_prefecture
    for kind, content_type in (
        ("csv", "text/csv"),
        ("xlsx", "application/vnd.openxmlformats"),
        ("pdf", "application/pdf"),
    ):
        response = client.get(
            reverse("statistics_file", kwargs={"number": 1, "version": 1, "kind": kind})
        )
        assert response.status_code == 200 and response["Content-Type"].startswith(content_type)
        assert "statistics_no1_v1_2025_egov-2003" in response["Content-Disposition"]
    assert client.get(reverse("statistics_release", kwargs={"number": 2})).status_code == 404
    missing = reverse("statistics_file", kwargs={"number": 1, "version": 1, "kind": "exe"})
    assert client.get(missing).status_code == 404


def test_the_public_pages_query_count_does_not_grow(
    client, survey_round, django_assert_num_queries
):
    publication.statistics_publish(survey_round=survey_round, user=None)
    # release, its versions (with the latest's corrections count)
    # the release (with its round and guideline), its versions (light), the version shown (its
    # data); a version 1 has no 正誤表 to read
    with django_assert_num_queries(3):
        client.get(reverse("statistics_release", kwargs={"number": 1}))


def test_the_national_administrator_previews_and_publishes(client, survey_round, national_admin):
    client.force_login(national_admin)
    url = reverse("statistics_publish")
    assert client.get(url).status_code == 200
    data = {"survey_round": survey_round.pk, "note": ""}
    preview = client.post(url, data | {"preview": "1"})
    assert preview.status_code == 200 and "第1版として公表" in preview.content.decode()
    assert not StatisticsRelease.objects.exists()
    response = client.post(url, data | {"publish": "1"})
    assert response.status_code == 302
    assert ReleaseVersion.objects.get().published_by == national_admin
    again = client.post(url, data | {"preview": "1"}).content.decode()
    assert "変更がないため" in again
    refused = client.post(url, data | {"publish": "1"})
    assert refused.status_code == 200 and ReleaseVersion.objects.count() == 1


def test_the_publish_command(survey_round, capsys):
    call_command("publish_statistics", "egov-2003", "2025", "--dry-run")
    assert not StatisticsRelease.objects.exists()
    assert "第1版" in capsys.readouterr().out
    call_command("publish_statistics", "egov-2003", "2025", "--note", "初回の公表")
    out = capsys.readouterr().out
    version = ReleaseVersion.objects.get()
    assert "第1号" in out and version.note == "初回の公表" and version.published_by is None
    with pytest.raises(Exception, match="変更がないため"):
        call_command("publish_statistics", "egov-2003", "2025", "--note", "再度")
    with pytest.raises(Exception, match="調査回がありません"):
        call_command("publish_statistics", "egov-2003", "2019")
