"""The registry over time: bodies with the dates they existed, mergers and code changes read from
MIC's change list (改正一覧表), and rounds that cover the bodies of their base date.

The test registry is a handful of made-up bodies of 北海道 (codes 0199x, unused by the real
list) as they stood before the records, changed by a change list:
  2006-03-01  試験南町 + 試験北村 → 新試験市 (新設合併, a new code)
  2010-03-23  新試験市 and 試験東町 → 試験市 (編入合併 into an existing city)
  2012-04-01  試験市 → 中核市 (中核市移行, same code)
"""

import csv
import datetime
import io

import openpyxl
import pytest
from django.core.management import CommandError, call_command
from django.urls import reverse

from assessments.codes import check_digit
from assessments.fiscal_year import fiscal_year_start
from assessments.models import Assessment, Body, BodySuccession, SurveyRound
from assessments.registry import import_body_changes
from assessments.rounds import Scope, survey_round_open
from assessments.selectors.statistics import TOTAL, tabulate


def code(first_five: str) -> str:
    return first_five + str(check_digit(first_five))


SOUTH, NORTH, CITY, EAST, NEW_CITY = (
    code(c) for c in ("01991", "01992", "01993", "01994", "01995")
)
TEST_CODES = {SOUTH, NORTH, CITY, EAST, NEW_CITY}

HEADER = [
    "改正年月日",
    "旧団体コード",
    "旧都道府県名",
    "旧市区町村名",
    "新団体コード",
    "新都道府県名",
    "新市区町村名",
    "新市区町村名ふりがな",
    "改正事由",
]
CHANGES = [
    ["2010-03-23", NEW_CITY, "北海道", "新試験市", CITY, "北海道", "試験市", "", "編入合併"],
    ["2010-03-23", EAST, "北海道", "試験東町", CITY, "北海道", "試験市", "", "編入合併"],
    [
        "2006-03-01",
        SOUTH,
        "北海道",
        "試験南町",
        NEW_CITY,
        "北海道",
        "新試験市",
        "しんしけんし",
        "新設合併",
    ],
    [
        "2006-03-01",
        NORTH,
        "北海道",
        "試験北村",
        NEW_CITY,
        "北海道",
        "新試験市",
        "しんしけんし",
        "新設合併",
    ],
    ["2012-04-01", CITY, "北海道", "試験市", CITY, "北海道", "試験市", "", "中核市移行"],
]


@pytest.fixture
def past_registry(db):
    """The test bodies of 北海道 as they stood before the change list: two towns, a village and
    a city, all since before the records."""
    hokkaido = Body.objects.get(code="010006")
    for body_code, name, kana, kind in [
        (SOUTH, "試験南町", "シケンミナミチョウ", Body.Kind.TOWN),
        (NORTH, "試験北村", "シケンキタムラ", Body.Kind.VILLAGE),
        (CITY, "試験市", "シケンシ", Body.Kind.CITY),
        (EAST, "試験東町", "シケンヒガシチョウ", Body.Kind.TOWN),
    ]:
        Body.objects.create(
            code=body_code, name=name, name_kana=kana, kind=kind, prefecture=hokkaido
        )


def _csv(rows, encoding="utf-8", header=HEADER) -> bytes:
    buffer = io.StringIO()
    csv.writer(buffer).writerows([header, *rows])
    return buffer.getvalue().encode(encoding)


def _xlsx(rows) -> bytes:
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.append(HEADER)
    for row in rows:
        # Excel holds the date as a date and the codes as numbers (the leading zero lost).
        day = datetime.date.fromisoformat(row[0])
        sheet.append([day, int(row[1]), *row[2:4], int(row[4]), *row[5:]])
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


FILES = {
    "utf-8.csv": lambda rows: _csv(rows),
    "cp932.csv": lambda rows: _csv(rows, "cp932"),
    "list.xlsx": _xlsx,
}


def _state():
    """What a change list may alter: every body's dates, kind and name, and the successions."""
    bodies = list(
        Body.objects.order_by("code").values_list(
            "code", "name", "kind", "valid_from", "valid_until"
        )
    )
    successions = list(
        BodySuccession.objects.values_list("predecessor__code", "successor__code", "on")
    )
    return bodies, successions


