"""The offline XLSX questionnaire: download, fill with openpyxl, upload, preview, apply."""

import io
import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from openpyxl import load_workbook

from assessments.models import Answer, AnswerChange, Assessment
from assessments.questionnaire import layout
from assessments.selectors.filling import describe_changes
from tests.test_reports import fill

LEVEL_COL = "E"  # columns: A ref, B title, C guidance, D level descriptions, E level …
REASON_COL, NOTE_COL, DEPT_COL, TARGET_COL, YEAR_COL, PLAN_COL = "F", "G", "H", "I", "J", "K"
FIRST = layout.FIRST_ROW


@pytest.fixture
def sapporo(make_assessment, scored_2003, sapporo_staff):
    """札幌市 FY2026, in progress, every measure answered (levels cycle 0–4, last 該当なし)."""
    assessment = make_assessment("011002", 2026)
    fill(assessment, scored_2003, user=sapporo_staff)
    return assessment


def url(name, assessment):
    return reverse(name, kwargs=assessment.url_kwargs)


def download(client, assessment) -> bytes:
    response = client.get(url("questionnaire_xlsx", assessment))
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    return response.content


def edit(data: bytes, cells: dict[str, object]) -> bytes:
    workbook = load_workbook(io.BytesIO(data))
    sheet = workbook[layout.SHEET]
    for ref, value in cells.items():
        sheet[ref] = value
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def upload(client, assessment, data: bytes, name="answers.xlsx"):
    return client.post(
        url("questionnaire_upload", assessment),
        {"file": SimpleUploadedFile(name, data, content_type="application/octet-stream")},
    )


def snapshot(assessment):
    """What is stored: every answer's fields and version, the assessment's version."""
    answers = list(
        Answer.objects.filter(assessment=assessment)
        .order_by("measure__order")
        .values_list("level", "not_applicable", "note", "target_level", "version")
    )
    assessment.refresh_from_db()
    return answers, assessment.version, AnswerChange.objects.count()


def row_of(scored_2003, index):
    return FIRST + index


# --- Download ----------------------------------------------------------------------------------


def test_download_has_one_protected_row_per_measure_with_dropdowns(
    client, sapporo_viewer, sapporo, scored_2003
):
    client.force_login(sapporo_viewer)  # reading is enough to download
    workbook = load_workbook(io.BytesIO(download(client, sapporo)))
    sheet = workbook[layout.SHEET]
    # Cover rows identify the body, year, guideline and version.
    assert sheet["B2"].value == "札幌市（011002）"
    assert sheet["B3"].value == "2026年度（令和8年度）"
    assert "egov-2003" in sheet["B4"].value and "第1版" in sheet["B5"].value
    refs = [sheet.cell(row=FIRST + i, column=1).value for i in range(len(scored_2003))]
    assert refs == [m.ref for m in scored_2003]
    assert sheet.cell(row=FIRST + len(scored_2003), column=1).value is None
    first = scored_2003[0]
    assert sheet[f"B{FIRST}"].value == first.title_ja
    assert "0:" in sheet[f"D{FIRST}"].value and "4:" in sheet[f"D{FIRST}"].value
    assert sheet[f"{LEVEL_COL}{FIRST}"].value == "0 未着手"
    assert sheet[f"{LEVEL_COL}{FIRST + 3}"].value == "3 全庁的に運用"
    assert sheet[f"{LEVEL_COL}{FIRST + len(scored_2003) - 1}"].value == "該当なし"
    assert sheet[f"{YEAR_COL}{FIRST}"].value == 2027
    # Protection: labels locked, answers unlocked.
    assert sheet.protection.sheet
    assert sheet[f"A{FIRST}"].protection.locked and sheet[f"B{FIRST}"].protection.locked
    for col in (LEVEL_COL, REASON_COL, NOTE_COL, DEPT_COL, TARGET_COL, YEAR_COL, PLAN_COL):
        assert not sheet[f"{col}{FIRST}"].protection.locked, col
    validations = {str(v.sqref): v for v in sheet.data_validations.dataValidation}
    last = FIRST + len(scored_2003) - 1
    level = validations[f"{LEVEL_COL}{FIRST}:{LEVEL_COL}{last}"]
    assert level.type == "list" and "該当なし" in level.formula1 and "0 未着手" in level.formula1
    assert validations[f"{YEAR_COL}{FIRST}:{YEAR_COL}{last}"].type == "whole"
    # The signed metadata sheet is very hidden.
    meta = workbook[layout.META_SHEET]
    assert meta.sheet_state == "veryHidden"
    payload = json.loads(meta["A2"].value)
    assert payload["body"] == "011002" and payload["assessment_version"] == 1
    assert len(payload["rows"]) == len(scored_2003)


