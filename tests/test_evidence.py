"""Evidence files: content checks, deletion of replaced and orphaned files, the per-body quota."""

import zlib

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from assessments.evidence import active_pdf_content
from assessments.models import Answer
from tests.test_filling import PDF, html_of, section_measures, section_post, section_url

pytestmark = pytest.mark.django_db

EXE = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff" + b"\x00" * 64 + b"PE\x00\x00"
ELF = b"\x7fELF\x02\x01\x01" + b"\x00" * 64
MACHO = b"\xcf\xfa\xed\xfe\x07\x00\x00\x01" + b"\x00" * 64
OPEN_ACTION_PDF = (
    b"%PDF-1.7\n1 0 obj\n<< /Type /Catalog /Pages 2 0 R /OpenAction 3 0 R >>\nendobj\n"
    b"3 0 obj\n<< /S /JavaScript /JS (app.alert\\('hello'\\);) >>\nendobj\n%%EOF\n"
)


@pytest.fixture
def assessment(make_assessment):
    """札幌市 FY2026 (in progress), filled by its staff."""
    return make_assessment("011002", 2026)


@pytest.fixture
def measures(guideline_2003):
    return section_measures(guideline_2003, "II.2")


def post_evidence(client, assessment, measures, name, content, versions=None):
    first = measures[0]
    data = section_post(measures, {first.pk: {"level": "2", "note": "残る入力"}}, versions)
    data[f"m{first.order}-evidence_file"] = SimpleUploadedFile(name, content)
    return client.post(section_url(assessment, "II.2"), data)


def stored_files(media_root) -> list:
    return sorted(p for p in media_root.rglob("*") if p.is_file())


def assert_refused(response, message, media_root):
    html = html_of(response)
    assert response.status_code == 400
    assert message in html and "残る入力" in html  # the existing error path keeps the input
    assert not Answer.objects.exists() and not stored_files(media_root)


# --- Content checks -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "content"),
    [("手順書.txt", EXE), ("集計.csv", ELF), ("readme.txt", MACHO), ("図.png", EXE)],
)
def test_an_executable_is_refused_whatever_its_name(
    client, sapporo_staff, assessment, measures, media_root, name, content
):
    client.force_login(sapporo_staff)
    response = post_evidence(client, assessment, measures, name, content)
    assert_refused(
        response, "プログラム（実行ファイル）は、拡張子にかかわらず添付できません", media_root
    )


def test_a_pdf_that_runs_javascript_when_opened_is_refused(
    client, sapporo_staff, assessment, measures, media_root
):
    client.force_login(sapporo_staff)
    response = post_evidence(client, assessment, measures, "計画書.pdf", OPEN_ACTION_PDF)
    assert_refused(
        response, "開くと動作する内容（/JS, /JavaScript, /OpenAction）を含む PDF", media_root
    )


@pytest.mark.parametrize(
    ("content", "names"),
    [
        (b"%PDF-1.4\n<< /Type /Action /S /Launch /F (cmd.exe) >>", {"/Launch"}),
        (b"%PDF-1.4\n<< /Names << /EmbeddedFiles 4 0 R >> >>", {"/EmbeddedFiles"}),
        (b"%PDF-1.4\n<< /Type /EmbeddedFile >>", {"/EmbeddedFile"}),
        (b"%PDF-1.4\n<< /S /J#61vaScript /JS 5 0 R >>", {"/JavaScript", "/JS"}),  # #61 is "a"
        # Hidden in a compressed object stream.
        (
            b"%PDF-1.5\n5 0 obj\n<< /Type /ObjStm /Filter /FlateDecode >>\nstream\n"
            + zlib.compress(b"<< /OpenAction << /S /JavaScript /JS (x) >> >>")
            + b"\nendstream\nendobj\n",
            {"/OpenAction", "/JavaScript", "/JS"},
        ),
        # Ordinary names that only start like active ones are fine.
        (b"%PDF-1.4\n<< /JSON 1 /Launcher 2 /OpenActionList 3 >>", set()),
    ],
)
def test_active_pdf_content_is_found_escaped_or_compressed(content, names):
    assert active_pdf_content(content) == names


def test_a_plain_pdf_is_still_accepted(client, sapporo_staff, assessment, measures, media_root):
    client.force_login(sapporo_staff)
    response = post_evidence(client, assessment, measures, "計画書.pdf", PDF)
    assert response.status_code == 302
    assert len(stored_files(media_root)) == 1