def _apply(rows=CHANGES, filename="utf-8.csv"):
    report = import_body_changes(FILES[filename](rows), filename, dry_run=False)
    assert report.ok, report.errors
    return report


def _open(fiscal_year, national_admin, guideline):
    return survey_round_open(
        guideline=guideline,
        fiscal_year=fiscal_year,
        due_on=datetime.date(fiscal_year, 9, 30),
        scope=Scope.ALL,
        user=national_admin,
    )


def _test_bodies_of(survey_round: SurveyRound) -> set[str]:
    codes = Assessment.objects.filter(survey_round=survey_round).values_list(
        "body__code", flat=True
    )
    return set(codes) & TEST_CODES


@pytest.mark.parametrize("filename", FILES)
def test_the_change_list_ends_bodies_and_links_them_to_their_successors(past_registry, filename):
    report = _apply(filename=filename)
    assert (report.new, report.updated, report.unchanged) == (1, 5, 0)  # 4 ended, 1 kind change
    south, north, east, city, new_city = (
        Body.objects.get(code=c) for c in (SOUTH, NORTH, EAST, CITY, NEW_CITY)
    )
    assert south.valid_until == north.valid_until == datetime.date(2006, 2, 28)
    assert east.valid_until == new_city.valid_until == datetime.date(2010, 3, 22)
    assert (new_city.valid_from, new_city.name, new_city.name_kana, new_city.kind) == (
        datetime.date(2006, 3, 1),
        "新試験市",
        "シンシケンシ",  # ふりがな in hiragana kept in katakana
        Body.Kind.CITY,  # from the name's 市
    )
    assert new_city.prefecture == Body.objects.get(code="010006")
    assert (city.valid_from, city.valid_until, city.kind) == (None, None, Body.Kind.CORE_CITY)
    assert [row[0] for row in report.preview] == [4, 5, 2, 3, 6]  # applied in date order


def test_a_round_of_fy2010_covers_the_bodies_of_2010_04_01(
    past_registry, national_admin, guideline_2003
):
    _apply()
    opened = _open(2010, national_admin, guideline_2003)
    assert _test_bodies_of(opened.survey_round) == {CITY}
    # Today's 1,788 bodies (no dates) and the one test body that still existed then.
    assert opened.created == 1788 + 1
    assert set(
        Assessment.objects.filter(survey_round=opened.survey_round).values_list("body", flat=True)
    ) == set(Body.objects.existing_on(datetime.date(2010, 4, 1)).values_list("pk", flat=True))


def test_a_round_of_fy2005_covers_the_predecessors(past_registry, national_admin, guideline_2003):
    _apply()
    assert _test_bodies_of(_open(2005, national_admin, guideline_2003).survey_round) == {
        SOUTH,
        NORTH,
        CITY,
        EAST,
    }
    assert _test_bodies_of(_open(2006, national_admin, guideline_2003).survey_round) == {
        CITY,
        EAST,
        NEW_CITY,
    }


def test_the_merged_bodies_history_is_reachable_from_the_successor(past_registry):
    _apply()
    city = Body.objects.get(code=CITY)
    assert [(s.on, s.kind, s.predecessor.code, s.successor.code) for s in city.history()] == [
        (datetime.date(2012, 4, 1), BodySuccession.Kind.CORE_CITY, CITY, CITY),
        (datetime.date(2010, 3, 23), BodySuccession.Kind.ABSORPTION, EAST, CITY),
        (datetime.date(2010, 3, 23), BodySuccession.Kind.ABSORPTION, NEW_CITY, CITY),
        (datetime.date(2006, 3, 1), BodySuccession.Kind.NEW_MERGER, SOUTH, NEW_CITY),
        (datetime.date(2006, 3, 1), BodySuccession.Kind.NEW_MERGER, NORTH, NEW_CITY),
    ]
    assert set(city.predecessors.values_list("code", flat=True)) == {NEW_CITY, EAST}
    new_city = Body.objects.get(code=NEW_CITY)
    assert set(new_city.predecessors.values_list("code", flat=True)) == {SOUTH, NORTH}
    assert list(new_city.successor_links.values_list("successor__code", flat=True)) == [CITY]


