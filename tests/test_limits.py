"""Every free-text field has a maximum length, refused with the same message by every path:
the section form, autosave and the questionnaire upload; nothing is stored when it is refused.

Personas (tests/conftest.py): sapporo_staff fills 札幌市's FY2026 assessment.
"""

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone

from assessments import answers
from assessments.limits import ANSWER_TEXT_MAX_LENGTHS, ANSWER_TEXT_MAX_LINES
from assessments.models import Answer, AnswerChange
from tests.test_filling import (
    fields,
    html_of,
    measure_url,
    section_measures,
    section_post,
    section_url,
)
from tests.test_questionnaire import NOTE_COL, download, edit, snapshot, upload
from tests.test_reports import fill

LIMIT = ANSWER_TEXT_MAX_LENGTHS["note"]
TOO_LONG = "あ" * (LIMIT + 1)
MESSAGE = f"{LIMIT}文字以内で入力してください（現在 {LIMIT + 1}文字）。"
LINES = ANSWER_TEXT_MAX_LINES["note"]
# Too many characters, or few characters on too many lines (each line is laid out in the PDF).
OVER = {
    "characters": (TOO_LONG, MESSAGE),
    "lines": (
        "あ\r\n" * LINES + "あ",
        f"改行は{LINES}行以内にしてください（現在 {LINES + 1}行）。",
    ),
}


@pytest.fixture(params=sorted(OVER))
def over(request):
    """(a note over a limit, the message that refuses it)"""
    return OVER[request.param]


@pytest.fixture
def assessment(make_assessment):
    return make_assessment("011002", 2026)


def test_the_section_form_refuses_a_note_over_the_limit(
    client, sapporo_staff, assessment, over, guideline_2003
):
    measures = section_measures(guideline_2003, "II.3")
    client.force_login(sapporo_staff)
    response = client.post(
        section_url(assessment, "II.3"),
        section_post(measures, {measures[0].pk: {"level": "2", "note": over[0]}}),
    )
    assert response.status_code == 400
    assert over[1] in html_of(response)
    assert not Answer.objects.filter(assessment=assessment).exists()


def test_autosave_refuses_a_note_over_the_limit(
    client, sapporo_staff, assessment, over, scored_2003
):
    measure = scored_2003[0]
    client.force_login(sapporo_staff)
    response = client.post(
        measure_url("answer_autosave", assessment, measure.ref),
        fields(measure, level="2", note=over[0]),
    )
    assert response.status_code == 400
    body = response.json()
    assert body["errors"] == {"note": [over[1]]} and over[1] in body["message"]
    assert not Answer.objects.filter(assessment=assessment).exists()
    assert not AnswerChange.objects.exists()


def test_the_questionnaire_refuses_a_note_over_the_limit(
    client, sapporo_staff, assessment, over, scored_2003
):
    fill(assessment, scored_2003, user=sapporo_staff)
    client.force_login(sapporo_staff)
    first = 10  # the questionnaire's first answer row
    data = edit(download(client, assessment), {f"{NOTE_COL}{first}": over[0]})
    before = snapshot(assessment)
    response = upload(client, assessment, data)
    assert response.status_code == 400
    assert any(
        e.startswith(f"{first}行目・列「備考」") and e.endswith(over[1])
        for e in response.context["errors"]
    )
    assert snapshot(assessment) == before


def test_the_save_service_refuses_it_too(sapporo_staff, assessment, over, scored_2003):
    """A path that skips the forms still meets the model's limit (full_clean)."""
    with pytest.raises(ValidationError) as refused:
        answers.answer_save(
            assessment=assessment,
            measure=scored_2003[0],
            user=sapporo_staff,
            data={"level": 1, "note": over[0]},
            expected_version=0,
        )
    assert over[1] in refused.value.messages
    assert not Answer.objects.filter(assessment=assessment).exists()


@pytest.mark.parametrize(
    "name", ["not_applicable_reason", "department", "improvement_plan", "note"]
)
def test_every_text_field_of_an_answer_has_a_limit_in_the_form(
    client, sapporo_staff, assessment, scored_2003, name
):
    measure = scored_2003[0]
    limit = ANSWER_TEXT_MAX_LENGTHS[name]
    client.force_login(sapporo_staff)
    values = {"level": "1", name: "x" * (limit + 1)}
    response = client.post(
        measure_url("answer_autosave", assessment, measure.ref), fields(measure, **values)
    )
    assert response.status_code == 400 and name in response.json()["errors"]
    page = client.get(section_url(assessment, measure.section.ref))
    assert f'maxlength="{limit}"' in page.content.decode()


# --- What autosave answers when it cannot save ---------------------------------------------------


def test_autosave_answers_401_json_when_the_session_is_gone(client, assessment, scored_2003):
    """Not a redirect to the login page: the script keeps the text and explains what to do."""
    measure = scored_2003[0]
    response = client.post(
        measure_url("answer_autosave", assessment, measure.ref), fields(measure, note="残す")
    )
    assert response.status_code == 401
    assert response.json()["reason"] == "login"
    assert not Answer.objects.exists()


def test_autosave_answers_403_json_when_the_assessment_was_submitted(
    client, sapporo_staff, make_assessment, scored_2003
):
    submitted = make_assessment("011002", 2026, status="submitted")
    measure = scored_2003[0]
    client.force_login(sapporo_staff)
    response = client.post(
        measure_url("answer_autosave", submitted, measure.ref), fields(measure, note="残す")
    )
    assert response.status_code == 403
    assert response.json()["reason"] == "locked"
    assert "提出済みまたは承認済み" in response.json()["message"]
    assert not Answer.objects.exists()