def test_download_writes_no_formula_from_user_text(client, sapporo_staff, sapporo, scored_2003):
    Answer.objects.filter(assessment=sapporo, measure=scored_2003[0]).update(
        note='=HYPERLINK("http://evil.example","x")', department="＋81", improvement_plan="@SUM(1)"
    )
    client.force_login(sapporo_staff)
    data = download(client, sapporo)
    sheet = load_workbook(io.BytesIO(data))[layout.SHEET]
    formulas = [c.coordinate for row in sheet.iter_rows() for c in row if c.data_type == "f"]
    assert formulas == []
    assert sheet[f"{NOTE_COL}{FIRST}"].value == '\'=HYPERLINK("http://evil.example","x")'
    assert sheet[f"{DEPT_COL}{FIRST}"].value == "'＋81"
    # Uploading the untouched file changes nothing: the ' we added is not taken as an edit.
    response = upload(client, sapporo, data)
    assert response.status_code == 200
    assert response.context["result"].changes == []


def test_download_query_count_is_fixed(
    client, sapporo_staff, make_assessment, scored_2003, django_assert_num_queries
):
    """Queries: session, user, assessment (access), its score (the cover's 総合点), measures,
    level descriptions, answers (the session is not written) — for 3 answers as for 35."""
    client.force_login(sapporo_staff)
    small = make_assessment("011002", 2026)
    fill(small, scored_2003[:3])
    big = make_assessment("011002", 2025)
    fill(big, scored_2003)
    download(client, small)  # the session's first page stamps its start (a session write)
    for assessment in (small, big):
        with django_assert_num_queries(7):
            download(client, assessment)


# --- Round trip --------------------------------------------------------------------------------


def test_round_trip_previews_exactly_the_edits_then_applies_them(
    client, sapporo_staff, sapporo, scored_2003
):
    client.force_login(sapporo_staff)
    data = download(client, sapporo)
    before = snapshot(sapporo)
    edited = edit(
        data,
        {
            f"{LEVEL_COL}{FIRST}": "3 全庁的に運用",  # 0 → 3
            f"{LEVEL_COL}{FIRST + 1}": 4,  # 1 → 4, typed as a number
            f"{NOTE_COL}{FIRST + 2}": "新しい備考",
            f"{LEVEL_COL}{FIRST + 5}": "該当なし",  # 0 → 該当なし, with a reason
            f"{REASON_COL}{FIRST + 5}": "県が実施しているため",
            f"{YEAR_COL}{FIRST + 6}": "2030",
        },
    )
    response = upload(client, sapporo, edited)
    assert response.status_code == 200, response.context["errors"]
    result = response.context["result"]
    seen = {
        (c.measure.ref, f.key, f.old_display, f.new_display)
        for c in result.changes
        for f in c.fields
    }
    m = scored_2003
    assert seen == {
        (m[0].ref, "level", "0 未着手", "3 全庁的に運用"),
        (m[1].ref, "level", "1 検討・計画中", "4 評価・改善"),
        (m[2].ref, "note", "備考2：庁内で検討を進めている。", "新しい備考"),
        (m[5].ref, "level", "0 未着手", "該当なし"),
        (m[5].ref, "not_applicable_reason", "（空欄）", "県が実施しているため"),
        (m[6].ref, "target_fiscal_year", "2027", "2030"),
    }
    assert not result.conflicts and not result.stale
    page = response.content.decode()
    assert "反映される変更の確認" in page and "3 全庁的に運用" in page
    assert snapshot(sapporo) == before, "the preview saved something"

    response = client.post(
        url("questionnaire_apply", sapporo), {"token": response.context["token"]}
    )
    assert response.status_code == 302
    answers = {a.measure_id: a for a in Answer.objects.filter(assessment=sapporo)}
    assert answers[m[0].pk].level == 3 and answers[m[0].pk].version == 2
    assert answers[m[1].pk].level == 4
    assert answers[m[2].pk].note == "新しい備考"
    assert answers[m[5].pk].not_applicable and answers[m[5].pk].level is None
    assert answers[m[5].pk].not_applicable_reason == "県が実施しているため"
    assert answers[m[6].pk].target_fiscal_year == 2030
    assert answers[m[3].pk].version == 1  # untouched
    sapporo.refresh_from_db()
    assert sapporo.version == 2
    changes = AnswerChange.objects.filter(answer__assessment=sapporo)
    assert changes.count() == 5 and set(changes.values_list("source", flat=True)) == {
        "questionnaire"
    }
    assert changes.get(answer=answers[m[0].pk]).changes == {"level": [0, 3]}
    # 該当なし is recorded with the web forms' field names, so the history view can show it.
    na_change = changes.get(answer=answers[m[5].pk]).changes
    assert na_change == {
        "level": [0, None],
        "not_applicable": [False, True],
        "not_applicable_reason": ["", "県が実施しているため"],
    }
    assert ("該当なし", "該当なしではない", "該当なし") in describe_changes(na_change)
    # The token is used up: applying twice does nothing more.
    client.post(url("questionnaire_apply", sapporo), {"token": "x"})
    sapporo.refresh_from_db()
    assert sapporo.version == 2


