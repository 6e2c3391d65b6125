"""Filling an assessment through its pages: sections, saving, conflicts, autosave, history,
evidence, submit, start, scores and query counts.

Personas (tests/conftest.py): sapporo_staff fills 札幌市's assessment; sapporo_viewer and the
北海道 reviewer only read it; hakodate_staff belongs to another body.
"""

import re
from html import unescape

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from assessments.models import (
    Answer,
    AnswerChange,
    Assessment,
    AssessmentTransition,
    Guideline,
    Measure,
    ReviewComment,
)
from tests.support import make_user

PDF = b"%PDF-1.4\n%test evidence\n"


def section_url(assessment, ref: str) -> str:
    return reverse("assessment_section", kwargs={**assessment.url_kwargs, "section_ref": ref})


def measure_url(name: str, assessment, ref: str) -> str:
    return reverse(name, kwargs={**assessment.url_kwargs, "measure_ref": ref})


def section_measures(guideline, ref: str) -> list[Measure]:
    section = Measure.objects.get(guideline=guideline, ref=ref)
    return list(Measure.objects.filter(section=section, is_scored=True).order_by("order"))


def fields(measure, version=0, **values) -> dict:
    """One measure's form fields as the browser posts them (empty unless given)."""
    base = {
        "version": version,
        "level": "",
        "not_applicable_reason": "",
        "note": "",
        "evidence_url": "",
        "department": "",
        "target_level": "",
        "target_fiscal_year": "",
        "improvement_plan": "",
    }
    return {f"m{measure.order}-{k}": v for k, v in (base | values).items()}


def section_post(measures, per_measure: dict | None = None, versions: dict | None = None) -> dict:
    """The POST of a section page: `measures` as given, the section's other measures left empty
    at their `versions` (a browser posts every form of the page)."""
    per_measure, versions = per_measure or {}, versions or {}
    data = {"save": ""}
    if measures:
        rest = Measure.objects.filter(section_id=measures[0].section_id, is_scored=True).exclude(
            pk__in=[m.pk for m in measures]
        )
        measures = [*measures, *rest]
    for m in measures:
        data |= fields(m, versions.get(m.pk, 0), **per_measure.get(m.pk, {}))
    return data


def html_of(response) -> str:
    return unescape(response.content.decode())


@pytest.fixture
def assessment(make_assessment):
    return make_assessment("011002", 2026)


@pytest.fixture
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    return tmp_path


# --- The section page ---------------------------------------------------------------------------


def test_section_page_shows_each_measure_with_its_level_descriptions_as_radio_labels(
    client, sapporo_staff, assessment, guideline_2003
):
    client.force_login(sapporo_staff)
    measures = section_measures(guideline_2003, "II.3")
    response = client.get(section_url(assessment, "II.3"))
    html = html_of(response)
    assert response.status_code == 200
    for measure in measures:
        assert measure.title_ja in html and measure.guidance_ja in html
        for description in measure.level_descriptions.all():
            label = re.search(
                rf'<label for="id_m{measure.order}-level_{description.level}"[^>]*>\s*([^<]*)</label>',
                html,
            )
            assert label and description.description_ja in label.group(1)
        assert f'name="m{measure.order}-level" value="na"' in html
    assert "100点満点" in html  # the formula is explained
    assert 'aria-live="polite"' in html and "js/autosave.js" in html


def test_overview_lists_sections_with_progress_scores_and_history(
    client, sapporo_staff, assessment, guideline_2003
):
    measures = section_measures(guideline_2003, "II.4")[:2]
    Answer.objects.create(assessment=assessment, measure=measures[0], level=4)
    AssessmentTransition.objects.create(
        assessment=assessment, from_status="not_started", to_status="in_progress", by=sapporo_staff
    )
    client.force_login(sapporo_staff)
    html = html_of(client.get(assessment.get_absolute_url()))
    assert section_url(assessment, "II.4") in html
    assert "1 / 4" in html  # II.4: one of four answered
    assert "100.0" in html  # its score and the overall score
    assert "状態の履歴" in html and "作成中" in html
    assert "すべて最高レベル4だった場合の合計で割って" in html