def test_autosave_of_another_body_is_still_404(client, hakodate_staff, assessment, scored_2003):
    measure = scored_2003[0]
    client.force_login(hakodate_staff)
    response = client.post(
        measure_url("answer_autosave", assessment, measure.ref), fields(measure, note="x")
    )
    assert response.status_code == 404


def test_target_level_and_year_must_make_sense(client, sapporo_staff, assessment, scored_2003):
    from assessments.fiscal_year import current_fiscal_year

    measure = scored_2003[0]
    client.force_login(sapporo_staff)
    url = measure_url("answer_autosave", assessment, measure.ref)
    body = client.post(
        url,
        fields(measure, level="3", target_level="2", target_fiscal_year=current_fiscal_year() - 1),
    ).json()
    assert body["errors"]["target_level"] == ["目標レベルは現在のレベル以上を選んでください。"]
    assert "今年度" in body["errors"]["target_fiscal_year"][0]
    assert not Answer.objects.exists()
    ok = client.post(
        url, fields(measure, level="3", target_level="4", target_fiscal_year=current_fiscal_year())
    )
    assert ok.json()["ok"]


# --- History: the true source of each change, no storage path, paginated ------------------------


def test_history_names_the_questionnaire_and_never_a_storage_path(
    client, sapporo_staff, assessment, scored_2003
):
    from django.core.files.uploadedfile import SimpleUploadedFile

    fill(assessment, scored_2003, user=sapporo_staff)
    measure = scored_2003[0]
    client.force_login(sapporo_staff)
    first = 10
    data = edit(download(client, assessment), {f"{NOTE_COL}{first}": "調査票で直した"})
    token = upload(client, assessment, data).context["token"]
    client.post(reverse("questionnaire_apply", kwargs=assessment.url_kwargs), {"token": token})
    version = Answer.objects.get(assessment=assessment, measure=measure).version
    answers.answer_save(  # what the section form's save does with an uploaded file
        assessment=assessment,
        measure=measure,
        user=sapporo_staff,
        data={"level": 1},
        expected_version=version,
        evidence_upload=SimpleUploadedFile("監査報告書.pdf", b"%PDF-1.4\n"),
    )
    stored = Answer.objects.get(assessment=assessment, measure=measure)
    assert stored.evidence_file.name.startswith("evidence/")
    html = html_of(client.get(measure_url("answer_history", assessment, measure.ref)))
    assert "調査票（Excel）の取込み" in html and "調査票で直した" in html
    assert "画面から保存" in html and "監査報告書.pdf" in html
    assert stored.evidence_file.name not in html and "evidence/" not in html


def test_history_is_paginated(client, sapporo_staff, assessment, scored_2003):
    measure = scored_2003[0]
    client.force_login(sapporo_staff)
    url = measure_url("answer_autosave", assessment, measure.ref)
    for version in range(55):
        client.post(url, fields(measure, version=version, level=str(version % 5)))
    history = measure_url("answer_history", assessment, measure.ref)
    assert html_of(client.get(history)).count("自動保存") == 50
    assert html_of(client.get(history + "?page=2")).count("自動保存") == 5


# --- A returned assessment shows why, and what to fix, until resubmitted ------------------------


def test_returned_assessment_shows_the_reason_and_the_fixes_until_resolved(
    client, sapporo_staff, hokkaido_reviewer, assessment, scored_2003
):
    from assessments.models import AssessmentTransition, ReviewComment

    measure = scored_2003[4]
    Answer.objects.create(assessment=assessment, measure=measure, level=1)
    type(assessment).objects.filter(pk=assessment.pk).update(status="returned")
    AssessmentTransition.objects.create(
        assessment=assessment,
        from_status="submitted",
        to_status="returned",
        by=hokkaido_reviewer,
        comment="根拠資料を添付してください",
    )
    ReviewComment.objects.create(
        assessment=assessment,
        measure=measure,
        author=hokkaido_reviewer,
        body="計画書が必要です",
        needs_fix=True,
    )
    client.force_login(sapporo_staff)
    html = html_of(client.get(assessment.get_absolute_url()))
    top = html.index("差し戻されました")
    assert top < html.index("項目ごとの回答")  # at the top, not at the bottom in the log
    assert "根拠資料を添付してください" in html and "計画書が必要です" in html
    assert f"sections/{measure.section.ref}/#measure-{measure.order}" in html
    page = html_of(client.get(section_url(assessment, measure.section.ref)))
    assert page.count("要修正") >= 3  # navigation, the measure's heading, the comment
    ReviewComment.objects.update(resolved_at=timezone.now())
    html = html_of(client.get(assessment.get_absolute_url()))
    assert "計画書が必要です" not in html


# --- Start: only what makes sense ----------------------------------------------------------------


def test_home_offers_only_guidelines_without_an_assessment_this_year(
    client, sapporo_staff, make_assessment
):
    from assessments.models import Assessment, Guideline

    current = make_assessment("011002", 2026, status="approved")
    client.force_login(sapporo_staff)
    html = html_of(client.get(reverse("home")))
    assert f'href="{current.get_absolute_url()}"' in html and "を開く" in html
    assert 'value="egov-2003"' not in html and 'value="egov-2000"' in html
    assert "まだ自己評価のない指針だけ" in html
    # Posting the guideline that exists opens it instead of creating anything.
    response = client.post(
        reverse("assessment_start"), {"guideline": "egov-2003", "prefill": "none"}
    )
    assert response.status_code == 302 and response.url == current.get_absolute_url()
    assert Assessment.objects.count() == 1
    make_assessment("011002", 2026, guideline=Guideline.objects.get(code="egov-2000"))
    assert "自己評価を始める" not in html_of(client.get(reverse("home")))