def test_a_new_answer_is_created_from_the_file(client, sapporo_staff, make_assessment, scored_2003):
    assessment = make_assessment("011002", 2026)
    client.force_login(sapporo_staff)
    data = edit(download(client, assessment), {f"{LEVEL_COL}{FIRST}": "2 一部実施"})
    response = upload(client, assessment, data)
    client.post(url("questionnaire_apply", assessment), {"token": response.context["token"]})
    answer = Answer.objects.get(assessment=assessment)
    assert (
        answer.measure == scored_2003[0]
        and answer.level == 2
        and answer.updated_by == sapporo_staff
    )
    assert answer.changes.get().source == "questionnaire"


def test_uploading_to_a_not_started_assessment_starts_it(
    client, sapporo_staff, make_assessment, scored_2003
):
    """As a save on the web does: 未着手 becomes 回答中, with the transition recorded."""
    assessment = make_assessment("011002", 2026, status=Assessment.Status.NOT_STARTED)
    client.force_login(sapporo_staff)
    data = edit(download(client, assessment), {f"{LEVEL_COL}{FIRST}": "2 一部実施"})
    response = upload(client, assessment, data)
    assert response.status_code == 200, response.context["errors"]
    assessment.refresh_from_db()
    assert assessment.status == Assessment.Status.NOT_STARTED, "the preview started it"
    response = client.post(
        url("questionnaire_apply", assessment), {"token": response.context["token"]}
    )
    assert response.status_code == 302
    assessment.refresh_from_db()
    assert assessment.status == Assessment.Status.IN_PROGRESS
    transition = assessment.transitions.get()
    assert (transition.from_status, transition.to_status, transition.by) == (
        Assessment.Status.NOT_STARTED,
        Assessment.Status.IN_PROGRESS,
        sapporo_staff,
    )
    assert Answer.objects.get(assessment=assessment, measure=scored_2003[0]).level == 2


# --- Refused files -----------------------------------------------------------------------------


def assert_refused(response, message, before, assessment):
    assert response.status_code == 400
    assert message in response.content.decode()
    assert snapshot(assessment) == before


def test_a_tampered_file_is_refused(client, sapporo_staff, sapporo):
    client.force_login(sapporo_staff)
    data = download(client, sapporo)
    workbook = load_workbook(io.BytesIO(data))
    meta = workbook[layout.META_SHEET]
    payload = json.loads(meta["A2"].value)
    payload["rows"][0]["version"] = 99  # pretend the file is newer than it is
    meta["A2"] = json.dumps(payload, ensure_ascii=False, sort_keys=True)
    out = io.BytesIO()
    workbook.save(out)
    before = snapshot(sapporo)
    assert_refused(upload(client, sapporo, out.getvalue()), "改変されている", before, sapporo)


def test_a_file_without_metadata_is_refused(client, sapporo_staff, sapporo):
    from openpyxl import Workbook

    client.force_login(sapporo_staff)
    out = io.BytesIO()
    Workbook().save(out)
    before = snapshot(sapporo)
    assert_refused(
        upload(client, sapporo, out.getvalue()),
        "ダウンロードした調査票ではありません",
        before,
        sapporo,
    )
    assert_refused(upload(client, sapporo, b"not a zip"), "xlsx", before, sapporo)