def test_section_save_stores_every_measure_and_redirects(
    client, sapporo_staff, assessment, guideline_2003
):
    client.force_login(sapporo_staff)
    first, second = section_measures(guideline_2003, "II.4")[:2]
    data = section_post(
        [first, second],
        {
            first.pk: {"level": "3", "department": "情報政策課", "note": "共同化協議会に参加"},
            second.pk: {"level": "na", "not_applicable_reason": "単独で運用する方針"},
        },
    )
    response = client.post(section_url(assessment, "II.4"), data)
    assert response.status_code == 302 and response.url == section_url(assessment, "II.4")
    stored = {a.measure_id: a for a in assessment.answers.all()}
    assert (stored[first.pk].level, stored[first.pk].department) == (3, "情報政策課")
    assert stored[second.pk].not_applicable
    assert stored[second.pk].not_applicable_reason == "単独で運用する方針"
    assert AnswerChange.objects.filter(source="form").count() == 2
    page = html_of(client.get(response.url))
    assert "を保存しました" in page and "共同化協議会に参加" in page


def test_save_and_next_goes_to_the_following_section(
    client, sapporo_staff, assessment, guideline_2003
):
    client.force_login(sapporo_staff)
    measures = section_measures(guideline_2003, "II.4")[:2]
    data = section_post(measures) | {"save_next": ""}
    response = client.post(section_url(assessment, "II.4"), data)
    assert response.url == section_url(assessment, "II.5")


def test_invalid_input_keeps_every_typed_value_and_lists_errors_in_japanese(
    client, sapporo_staff, assessment, guideline_2003
):
    client.force_login(sapporo_staff)
    measures = section_measures(guideline_2003, "II.3")
    data = section_post(
        measures,
        {
            measures[0].pk: {"level": "na", "note": "理由を書き忘れた"},  # 該当なし without reason
            measures[1].pk: {"level": "2", "improvement_plan": "来年度に条例を見直す"},
            measures[2].pk: {"level": "1", "evidence_url": "ここはURLではない"},
        },
    )
    response = client.post(section_url(assessment, "II.3"), data)
    html = html_of(response)
    assert response.status_code == 400
    assert 'id="error-summary"' in html and "入力内容を確認してください（2件）" in html
    assert f'href="#id_m{measures[0].order}-not_applicable_reason"' in html
    assert "「該当なし」を選んだときは、その理由を入力してください。" in html
    assert f'href="#id_m{measures[2].order}-evidence_url"' in html
    # Everything typed is still on the page, in every measure.
    assert "理由を書き忘れた" in html and "来年度に条例を見直す" in html
    assert 'value="ここはURLではない"' in html
    assert re.search(rf'name="m{measures[0].order}-level" value="na"[^>]*\bchecked', html)
    assert re.search(rf'name="m{measures[1].order}-level" value="2"[^>]*\bchecked', html)
    assert not Answer.objects.exists()  # nothing half-saved


def test_a_concurrent_edit_is_refused_and_both_versions_are_shown(
    client, sapporo_staff, assessment, guideline_2003
):
    colleague = make_user("sapporo-staff-2", "body_staff", "011002")
    colleague.last_name, colleague.first_name = "佐藤", "花子"
    colleague.save()
    mine, other = section_measures(guideline_2003, "II.4")[:2]
    client.force_login(sapporo_staff)
    url = section_url(assessment, "II.4")
    # Both load the page with no answers (version 0); the colleague saves first.
    client.force_login(colleague)
    client.post(url, section_post([mine, other], {mine.pk: {"level": "4", "note": "同僚の回答"}}))
    client.force_login(sapporo_staff)
    data = section_post(
        [mine, other],
        {mine.pk: {"level": "1", "note": "私の回答"}, other.pk: {"level": "2"}},
    )
    response = client.post(url, data)
    html = html_of(response)
    assert response.status_code == 409
    assert "他の人が先に保存した項目があります" in html
    assert "同僚の回答" in html and "4 評価・改善" in html  # theirs
    assert f"保存した人: {colleague.get_full_name()}" in html  # who
    assert "私の回答" in html  # mine, as typed
    stored = Answer.objects.get(assessment=assessment, measure=mine)
    assert (stored.level, stored.note, stored.updated_by) == (4, "同僚の回答", colleague)
    # The other measure was saved; the form now carries the stored versions.
    assert Answer.objects.get(assessment=assessment, measure=other).level == 2
    assert f'name="m{mine.order}-version" value="1"' in html
    assert f'name="m{other.order}-version" value="1"' in html

    # "Keep mine" re-submits the form as rendered: it overwrites knowingly.
    data[f"m{mine.order}-version"] = 1
    data[f"m{other.order}-version"] = 1
    assert client.post(url, data).status_code == 302
    stored.refresh_from_db()
    assert (stored.level, stored.note, stored.version) == (1, "私の回答", 2)
    history = list(AnswerChange.objects.filter(answer=stored).order_by("id"))
    assert [c.changed_by for c in history] == [colleague, sapporo_staff]
    assert history[1].changes["note"] == ["同僚の回答", "私の回答"]


