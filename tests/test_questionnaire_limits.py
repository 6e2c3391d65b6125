"""A dense questionnaire is refused by a streaming read, before openpyxl loads anything.

The file of the issue: ~130 KB holding 3.35 million `<c><v>1</v></c>` cells (50 MB of XML,
under the 2 MiB upload cap and the 50 MiB unpacked cap) took 27 s and 1.3 GB in load_workbook.
"""

import io
import random
import tracemalloc
import zipfile

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from assessments import spreadsheets
from assessments.models import AnswerChange
from assessments.spreadsheets import SpreadsheetError, check_xlsx

MB = 1024 * 1024
CONTENT_TYPES = (
    '<?xml version="1.0" encoding="UTF-8"?>'
    '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
    '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
    '<Default Extension="xml" ContentType="application/xml"/>'
    '<Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
    '<Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
    "</Types>"
)
RELS = (
    '<?xml version="1.0" encoding="UTF-8"?>'
    '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/>'
    "</Relationships>"
)
WORKBOOK = (
    '<?xml version="1.0" encoding="UTF-8"?>'
    '<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
    'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">'
    '<sheets><sheet name="回答" sheetId="1" r:id="rId1"/></sheets></workbook>'
)
WORKBOOK_RELS = (
    '<?xml version="1.0" encoding="UTF-8"?>'
    '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/>'
    "</Relationships>"
)