def test_a_change_of_kind_at_the_same_code_keeps_the_kind_a_past_round_saw(past_registry):
    _apply()
    city = Body.objects.get(code=CITY)
    assert city.kind_on(fiscal_year_start(2010)) == Body.Kind.CITY
    assert city.kind_on(fiscal_year_start(2012)) == Body.Kind.CORE_CITY
    link = BodySuccession.objects.get(predecessor=city, successor=city)
    assert (link.previous_kind, link.previous_name) == (Body.Kind.CITY, "")


def test_statistics_count_the_bodies_of_the_base_date(past_registry, guideline_2003):
    _apply()
    hokkaido = Body.objects.get(code="010006")
    assert tabulate(guideline_2003, 2005, prefecture=hokkaido).denominators[TOTAL] == 180 + 4
    assert tabulate(guideline_2003, 2010, prefecture=hokkaido).denominators[TOTAL] == 180 + 1


def test_statistics_count_each_body_under_the_category_of_the_base_date(
    past_registry, guideline_2003
):
    """試験市 became a 中核市 on 2012-04-01: FY2010's tables count it among その他の市, FY2012's
    among 中核市, and the per-body rows of the statistics agree with Body.kind_on."""
    from assessments.models import MicCategory
    from assessments.models.registry import mic_category_expression

    _apply()
    city = Body.objects.get(code=CITY)
    hokkaido = Body.objects.get(code="010006")
    for year, category in ((2010, MicCategory.OTHER_CITY), (2012, MicCategory.CORE_CITY)):
        day = fiscal_year_start(year)
        assert city.mic_category_on(day) == category
        annotated = Body.objects.annotate(category=mic_category_expression(on=day)).get(pk=city.pk)
        assert annotated.category == category
    before = tabulate(guideline_2003, 2010, prefecture=hokkaido).denominators
    after = tabulate(guideline_2003, 2012, prefecture=hokkaido).denominators
    # The same bodies both years (the mergers were before 2010-04-01); only 試験市 moved.
    assert after[MicCategory.CORE_CITY] == before[MicCategory.CORE_CITY] + 1
    assert after[MicCategory.OTHER_CITY] == before[MicCategory.OTHER_CITY] - 1


def test_loading_the_same_list_again_changes_nothing(past_registry):
    _apply()
    before = _state()
    report = _apply()
    assert (report.new, report.updated, report.unchanged) == (0, 0, 5)
    assert _state() == before


@pytest.mark.parametrize("filename", FILES)
def test_bad_rows_change_nothing_and_name_row_and_column(past_registry, filename):
    before = _state()
    unknown = code("01996")
    rows = [
        *CHANGES[2:4],
        ["2010-03-23", unknown, "北海道", "幻町", CITY, "北海道", "試験市", "", "編入合併"],
        ["2010-02-30", EAST, "北海道", "試験東町", CITY, "北海道", "試験市", "", "編入合併"],
        ["2010-03-23", EAST, "北海道", "試験東町", CITY, "北海道", "試験市", "", "分町"],
    ]
    if filename == "list.xlsx":
        rows = rows[:3] + rows[4:]  # Excel cannot hold 2010-02-30 as a date
    report = import_body_changes(FILES[filename](rows), filename, dry_run=False)
    expected = [(4, "旧団体コード"), (5, "改正年月日"), (6, "改正事由")]
    if filename == "list.xlsx":
        expected = [(4, "旧団体コード"), (5, "改正事由")]
    assert [(e.row, e.column) for e in report.errors] == expected
    assert "登録されていません" in report.errors[0].message
    assert "4行目・列「旧団体コード」" in str(report.errors[0])
    assert "分町" in report.errors[-1].message
    assert _state() == before
    assert (report.new, report.updated, report.preview) == (0, 0, [])