def test_keep_theirs_discards_only_my_conflicting_measure(
    client, sapporo_staff, assessment, guideline_2003
):
    mine, other = section_measures(guideline_2003, "II.4")[:2]
    Answer.objects.create(assessment=assessment, measure=mine, level=4, note="同僚", version=3)
    client.force_login(sapporo_staff)
    data = section_post(
        [mine, other],
        {mine.pk: {"level": "0"}, other.pk: {"level": "2"}},
        versions={mine.pk: 2},
    ) | {"discard": f"m{mine.order}"}
    assert client.post(section_url(assessment, "II.4"), data).status_code == 302
    stored = Answer.objects.get(assessment=assessment, measure=mine)
    assert (stored.level, stored.note, stored.version) == (4, "同僚", 3)
    assert Answer.objects.get(assessment=assessment, measure=other).level == 2


def test_carried_answers_stay_unconfirmed_until_confirmed_explicitly(
    client, sapporo_staff, assessment, guideline_2003
):
    first, second = section_measures(guideline_2003, "II.4")[:2]
    Answer.objects.create(
        assessment=assessment, measure=first, level=2, carried_over_from="2025年度の回答"
    )
    client.force_login(sapporo_staff)
    url = section_url(assessment, "II.4")
    assert "引継ぎ（未確認）" in html_of(client.get(url))
    assert "引継ぎ（未確認）" in html_of(client.get(assessment.get_absolute_url()))
    # Saving the section unchanged confirms nothing.
    client.post(url, section_post([first, second], {first.pk: {"level": "2"}}, {first.pk: 1}))
    stored = Answer.objects.get(assessment=assessment, measure=first)
    assert stored.carried_over_from == "2025年度の回答" and stored.version == 1
    # Confirming is an explicit action, recorded in the history as a confirmation.
    response = client.post(
        reverse("answers_confirm", kwargs=assessment.url_kwargs), {"measure": first.ref}
    )
    assert response.status_code == 302 and response.url.endswith(f"#measure-{first.order}")
    stored.refresh_from_db()
    assert stored.carried_over_from == "" and stored.level == 2 and stored.version == 2
    change = stored.changes.get()
    assert change.source == "confirmation" and change.changed_by == sapporo_staff
    assert change.changes == {"carried_over_from": ["2025年度の回答", ""]}
    assert "引継ぎ（未確認）" not in html_of(client.get(url))
    assert "引継ぎの確認" in html_of(
        client.get(measure_url("answer_history", assessment, first.ref))
    )


def test_carry_over_blocks_submission_until_confirmed(
    client, sapporo_staff, assessment, scored_2003
):
    _fill(assessment, scored_2003)
    carried = scored_2003[3:5]
    Answer.objects.filter(assessment=assessment, measure__in=carried).update(
        carried_over_from="2025年度の回答"
    )
    client.force_login(sapporo_staff)
    url = reverse("assessment_submit", kwargs=assessment.url_kwargs)
    html = html_of(client.get(url))
    assert "引継ぎ（未確認）の項目が 2 件あります" in html
    assert "すべての項目に回答済みです" not in html
    for m in carried:
        assert f"sections/{m.section.ref}/#measure-{m.order}" in html
    response = client.post(url)
    assert response.status_code == 400 and "引継ぎ（未確認）の項目が 2 件" in html_of(response)
    assessment.refresh_from_db()
    assert assessment.status == "in_progress"
    # One section at a time: confirming the section confirms its carried answers.
    for section_id in {m.section_id for m in carried}:
        ref = Measure.objects.get(pk=section_id).ref
        client.post(reverse("answers_confirm", kwargs=assessment.url_kwargs), {"section": ref})
    assert not Answer.objects.exclude(carried_over_from="").exists()
    assert client.post(url).status_code == 302
    assessment.refresh_from_db()
    assert assessment.status == "submitted"


