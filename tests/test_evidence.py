"""Evidence files: content checks, deletion of replaced and orphaned files, the per-body quota."""

import zlib

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command

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
    return section_measures(guideline_2003, "II.5")  # a section of four, weight 1 each


def post_evidence(client, assessment, measures, name, content, versions=None):
    first = measures[0]
    data = section_post(measures, {first.pk: {"level": "2", "note": "残る入力"}}, versions)
    data[f"m{first.order}-evidence_file"] = SimpleUploadedFile(name, content)
    return client.post(section_url(assessment, "II.5"), data)


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


# --- Replaced and orphaned files ------------------------------------------------------------------


def answer_of(assessment, measure) -> Answer:
    return Answer.objects.get(assessment=assessment, measure=measure)


def test_a_replaced_file_is_deleted_once_the_replacement_is_committed(
    client, sapporo_staff, assessment, measures, media_root, django_capture_on_commit_callbacks
):
    client.force_login(sapporo_staff)
    with django_capture_on_commit_callbacks(execute=True):
        assert post_evidence(client, assessment, measures, "旧.pdf", PDF).status_code == 302
    old = media_root / answer_of(assessment, measures[0]).evidence_file.name
    assert old.exists()
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        response = post_evidence(
            client, assessment, measures, "新.pdf", PDF + b"v2", {measures[0].pk: 1}
        )
    assert response.status_code == 302 and callbacks
    stored = answer_of(assessment, measures[0])
    assert stored.evidence_name == "新.pdf"
    assert stored_files(media_root) == [media_root / stored.evidence_file.name]
    assert not old.exists()


def test_a_refused_replacement_keeps_the_old_file(
    client, sapporo_staff, assessment, measures, media_root, django_capture_on_commit_callbacks
):
    client.force_login(sapporo_staff)
    with django_capture_on_commit_callbacks(execute=True):
        post_evidence(client, assessment, measures, "旧.pdf", PDF)
    old = stored_files(media_root)
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        # Version 0: a colleague's save (version 1) is newer, so nothing is saved (409).
        response = post_evidence(client, assessment, measures, "新.pdf", PDF + b"v2")
    assert response.status_code == 409 and not callbacks
    assert stored_files(media_root) == old
    assert answer_of(assessment, measures[0]).evidence_name == "旧.pdf"


def orphan(media_root, name: str, content: bytes = b"orphan", age_minutes: int = 120):
    import os
    import time

    path = media_root / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(content)
    then = time.time() - age_minutes * 60
    os.utime(path, (then, then))
    return path


def test_cleanup_lists_orphans_by_default_and_deletes_them_with_delete(
    client, sapporo_staff, assessment, measures, media_root, capsys
):
    client.force_login(sapporo_staff)
    post_evidence(client, assessment, measures, "使用中.pdf", PDF)
    in_use = media_root / answer_of(assessment, measures[0]).evidence_file.name
    old = orphan(media_root, "evidence/011002/2025/0123abcd.pdf", b"x" * 2000)
    deleted_body = orphan(media_root, "evidence/012025/2024/4567ef.txt")
    young = orphan(media_root, "evidence/011002/2026/89ab.pdf", age_minutes=5)  # may be mid-save
    elsewhere = orphan(media_root, "cache/other.bin")  # not evidence: never touched

    call_command("cleanup_orphaned_files")
    out = capsys.readouterr().out
    assert "would delete: evidence/011002/2025/0123abcd.pdf" in out
    assert "would delete: evidence/012025/2024/4567ef.txt" in out
    assert "2 orphaned file(s)" in out and "--delete" in out
    assert all(p.exists() for p in (in_use, old, deleted_body, young, elsewhere))

    call_command("cleanup_orphaned_files", "--delete")
    out = capsys.readouterr().out
    assert "deleted: evidence/011002/2025/0123abcd.pdf" in out
    assert not old.exists() and not deleted_body.exists()
    assert in_use.exists() and young.exists() and elsewhere.exists()
    assert answer_of(assessment, measures[0]).evidence_file.name == str(
        in_use.relative_to(media_root)
    )


def test_cleanup_without_any_evidence_directory(media_root, capsys):
    call_command("cleanup_orphaned_files", "--delete")
    assert "0 orphaned file(s)" in capsys.readouterr().out


# --- Quota ----------------------------------------------------------------------------------------


def test_a_body_over_its_evidence_quota_gets_a_clear_message_and_nothing_is_stored(
    client, sapporo_staff, assessment, measures, media_root, settings
):
    settings.EVIDENCE_QUOTA_BYTES = 3000
    client.force_login(sapporo_staff)
    first = PDF + b"x" * 2000
    assert post_evidence(client, assessment, measures, "一つ目.pdf", first).status_code == 302
    before = stored_files(media_root)
    # A second file, for another measure: 2,000 + 2,000 bytes is over 3,000.
    second = measures[1]
    data = section_post(
        measures, {second.pk: {"level": "3", "note": "二つ目"}}, {measures[0].pk: 1}
    )
    data |= {
        f"m{measures[0].order}-level": "2",
        f"m{second.order}-evidence_file": SimpleUploadedFile("二つ目.pdf", PDF + b"y" * 2000),
    }
    response = client.post(section_url(assessment, "II.5"), data)
    html = html_of(response)
    assert response.status_code == 400
    assert "札幌市の根拠資料ファイルの保存容量（上限 2.9\xa0KB）を超えるため添付できません" in html
    assert f'href="#id_m{second.order}-evidence_file"' in html and "二つ目" in html
    assert stored_files(media_root) == before
    assert not Answer.objects.filter(assessment=assessment, measure=second).exists()
    # Replacing the first file frees its room: the same size fits again.
    response = post_evidence(
        client, assessment, measures, "差し替え.pdf", PDF + b"z" * 2000, {measures[0].pk: 1}
    )
    assert response.status_code == 302
    assert answer_of(assessment, measures[0]).evidence_name == "差し替え.pdf"


def test_no_quota_when_the_setting_is_zero(
    client, sapporo_staff, assessment, measures, media_root, settings
):
    settings.EVIDENCE_QUOTA_BYTES = 0
    client.force_login(sapporo_staff)
    assert post_evidence(client, assessment, measures, "a.pdf", PDF * 100).status_code == 302


def test_a_storage_error_while_deleting_the_old_file_keeps_the_new_one(
    client,
    sapporo_staff,
    assessment,
    measures,
    media_root,
    django_capture_on_commit_callbacks,
    monkeypatch,
):
    from assessments import answers

    client.force_login(sapporo_staff)
    with django_capture_on_commit_callbacks(execute=True):
        post_evidence(client, assessment, measures, "旧.pdf", PDF)

    def broken(names):
        raise OSError("storage unavailable")

    monkeypatch.setattr(answers, "_delete_replaced", broken)
    with django_capture_on_commit_callbacks(execute=True):
        response = post_evidence(
            client, assessment, measures, "新.pdf", PDF + b"v2", {measures[0].pk: 1}
        )
    assert response.status_code == 302
    stored = answer_of(assessment, measures[0])
    assert stored.evidence_name == "新.pdf" and (media_root / stored.evidence_file.name).exists()