def xlsx_with_sheet(rows, dimension: str | None = None) -> bytes:
    """A minimal workbook whose sheet XML is written row by row (never whole in memory)."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        archive.writestr("[Content_Types].xml", CONTENT_TYPES)
        archive.writestr("_rels/.rels", RELS)
        archive.writestr("xl/workbook.xml", WORKBOOK)
        archive.writestr("xl/_rels/workbook.xml.rels", WORKBOOK_RELS)
        with archive.open("xl/worksheets/sheet1.xml", "w", force_zip64=True) as sheet:
            sheet.write(
                b'<?xml version="1.0" encoding="UTF-8"?><worksheet '
                b'xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
            )
            if dimension:
                sheet.write(f'<dimension ref="{dimension}"/>'.encode())
            sheet.write(b"<sheetData>")
            for number, cells in enumerate(rows, start=1):
                sheet.write(f'<row r="{number}">'.encode() + cells + b"</row>")
            sheet.write(b"</sheetData></worksheet>")
    return out.getvalue()


@pytest.fixture(scope="module")
def dense_file() -> bytes:
    """3.35 million cells in 3,350 rows of 1,000, unnamed (as the issue's file)."""
    return xlsx_with_sheet(b"<c><v>1</v></c>" * 1000 for _ in range(3350))


def sheet_size(data: bytes) -> int:
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        return archive.getinfo("xl/worksheets/sheet1.xml").file_size


@pytest.fixture
def sapporo(make_assessment):
    return make_assessment("011002", 2026)


def warm_up(client, assessment) -> None:
    """Load the view's templates and translations first: the measure is of the upload only."""
    assert upload(client, assessment, b"not a zip").status_code == 400


def upload(client, assessment, data: bytes):
    return client.post(
        reverse("questionnaire_upload", kwargs=assessment.url_kwargs),
        {"file": SimpleUploadedFile("answers.xlsx", data)},
    )


def peak_memory_of(call) -> tuple[object, int]:
    """What `call()` returns, and the most memory Python held above the start while it ran."""
    tracemalloc.start()
    try:
        tracemalloc.reset_peak()
        baseline = tracemalloc.get_traced_memory()[0]
        result = call()
        return result, tracemalloc.get_traced_memory()[1] - baseline
    finally:
        tracemalloc.stop()


def test_the_dense_file_is_the_issues_file(dense_file):
    assert len(dense_file) < 200 * 1024  # under the 2 MiB upload cap by far
    print(
        f"\ndense file: {len(dense_file) / 1024:.0f} KB, sheet XML {sheet_size(dense_file) / MB:.1f} MiB"
    )
    assert 45 * MB < sheet_size(dense_file) < spreadsheets.XLSX_MAX_UNCOMPRESSED


def test_the_dense_questionnaire_is_refused_with_bounded_memory(
    client, sapporo_staff, sapporo, dense_file
):
    client.force_login(sapporo_staff)
    warm_up(client, sapporo)
    changes = AnswerChange.objects.count()
    response, peak = peak_memory_of(lambda: upload(client, sapporo, dense_file))
    assert response.status_code == 400
    assert "圧縮率が異常に高い" in response.content.decode()
    assert peak < 100 * MB, f"peak {peak / MB:.1f} MB above the baseline"
    assert AnswerChange.objects.count() == changes
    print(f"\npeak memory of the refused upload: {peak / MB:.2f} MB")


def test_without_the_ratio_check_the_streaming_count_refuses_it(
    client, sapporo_staff, sapporo, dense_file, monkeypatch
):
    """The cell count is the real bound: a bomb made less compressible still meets it."""
    monkeypatch.setattr(spreadsheets, "_RATIO_FLOOR", 10**12)
    client.force_login(sapporo_staff)
    warm_up(client, sapporo)
    response, peak = peak_memory_of(lambda: upload(client, sapporo, dense_file))
    assert response.status_code == 400
    assert "セルが多すぎます（上限 20,000 セル）" in response.content.decode()
    assert peak < 100 * MB, f"peak {peak / MB:.1f} MB above the baseline"
    print(f"\npeak memory, refused by the cell count: {peak / MB:.2f} MB")


def test_a_file_of_ordinary_density_over_the_cell_limit_is_refused():
    rng = random.Random(14)
    rows = (
        b"".join(f"<c><v>{rng.randrange(10**9)}</v></c>".encode() for _ in range(30))
        for _ in range(1000)
    )
    data = xlsx_with_sheet(rows)
    with pytest.raises(SpreadsheetError, match="上限 20,000 セル"):
        check_xlsx(data, spreadsheets.XlsxLimits(max_cells=20_000))
    check_xlsx(data)  # the account import's limit (200,000) lets it through


def test_a_declared_dimension_beyond_the_limits_is_refused_before_counting():
    huge = xlsx_with_sheet([b"<c><v>1</v></c>"], dimension="A1:XFD1048576")
    with pytest.raises(SpreadsheetError, match="行が多すぎます"):
        check_xlsx(huge)
    wide = xlsx_with_sheet([b"<c><v>1</v></c>"], dimension="A1:ZZ10")
    with pytest.raises(SpreadsheetError, match="列が多すぎます（702 列、上限 200 列）"):
        check_xlsx(wide)


def test_rows_are_counted_too():
    data = xlsx_with_sheet(b"" for _ in range(3000))
    with pytest.raises(SpreadsheetError, match="上限 2,000 行"):
        check_xlsx(data, spreadsheets.XlsxLimits(max_rows=2000))


def test_the_signature_is_verified_before_the_file_is_parsed(
    client, sapporo_staff, sapporo, monkeypatch
):
    """A file that is not ours (no signed metadata) never reaches the full load."""
    from openpyxl import Workbook

    from assessments.questionnaire import upload as questionnaire_upload

    full_loads = []
    real = questionnaire_upload.load_workbook

    def spy(*args, **kwargs):
        if not kwargs.get("read_only"):
            full_loads.append(args)
        return real(*args, **kwargs)

    monkeypatch.setattr(questionnaire_upload, "load_workbook", spy)
    out = io.BytesIO()
    Workbook().save(out)
    client.force_login(sapporo_staff)
    response = upload(client, sapporo, out.getvalue())
    assert response.status_code == 400
    assert "ダウンロードした調査票ではありません" in response.content.decode()
    assert full_loads == []


def test_account_and_registry_imports_refuse_the_dense_file_too(dense_file):
    """Both read XLSX through read_dataset (the admin's import through SafeXLSX alike)."""
    with pytest.raises(SpreadsheetError, match="圧縮率"):
        spreadsheets.read_dataset(dense_file, "accounts.xlsx")
    with pytest.raises(SpreadsheetError, match="圧縮率"):
        spreadsheets.SafeXLSX().create_dataset(dense_file)


def test_real_questionnaires_are_a_tenth_of_the_limits(make_assessment, guideline_2003):
    """Every guideline's questionnaire, fully answered, has a tenth of the cells and rows refused."""
    from assessments.models import Guideline
    from assessments.questionnaire.build import build_questionnaire
    from assessments.questionnaire.upload import QUESTIONNAIRE_LIMITS
    from tests.test_reports import fill

    tenth = spreadsheets.XlsxLimits(
        max_cells=QUESTIONNAIRE_LIMITS["max_cells"] // 10,
        max_rows=QUESTIONNAIRE_LIMITS["max_rows"] // 10,
        max_columns=11,  # the questionnaire's own columns (A–K): the limit leaves room for 30
    )
    for guideline in Guideline.objects.all():
        assessment = make_assessment("011002", 2026, guideline=guideline)
        measures = list(guideline.measures.filter(is_scored=True).order_by("order"))
        fill(assessment, measures)
        check_xlsx(build_questionnaire(assessment), tenth)