def test_reviewer_comments_are_shown_on_the_measure(
    client, sapporo_staff, hokkaido_reviewer, assessment, guideline_2003
):
    first, _second = section_measures(guideline_2003, "II.4")[:2]
    ReviewComment.objects.create(
        assessment=assessment,
        measure=first,
        author=hokkaido_reviewer,
        body="根拠資料を添付してください",
        needs_fix=True,
    )
    for user in (sapporo_staff, hokkaido_reviewer):
        client.force_login(user)
        html = html_of(client.get(section_url(assessment, "II.4")))
        assert "根拠資料を添付してください" in html and "要修正" in html


@pytest.mark.parametrize("persona", ["sapporo_viewer", "hokkaido_reviewer", "national_admin"])
def test_readers_see_everything_read_only(request, client, assessment, guideline_2003, persona):
    first, _second = section_measures(guideline_2003, "II.4")[:2]
    Answer.objects.create(
        assessment=assessment, measure=first, level=3, note="閲覧できる備考", department="DX推進課"
    )
    client.force_login(request.getfixturevalue(persona))
    html = html_of(client.get(section_url(assessment, "II.4")))
    assert "この自己評価は閲覧のみです" in html
    assert "閲覧できる備考" in html and "DX推進課" in html and "3 全庁的に運用" in html
    assert '<form method="post" enctype' not in html and "autosave.js" not in html
    response = client.post(section_url(assessment, "II.4"), section_post([first]))
    assert response.status_code == 403


@pytest.mark.parametrize("status", ["submitted", "approved"])
def test_submitted_assessments_are_read_only_for_staff(
    client, sapporo_staff, make_assessment, guideline_2003, status
):
    assessment = make_assessment(status=status)
    measures = section_measures(guideline_2003, "II.4")[:2]
    client.force_login(sapporo_staff)
    html = html_of(client.get(section_url(assessment, "II.4")))
    assert "この自己評価は閲覧のみです" in html and "autosave.js" not in html
    url = section_url(assessment, "II.4")
    assert (
        client.post(url, section_post(measures, {measures[0].pk: {"level": "4"}})).status_code
        == 403
    )
    autosave = measure_url("answer_autosave", assessment, measures[0].ref)
    assert client.post(autosave, fields(measures[0], level="4")).status_code == 403
    assert not Answer.objects.exists()


def test_another_bodys_section_is_404(client, hakodate_staff, assessment):
    client.force_login(hakodate_staff)
    assert client.get(section_url(assessment, "II.4")).status_code == 404
    assert client.post(section_url(assessment, "II.4"), {}).status_code == 404


def test_unknown_section_is_404(client, sapporo_staff, assessment):
    client.force_login(sapporo_staff)
    assert client.get(section_url(assessment, "IX.9")).status_code == 404


# --- Autosave ------------------------------------------------------------------------------------


def test_autosave_saves_one_measure_and_returns_its_new_version(
    client, sapporo_staff, assessment, guideline_2003
):
    measure = Measure.objects.get(guideline=guideline_2003, ref="II.1.(2)②")
    url = measure_url("answer_autosave", assessment, measure.ref)
    assert "%E2%91%A1" in url  # ② travels URL-encoded
    client.force_login(sapporo_staff)
    response = client.post(url, fields(measure, level="3", department="情報システム課"))
    body = response.json()
    assert response.status_code == 200 and body["ok"] and body["version"] == 1
    assert re.fullmatch(r"保存しました \d\d:\d\d", body["message"])
    stored = Answer.objects.get(assessment=assessment, measure=measure)
    assert (stored.level, stored.department) == (3, "情報システム課")
    assert AnswerChange.objects.get(answer=stored).source == "autosave"

    stale = client.post(url, fields(measure, version=0, level="1"))
    assert stale.status_code == 409 and stale.json()["conflict"]
    invalid = client.post(url, fields(measure, version=1, level="na"))
    assert invalid.status_code == 400 and "not_applicable_reason" in invalid.json()["errors"]
    assert "その理由を入力してください" in invalid.json()["message"]
    stored.refresh_from_db()
    assert (stored.level, stored.version) == (3, 1)