def test_a_cell_error_and_an_application_error_are_both_refused(past_registry):
    before = _state()
    rows = [
        ["2006-03-01", SOUTH, "北海道", "試験南町", NEW_CITY, "北海道", "新試験市", "", "新設合併"],
        [
            "2006-03-01",
            NORTH,
            "北海道",
            "試験西村",
            NEW_CITY,
            "北海道",
            "新試験市",
            "しん",
            "新設合併",
        ],
        ["2009-01-01", SOUTH[:5] + "0", "北海道", "", CITY, "北海道", "", "", "編入合併"],
    ]
    report = import_body_changes(_csv(rows), "x.csv", dry_run=False)
    assert [(e.row, e.column) for e in report.errors] == [
        (2, "新市区町村名カナ"),  # a new body needs its kana
        (3, "旧市区町村名"),  # the name does not match the code
        (4, "旧団体コード"),  # a wrong check digit, found while reading the cell
    ]
    assert "試験北村" in report.errors[1].message
    assert "6桁目は" in report.errors[2].message
    assert _state() == before


def test_a_missing_column_is_reported_on_the_header_row(past_registry):
    header = [h for h in HEADER if h != "改正事由"]
    report = import_body_changes(
        _csv([row[:-1] for row in CHANGES], header=header), "x.csv", dry_run=False
    )
    assert [(e.row, e.column) for e in report.errors] == [(1, "改正事由")]


def test_an_absorption_into_an_unknown_body_and_a_body_already_ended_are_refused(past_registry):
    _apply(CHANGES[2:4])
    before = _state()
    rows = [
        ["2010-03-23", EAST, "", "", code("01997"), "", "", "", "編入合併"],
        ["2010-03-23", SOUTH, "", "", CITY, "", "", "", "編入合併"],  # ended in 2006
    ]
    report = import_body_changes(_csv(rows), "x.csv", dry_run=False)
    assert [(e.row, e.column) for e in report.errors] == [(2, "新団体コード"), (3, "旧団体コード")]
    assert "2010-03-23 に存在しません" in report.errors[1].message
    assert _state() == before


def test_a_dry_run_shows_the_changes_and_changes_nothing(past_registry):
    before = _state()
    report = import_body_changes(_csv(CHANGES), "x.csv", dry_run=True)
    assert report.ok and (report.new, report.updated) == (1, 5)
    assert len(report.preview) == 5
    assert _state() == before


def test_the_command_applies_a_change_list_and_refuses_a_bad_one(past_registry, tmp_path):
    path = tmp_path / "kaisei.csv"
    path.write_bytes(_csv(CHANGES, "cp932"))
    out = io.StringIO()
    call_command("load_bodies", "--changes", str(path), "--dry-run", stdout=out)
    assert "（試行）団体: 追加 1・更新 5・変更なし 0" in out.getvalue()
    assert "新設合併" in out.getvalue()
    assert not Body.objects.filter(code=NEW_CITY).exists()
    call_command("load_bodies", "--changes", str(path), stdout=io.StringIO())
    assert Body.objects.get(code=SOUTH).valid_until == datetime.date(2006, 2, 28)

    path.write_bytes(_csv([["2010-03-23", code("01996"), "", "", CITY, "", "", "", "編入合併"]]))
    err = io.StringIO()
    with pytest.raises(CommandError, match="何も取り込みませんでした"):
        call_command("load_bodies", "--changes", str(path), stderr=err)
    assert "2行目・列「旧団体コード」" in err.getvalue()


def test_the_shipped_bodies_exist_today_with_no_dates(db):
    assert Body.objects.count() == 1788
    assert not Body.objects.filter(valid_from__isnull=False).exists()
    assert not Body.objects.filter(valid_until__isnull=False).exists()
    assert not Body.objects.filter(is_special_city=True).exists()  # not shipped: see README
    assert Body.objects.existing_on(datetime.date(2000, 4, 1)).count() == 1788
    assert not BodySuccession.objects.exists()


def test_the_admin_shows_a_bodys_dates_and_history(client, national_admin, past_registry):
    _apply()
    client.force_login(national_admin)
    city = Body.objects.get(code=CITY)
    response = client.get(reverse("admin:assessments_body_change", args=[city.pk]))
    assert response.status_code == 200
    page = response.content.decode()
    assert "新試験市" in page and "試験東町" in page and "編入合併" in page
    response = client.get(reverse("admin:assessments_body_changelist"), {"q": "試験"})
    assert response.status_code == 200
    assert "2006" in response.content.decode()  # 新試験市's dates
    response = client.get(reverse("admin:assessments_bodysuccession_changelist"))
    assert response.status_code == 200