def test_another_bodys_or_years_file_is_refused(
    client, sapporo_staff, hakodate_staff, sapporo, make_assessment, scored_2003
):
    hakodate = make_assessment("012025", 2026)
    client.force_login(hakodate_staff)
    hakodate_file = edit(download(client, hakodate), {f"{LEVEL_COL}{FIRST}": 4})
    last_year = make_assessment("011002", 2025)
    client.force_login(sapporo_staff)
    last_year_file = edit(download(client, last_year), {f"{LEVEL_COL}{FIRST}": 4})
    before = snapshot(sapporo)
    assert_refused(upload(client, sapporo, hakodate_file), "別の団体のもの", before, sapporo)
    assert_refused(upload(client, sapporo, last_year_file), "別の年度のもの", before, sapporo)


def test_cell_errors_name_row_and_column_and_change_nothing(client, sapporo_staff, sapporo):
    client.force_login(sapporo_staff)
    data = edit(
        download(client, sapporo),
        {
            f"{LEVEL_COL}{FIRST}": "7",
            f"{LEVEL_COL}{FIRST + 1}": "該当なし",  # no reason
            f"{YEAR_COL}{FIRST + 2}": "来年",
            f"{NOTE_COL}{FIRST + 3}": "=1+1",
            f"{LEVEL_COL}{FIRST + 4}": 3,  # a valid edit: not applied either
        },
    )
    before = snapshot(sapporo)
    response = upload(client, sapporo, data)
    assert response.status_code == 400
    errors = response.context["errors"]
    assert errors[0].startswith(f"{FIRST}行目・列「レベル」: ")
    assert any(e.startswith(f"{FIRST + 1}行目・列「該当なしの理由」") for e in errors)
    assert any(e.startswith(f"{FIRST + 2}行目・列「目標年度」") for e in errors)
    assert any(e.startswith(f"{FIRST + 3}行目・列「備考」: 数式は使えません") for e in errors)
    assert len(errors) == 4
    assert snapshot(sapporo) == before


def test_moved_rows_are_refused(client, sapporo_staff, sapporo, scored_2003):
    client.force_login(sapporo_staff)
    data = edit(download(client, sapporo), {f"A{FIRST}": scored_2003[1].ref})
    response = upload(client, sapporo, data)
    assert response.status_code == 400
    assert f"{FIRST}行目・列「参照番号」" in response.context["errors"][0]


def test_upload_size_is_capped_before_parsing(client, sapporo_staff, sapporo, settings):
    settings.QUESTIONNAIRE_MAX_BYTES = 2048
    client.force_login(sapporo_staff)
    response = upload(client, sapporo, b"0" * 4096)
    assert response.status_code == 400
    assert "大きすぎます" in response.content.decode()


def test_a_zip_bomb_is_refused_before_parsing(client, sapporo_staff, sapporo):
    import zipfile

    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("xl/worksheets/sheet1.xml", b"\0" * (60 * 1024 * 1024))
    client.force_login(sapporo_staff)
    response = upload(client, sapporo, out.getvalue())
    assert response.status_code == 400
    assert "展開後のサイズが大きすぎます" in response.content.decode()


# --- Stale files and conflicts -----------------------------------------------------------------


def web_edit(assessment, measure, **fields):
    """Someone saves an answer on the web after the file was downloaded."""
    from django.db.models import F

    Answer.objects.filter(assessment=assessment, measure=measure).update(
        **fields, version=F("version") + 1
    )
    Assessment.objects.filter(pk=assessment.pk).update(version=F("version") + 1)


def test_a_stale_file_needs_confirmation_per_conflicting_measure(
    client, sapporo_staff, sapporo, scored_2003
):
    client.force_login(sapporo_staff)
    data = download(client, sapporo)
    m = scored_2003
    web_edit(sapporo, m[0], level=2)  # the file will also change m[0]: a conflict
    web_edit(sapporo, m[1], note="ウェブで追記")  # the file does not touch m[1]'s note
    edited = edit(data, {f"{LEVEL_COL}{FIRST}": 4, f"{LEVEL_COL}{FIRST + 1}": 3})
    response = upload(client, sapporo, edited)
    assert response.status_code == 200
    result = response.context["result"]
    assert result.stale
    assert [c.measure.ref for c in result.conflicts] == [m[0].ref]
    conflict = result.conflicts[0].fields[0]
    assert (conflict.old_display, conflict.new_display) == ("2 一部実施", "4 評価・改善")
    assert "競合" in response.content.decode()
    # m[1]: only the level is changed; the web's newer note is kept, not reverted.
    assert [(f.key) for f in result.changes[1].fields] == ["level"]

    before = snapshot(sapporo)
    token = response.context["token"]
    response = client.post(url("questionnaire_apply", sapporo), {"token": token})
    assert response.status_code == 400
    assert snapshot(sapporo) == before, "applied without confirming the conflict"

    response = client.post(
        url("questionnaire_apply", sapporo), {"token": token, "confirm": [str(m[0].pk)]}
    )
    assert response.status_code == 302
    answers = {a.measure_id: a for a in Answer.objects.filter(assessment=sapporo)}
    assert answers[m[0].pk].level == 4
    assert answers[m[1].pk].level == 3 and answers[m[1].pk].note == "ウェブで追記"