def test_autosave_is_post_only(client, sapporo_staff, assessment, scored_2003):
    client.force_login(sapporo_staff)
    url = measure_url("answer_autosave", assessment, scored_2003[0].ref)
    assert client.get(url).status_code == 405


# --- History -------------------------------------------------------------------------------------


def test_history_lists_who_changed_what_and_how(
    client, sapporo_staff, sapporo_viewer, assessment, guideline_2003
):
    measure = Measure.objects.get(guideline=guideline_2003, ref="II.1.(2)②")
    client.force_login(sapporo_staff)
    autosave = measure_url("answer_autosave", assessment, measure.ref)
    client.post(autosave, fields(measure, level="1"))
    client.post(autosave, fields(measure, version=1, level="3", note="LGWAN接続済み"))
    client.force_login(sapporo_viewer)
    response = client.get(measure_url("answer_history", assessment, measure.ref))
    html = html_of(response)
    assert response.status_code == 200
    assert html.count("自動保存") == 2 and "sapporo-staff" in html
    assert "1 検討・計画中" in html and "3 全庁的に運用" in html and "LGWAN接続済み" in html
    assert "レベル" in html and "備考" in html


# --- Evidence -------------------------------------------------------------------------------------


def test_evidence_upload_is_stored_and_downloaded_only_as_an_attachment(
    client, sapporo_staff, hokkaido_reviewer, hakodate_staff, assessment, guideline_2003, media
):
    first, second = section_measures(guideline_2003, "II.4")[:2]
    client.force_login(sapporo_staff)
    data = section_post([first, second], {first.pk: {"level": "2"}})
    data[f"m{first.order}-evidence_file"] = SimpleUploadedFile(
        "共同化計画書.pdf", PDF, content_type="application/pdf"
    )
    assert client.post(section_url(assessment, "II.4"), data).status_code == 302
    stored = Answer.objects.get(assessment=assessment, measure=first)
    assert stored.evidence_name == "共同化計画書.pdf"
    assert (media / stored.evidence_file.name).read_bytes() == PDF
    download = measure_url("evidence_download", assessment, first.ref)
    assert download in html_of(client.get(section_url(assessment, "II.4")))
    for user in (sapporo_staff, hokkaido_reviewer):
        client.force_login(user)
        response = client.get(download)
        assert response.status_code == 200
        assert response["Content-Disposition"].startswith("attachment;")
        assert "%E5%85%B1%E5%90%8C" in response["Content-Disposition"]  # 共同…, RFC 5987
        assert b"".join(response.streaming_content) == PDF
    client.force_login(hakodate_staff)
    assert client.get(download).status_code == 404
    # A measure without a file is 404 too.
    client.force_login(sapporo_staff)
    assert client.get(measure_url("evidence_download", assessment, second.ref)).status_code == 404


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("macro.exe", b"MZ....", "このファイル形式（exe）は添付できません"),
        ("fake.pdf", b"<html>not a pdf</html>", "ファイルの内容が拡張子（pdf）と一致しません"),
        ("big.txt", b"x" * 2048, "ファイルが大きすぎます"),
    ],
)
def test_evidence_of_a_wrong_type_or_size_is_refused_with_a_message(
    client, sapporo_staff, assessment, guideline_2003, media, settings, name, content, message
):
    settings.EVIDENCE_MAX_BYTES = 1024
    first, second = section_measures(guideline_2003, "II.4")[:2]
    client.force_login(sapporo_staff)
    data = section_post([first, second], {first.pk: {"level": "2", "note": "残る入力"}})
    data[f"m{first.order}-evidence_file"] = SimpleUploadedFile(name, content)
    response = client.post(section_url(assessment, "II.4"), data)
    html = html_of(response)
    assert response.status_code == 400
    assert message in html and "残る入力" in html
    assert "ファイルをもう一度選んでください" in html
    assert f'href="#id_m{first.order}-evidence_file"' in html
    assert not Answer.objects.exists() and not any(media.rglob("*.*"))


