"""The registry of bodies: all 1,788, check digits on every way in, all-or-nothing imports."""

import csv
import io

import openpyxl
import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from assessments.codes import check_digit, prefecture_code_of, validate_body_code
from assessments.models import Body
from assessments.registry import import_bodies

HEADER = ["code", "name", "name_kana", "kind", "prefecture_code"]
GOOD_ROWS = [
    ["019992", "試験町", "シケンチョウ", "town", "010006"],  # 01999 → check digit 2
    ["019984", "試験村", "シケンムラ", "村", "010006"],
]
BAD_ROW = ["019991", "誤記町", "ゴキチョウ", "town", "010006"]  # check digit should be 2


def test_all_bodies_are_loaded_by_kind(db):
    counts = {kind: Body.objects.filter(kind=kind).count() for kind in Body.Kind.values}
    assert counts == {
        "prefecture": 47,
        "designated_city": 20,
        "core_city": 62,
        "city": 710,
        "town": 743,
        "village": 183,
        "special_ward": 23,
    }
    assert Body.objects.count() == 1788
    assert Body.objects.filter(prefecture__code="010006").count() == 179


def test_every_shipped_code_passes_the_check_digit(db):
    for code in Body.objects.values_list("code", flat=True):
        validate_body_code(code)


@pytest.mark.parametrize(
    ("code", "name"), [("010006", "北海道"), ("011002", "札幌市"), ("131016", "千代田区")]
)
def test_known_codes(db, code, name):
    assert Body.objects.get(code=code).name == name


def test_prefecture_of_a_body():
    assert prefecture_code_of("011002") == "010006"
    assert prefecture_code_of("131016") == "130001"
    assert check_digit("01999") == 2


def test_a_wrong_check_digit_names_the_expected_digit():
    with pytest.raises(ValidationError) as error:
        validate_body_code("011003")
    assert "6桁目は 2 のはず" in error.value.messages[0]
    assert "011002" in error.value.messages[0]


def test_the_model_refuses_a_wrong_check_digit(db):
    body = Body(
        code="019991",
        name="誤記町",
        name_kana="ゴキチョウ",
        kind="town",
        prefecture=Body.objects.get(code="010006"),
    )
    with pytest.raises(ValidationError) as error:
        body.full_clean()
    assert "6桁目は 2 のはず" in str(error.value.message_dict["code"])


def test_the_admin_form_refuses_a_wrong_check_digit(client, national_admin):
    client.force_login(national_admin)
    hokkaido = Body.objects.get(code="010006")
    response = client.post(
        reverse("admin:assessments_body_add"),
        {
            "code": "019991",
            "name": "誤記町",
            "name_kana": "ゴキチョウ",
            "kind": "town",
            "prefecture": hokkaido.pk,
        },
    )
    assert response.status_code == 200
    assert "6桁目は 2 のはず" in response.content.decode()
    assert not Body.objects.filter(code="019991").exists()


def _csv(rows, encoding="utf-8") -> bytes:
    buffer = io.StringIO()
    csv.writer(buffer).writerows([HEADER, *rows])
    return buffer.getvalue().encode(encoding)


def _xlsx(rows) -> bytes:
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    for row in [HEADER, *rows]:
        sheet.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


FILES = {
    "utf-8.csv": lambda rows: _csv(rows),
    "cp932.csv": lambda rows: _csv(rows, "cp932"),
    "book.xlsx": _xlsx,
}


@pytest.mark.parametrize("filename", FILES)
def test_a_good_file_imports_every_row(db, filename):
    report = import_bodies(FILES[filename](GOOD_ROWS), filename, dry_run=False)
    assert report.ok, report.errors
    assert (report.new, report.updated) == (2, 0)
    assert Body.objects.get(code="019992").name == "試験町"
    assert Body.objects.get(code="019984").kind == Body.Kind.VILLAGE  # 村 accepted as a label


@pytest.mark.parametrize("filename", FILES)
def test_one_bad_row_imports_nothing_and_names_row_and_column(db, filename):
    before = Body.objects.count()
    rows = [GOOD_ROWS[0], BAD_ROW, GOOD_ROWS[1]]
    report = import_bodies(FILES[filename](rows), filename, dry_run=False)
    assert not report.ok
    assert [(e.row, e.column) for e in report.errors] == [(3, "code")]
    assert "6桁目は 2 のはず" in report.errors[0].message
    assert "3行目・列「code」" in str(report.errors[0])
    assert Body.objects.count() == before
    assert not Body.objects.filter(code__in=["019992", "019984"]).exists()


def test_an_unknown_prefecture_and_kind_are_reported(db):
    rows = [["019992", "試験町", "シケンチョウ", "ward", "990009"]]
    report = import_bodies(_csv(rows), "x.csv", dry_run=False)
    columns = {e.column for e in report.errors}
    assert {"kind", "prefecture_code"} <= columns
    assert not Body.objects.filter(code="019992").exists()


def test_a_dry_run_shows_what_would_change_and_changes_nothing(db):
    renamed = ["011002", "札幌市（改）", "サッポロシ", "designated_city", "010006"]
    report = import_bodies(_csv([GOOD_ROWS[0], renamed]), "x.csv", dry_run=True)
    assert report.ok and (report.new, report.updated) == (1, 1)
    assert Body.objects.get(code="011002").name == "札幌市"
    assert not Body.objects.filter(code="019992").exists()


def test_reloading_the_shipped_list_changes_nothing(db):
    from assessments.registry import load_bodies

    report = load_bodies()
    assert report.ok and (report.new, report.updated, report.unchanged) == (0, 0, 1788)


def test_admin_import_with_one_bad_row_imports_nothing(client, national_admin):
    client.force_login(national_admin)
    data = _csv([GOOD_ROWS[0], BAD_ROW], "cp932")
    upload = io.BytesIO(data)
    upload.name = "bodies.csv"
    response = client.post(
        reverse("admin:assessments_body_import"),
        {
            "import_file": upload,
            "format": "0",
            "resource": "0",
        },
    )
    assert response.status_code == 200
    assert "6桁目は 2 のはず" in response.content.decode()
    assert "confirm_form" not in response.context  # no way to confirm a file with errors
    assert not Body.objects.filter(code="019992").exists()


def test_admin_confirmed_imports_roll_back_on_any_invalid_row(rf, national_admin):
    from django.contrib import admin

    body_admin = admin.site._registry[Body]
    kwargs = body_admin.get_import_data_kwargs(request=rf.get("/"))
    assert kwargs["rollback_on_validation_errors"] is True
    assert kwargs["use_transactions"] is True