def test_a_missing_confirmation_shows_the_same_preview_again_with_ticked_boxes_kept(
    client, sapporo_staff, sapporo, scored_2003
):
    client.force_login(sapporo_staff)
    data = download(client, sapporo)
    m = scored_2003
    web_edit(sapporo, m[0], level=2)
    web_edit(sapporo, m[2], level=1)
    edited = edit(
        data, {f"{LEVEL_COL}{FIRST}": 4, f"{LEVEL_COL}{FIRST + 1}": 3, f"{LEVEL_COL}{FIRST + 2}": 4}
    )
    first = upload(client, sapporo, edited)
    token = first.context["token"]
    before = snapshot(sapporo)

    response = client.post(
        url("questionnaire_apply", sapporo), {"token": token, "confirm": [str(m[0].pk)]}
    )
    assert response.status_code == 400
    assert snapshot(sapporo) == before
    html = response.content.decode()
    assert "1件未確認" in html
    shown = response.context["result"]
    assert [(c.measure.ref, c.row, c.conflict) for c in shown.changes] == [
        (c.measure.ref, c.row, c.conflict) for c in first.context["result"].changes
    ]
    assert [(f.old_display, f.new_display) for c in shown.changes for f in c.fields] == [
        ("2 一部実施", "4 評価・改善"),
        ("1 検討・計画中", "3 全庁的に運用"),
        ("1 検討・計画中", "4 評価・改善"),
    ]
    assert shown.stale and response.context["token"] == token
    assert f'id="confirm-{m[0].pk}" required checked' in html
    assert f'id="confirm-{m[2].pk}" required>' in html

    response = client.post(
        url("questionnaire_apply", sapporo),
        {"token": token, "confirm": [str(m[0].pk), str(m[2].pk)]},
    )
    assert response.status_code == 302
    levels = dict(Answer.objects.filter(assessment=sapporo).values_list("measure_id", "level"))
    assert (levels[m[0].pk], levels[m[1].pk], levels[m[2].pk]) == (4, 3, 4)


def test_a_change_between_preview_and_apply_rolls_everything_back(
    client, sapporo_staff, sapporo, scored_2003
):
    client.force_login(sapporo_staff)
    m = scored_2003
    edited = edit(
        download(client, sapporo), {f"{LEVEL_COL}{FIRST}": 4, f"{LEVEL_COL}{FIRST + 1}": 4}
    )
    response = upload(client, sapporo, edited)
    web_edit(sapporo, m[1], level=2)  # after the preview
    before = snapshot(sapporo)
    response = client.post(
        url("questionnaire_apply", sapporo), {"token": response.context["token"]}, follow=True
    )
    assert (
        "ほかの人が" in response.content.decode()
        and "何も変更していません" in response.content.decode()
    )
    assert snapshot(sapporo) == before
    assert Answer.objects.get(assessment=sapporo, measure=m[0]).level == 0


def test_submitted_assessment_cannot_be_uploaded_to(
    client, sapporo_staff, make_assessment, scored_2003
):
    assessment = make_assessment("011002", 2026, status=Assessment.Status.SUBMITTED)
    client.force_login(sapporo_staff)
    data = download(client, assessment)
    assert upload(client, assessment, data).status_code == 403
    assert client.get(url("questionnaire_upload", assessment)).status_code == 403


def test_upload_page_query_count(client, sapporo_staff, sapporo, django_assert_num_queries):
    """Queries on the preview: session, user, assessment, measures (in bulk), answers, then the
    session save (savepoint, update, release)."""
    client.force_login(sapporo_staff)
    data = edit(download(client, sapporo), {f"{LEVEL_COL}{FIRST}": 4})
    with django_assert_num_queries(8):
        assert upload(client, sapporo, data).status_code == 200