# --- Submit ---------------------------------------------------------------------------------------


def test_submit_lists_missing_measures_with_links_and_refuses(
    client, sapporo_staff, assessment, scored_2003
):
    for measure in scored_2003[1:]:
        Answer.objects.create(assessment=assessment, measure=measure, level=2)
    missing = scored_2003[0]
    client.force_login(sapporo_staff)
    url = reverse("assessment_submit", kwargs=assessment.url_kwargs)
    html = html_of(client.get(url))
    assert "未回答の項目が 1 件あります" in html and missing.title_ja in html
    assert f"{section_url(assessment, missing.section.ref)}#measure-{missing.order}" in html
    response = client.post(url)
    assert response.status_code == 400 and "提出できません" in html_of(response)
    assessment.refresh_from_db()
    assert assessment.status == "in_progress"


def test_submit_a_complete_assessment(client, sapporo_staff, assessment, scored_2003):
    for measure in scored_2003:
        Answer.objects.create(assessment=assessment, measure=measure, level=3)
    client.force_login(sapporo_staff)
    url = reverse("assessment_submit", kwargs=assessment.url_kwargs)
    assert "すべての項目に回答済みです" in html_of(client.get(url))
    response = client.post(url, follow=True)
    assessment.refresh_from_db()
    assert assessment.status == "submitted" and assessment.submitted_at
    assert "提出しました" in html_of(response) and "閲覧のみ" in html_of(response)


def test_readers_cannot_submit(client, hokkaido_reviewer, sapporo_viewer, assessment, scored_2003):
    for measure in scored_2003:
        Answer.objects.create(assessment=assessment, measure=measure, level=3)
    url = reverse("assessment_submit", kwargs=assessment.url_kwargs)
    for user in (hokkaido_reviewer, sapporo_viewer):
        client.force_login(user)
        assert client.post(url).status_code == 403
    assessment.refresh_from_db()
    assert assessment.status == "in_progress"


# --- Starting from the home page ------------------------------------------------------------------


def test_staff_start_this_years_assessment_from_home_copying_last_year(
    client, sapporo_staff, make_assessment, scored_2003
):
    last_year = make_assessment(fiscal_year=2025, status="approved")
    Answer.objects.create(assessment=last_year, measure=scored_2003[0], level=3)
    client.force_login(sapporo_staff)
    home = html_of(client.get(reverse("home")))
    assert "2026年度（令和8年度）の自己評価を始める" in home
    response = client.post(
        reverse("assessment_start"), {"guideline": "egov-2003", "prefill": "previous_year"}
    )
    assessment = Assessment.objects.get(body__code="011002", fiscal_year=2026)
    assert response.status_code == 302 and response.url == assessment.get_absolute_url()
    assert assessment.status == "in_progress"
    assert assessment.answers.get().carried_over_from == "2025年度の回答"


def test_readers_get_no_start_button(client, sapporo_viewer):
    client.force_login(sapporo_viewer)
    assert "自己評価を始める" not in html_of(client.get(reverse("home")))
    response = client.post(
        reverse("assessment_start"), {"guideline": "egov-2003", "prefill": "none"}
    )
    assert response.status_code == 403
    assert not Assessment.objects.exists()


# --- Query counts: the same for a section of 2 and of 14 measures ---------------------------------


def _fill(assessment, measures):
    for m in measures:
        Answer.objects.create(assessment=assessment, measure=m, level=2, note="既存")


@pytest.mark.parametrize("ref", ["II.4", "II.1"])  # 4 and 14 scored measures
def test_section_page_query_count_does_not_grow_with_measures(
    client, sapporo_staff, assessment, guideline_2003, django_assert_num_queries, ref
):
    measures = section_measures(guideline_2003, ref)
    _fill(assessment, measures)
    client.force_login(sapporo_staff)
    url = section_url(assessment, ref)
    client.get(url)  # the first page of a session stamps its start (and reads the catalog)
    # session, user; assessment; answers; review comments; section totals (the overall score
    # is their sum). The guideline's sections and measures are kept in memory
    # (selectors/catalog.py); the session is not written.
    with django_assert_num_queries(6):
        assert client.get(url).status_code == 200


def test_section_page_reads_the_catalog_once_per_revision(
    client, sapporo_staff, assessment, guideline_2003, django_assert_num_queries
):
    """The catalog is read on the first page (5 queries) and again only after a change of a
    measure or a level text, which the next page shows."""
    client.force_login(sapporo_staff)
    url = section_url(assessment, "II.4")
    client.get(url)
    with django_assert_num_queries(6):
        client.get(url)
    measure = section_measures(guideline_2003, "II.4")[0]
    text = measure.level_descriptions.get(level=2)
    text.description_ja = "直したレベル2の説明"
    text.save()
    with django_assert_num_queries(6 + 5):  # sections, their counts, measures, level texts, notes
        assert "直したレベル2の説明" in client.get(url).content.decode()
    with django_assert_num_queries(6):
        client.get(url)


@pytest.mark.parametrize("ref", ["II.4", "II.1"])
def test_section_save_query_count_does_not_grow_with_measures(
    client, sapporo_staff, assessment, guideline_2003, django_assert_num_queries, ref
):
    measures = section_measures(guideline_2003, ref)
    _fill(assessment, measures)
    client.force_login(sapporo_staff)
    url = section_url(assessment, ref)
    client.get(url)
    data = section_post(
        measures, {m.pk: {"level": "4"} for m in measures}, {m.pk: 1 for m in measures}
    )
    # session, user; assessment; answers; save: savepoint, lock assessment, current answers,
    # one guarded UPDATE of every answer, one INSERT of the changes, assessment version,
    # release; messages (the catalog is kept in memory; the session is not written)
    with django_assert_num_queries(11):
        assert client.post(url, data).status_code == 302
    assert set(Answer.objects.values_list("level", flat=True)) == {4}
    assert AnswerChange.objects.count() == len(measures)


@pytest.mark.parametrize("code", ["egov-2000", "egov-2003"])
def test_overview_query_count_does_not_grow_with_the_guideline(
    client, sapporo_staff, make_assessment, django_assert_num_queries, code
):
    guideline = Guideline.objects.get(code=code)
    assessment = make_assessment(guideline=guideline)
    _fill(assessment, Measure.objects.filter(guideline=guideline, is_scored=True))
    client.force_login(sapporo_staff)
    client.get(assessment.get_absolute_url())
    # session, user; assessment; answers; section totals (the overall score is their sum);
    # transitions (the catalog is kept in memory; the session is not written)
    with django_assert_num_queries(6):
        assert client.get(assessment.get_absolute_url()).status_code == 200


@pytest.mark.parametrize("code", ["egov-2000", "egov-2003"])
def test_autosave_query_count_does_not_grow_with_the_guideline(
    client, sapporo_staff, make_assessment, django_assert_num_queries, code
):
    guideline = Guideline.objects.get(code=code)
    assessment = make_assessment(guideline=guideline)
    measure = Measure.objects.filter(guideline=guideline, is_scored=True).last()
    _fill(assessment, Measure.objects.filter(guideline=guideline, is_scored=True))
    client.force_login(sapporo_staff)
    client.get(assessment.get_absolute_url())  # the page the autosave is made from
    url = measure_url("answer_autosave", assessment, measure.ref)
    # session, user; assessment; save: savepoint, lock, current answer, guarded UPDATE, change,
    # assessment version, release (the measure is the kept catalog's; the session is not written)
    with django_assert_num_queries(10):
        assert client.post(url, fields(measure, version=1, level="4")).json()["ok"]


@pytest.mark.parametrize("saves", [1, 6])
def test_history_query_count_does_not_grow_with_changes(
    client, sapporo_staff, assessment, guideline_2003, django_assert_num_queries, saves
):
    measure = Measure.objects.get(guideline=guideline_2003, ref="II.3.(1)")
    client.force_login(sapporo_staff)
    autosave = measure_url("answer_autosave", assessment, measure.ref)
    for version in range(saves):
        client.post(autosave, fields(measure, version=version, level=str(version % 5)))
    url = measure_url("answer_history", assessment, measure.ref)
    # session, user; assessment; count of the changes (new: pagination); changes with their
    # authors (the measure is the kept catalog's; the session is not written)
    with django_assert_num_queries(5):
        html = html_of(client.get(url))
    assert html.count("自動保存") == saves


@pytest.mark.parametrize("answered", [0, 30])
def test_submit_page_query_count_does_not_grow_with_missing_measures(
    client, sapporo_staff, assessment, scored_2003, django_assert_num_queries, answered
):
    _fill(assessment, scored_2003[:answered])
    client.force_login(sapporo_staff)
    url = reverse("assessment_submit", kwargs=assessment.url_kwargs)
    client.get(url)
    # session, user; assessment; missing measures; unconfirmed carry-over (new); their
    # sections (the session is not written)
    with django_assert_num_queries(6):
        html = html_of(client.get(url))
    assert f"未回答の項目が {34 - answered} 件あります" in html  # 34 scored measures


def test_overview_shows_hand_computed_section_and_overall_scores(
    client, sapporo_staff, assessment, guideline_2003
):
    """II.3 (weights 3, 3, 2) at levels 4, 2 and 該当なし: 18 / 24 = 75.0 for the section and,
    as nothing else is answered, overall."""
    policy, privacy, training = section_measures(guideline_2003, "II.3")
    Answer.objects.create(assessment=assessment, measure=policy, level=4)
    Answer.objects.create(assessment=assessment, measure=privacy, level=2)
    Answer.objects.create(
        assessment=assessment, measure=training, not_applicable=True, not_applicable_reason="x"
    )
    client.force_login(sapporo_staff)
    html = html_of(client.get(assessment.get_absolute_url()))
    row = re.search(
        r"II\.3</span>[^<]*</th>\s*<td>([^<]*)</td><td>([^<]*)</td><td>([^<]*)</td>", html
    )
    assert row and row.groups() == ("3 / 3", "18 / 24", "75.0")
    # A draft's score is provisional (暫定), shown with its progress.
    assert '<span class="score">75.0（暫定・回答 3 / 34）</span>' in html
    assert "うち該当なし 1" in html
    assert "「該当なし」と未回答の項目は計算から除きます" in html


def test_evidence_is_stored_under_a_random_name(
    client, sapporo_staff, assessment, guideline_2003, media
):
    first, second = section_measures(guideline_2003, "II.4")[:2]
    client.force_login(sapporo_staff)
    data = section_post([first, second])
    data[f"m{first.order}-evidence_file"] = SimpleUploadedFile("../../etc/passwd.txt", b"hello")
    assert client.post(section_url(assessment, "II.4"), data).status_code == 302
    stored = Answer.objects.get(assessment=assessment, measure=first)
    assert stored.evidence_name == "passwd.txt"
    assert re.fullmatch(r"evidence/011002/2026/[0-9a-f]{32}\.txt", stored.evidence_file.name)


def test_writes_need_the_csrf_token(sapporo_staff, assessment, guideline_2003):
    from django.test import Client

    client = Client(enforce_csrf_checks=True)
    client.force_login(sapporo_staff)
    measure = section_measures(guideline_2003, "II.4")[:2][0]
    autosave = measure_url("answer_autosave", assessment, measure.ref)
    assert client.post(autosave, fields(measure, level="2")).status_code == 403
    assert client.post(section_url(assessment, "II.4"), section_post([measure])).status_code == 403
    submit = reverse("assessment_submit", kwargs=assessment.url_kwargs)
    assert client.post(submit).status_code == 403
    assert not Answer.objects.exists()


def test_pages_render_in_english(client, sapporo_staff, assessment, guideline_2003):
    measure = section_measures(guideline_2003, "II.4")[:2][0]
    Answer.objects.create(assessment=assessment, measure=measure, level=2)
    client.force_login(sapporo_staff)
    english = {"accept-language": "en"}
    for url in (
        assessment.get_absolute_url(),
        section_url(assessment, "II.4"),
        measure_url("answer_history", assessment, measure.ref),
        reverse("assessment_submit", kwargs=assessment.url_kwargs),
    ):
        response = client.get(url, headers=english)
        assert response.status_code == 200 and '<html lang="en">' in response.content.decode()
    html = html_of(client.get(section_url(assessment, "II.4"), headers=english))
    assert (
        measure.title_en in html and measure.level_descriptions.get(level=2).description_en in html
    )
