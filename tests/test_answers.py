"""The answer services: optimistic saving, history, carrying answers over, and scores."""

import pytest
from django.core.exceptions import PermissionDenied

from assessments import answers
from assessments.models import (
    Answer,
    AnswerChange,
    Assessment,
    AssessmentTransition,
    CrosswalkLink,
    Guideline,
    Measure,
)


def data(**values) -> dict:
    base = {
        "level": None,
        "not_applicable": False,
        "not_applicable_reason": "",
        "note": "",
        "evidence_url": "",
        "department": "",
        "target_level": None,
        "target_fiscal_year": None,
        "improvement_plan": "",
    }
    return base | values


def test_first_save_creates_the_answer_records_the_change_and_bumps_versions(
    sapporo_staff, make_assessment, scored_2003
):
    assessment = make_assessment()
    measure = scored_2003[0]
    answer = answers.answer_save(
        assessment=assessment,
        measure=measure,
        user=sapporo_staff,
        data=data(level=2, note="検討中"),
        expected_version=0,
    )
    stored = Answer.objects.get(assessment=assessment, measure=measure)
    assert (stored.level, stored.note, stored.version, stored.updated_by) == (
        2,
        "検討中",
        1,
        sapporo_staff,
    )
    assert answer.pk == stored.pk
    change = AnswerChange.objects.get(answer=stored)
    assert change.changes == {"level": [None, 2], "note": ["", "検討中"]}
    assert (change.changed_by, change.source) == (sapporo_staff, "form")
    assessment_version = assessment.version
    assessment.refresh_from_db()
    assert assessment.version == assessment_version + 1


def test_a_stale_save_is_refused_and_nothing_is_overwritten(
    sapporo_staff, make_assessment, scored_2003
):
    assessment = make_assessment()
    measure = scored_2003[0]
    answers.answer_save(
        assessment=assessment,
        measure=measure,
        user=sapporo_staff,
        data=data(level=1),
        expected_version=0,
    )
    # A colleague saves version 1 → 2 while our page still holds version 1.
    answers.answer_save(
        assessment=assessment,
        measure=measure,
        user=sapporo_staff,
        data=data(level=3, note="同僚"),
        expected_version=1,
    )
    with pytest.raises(answers.StaleAnswer) as refused:
        answers.answer_save(
            assessment=assessment,
            measure=measure,
            user=sapporo_staff,
            data=data(level=0),
            expected_version=1,
        )
    assert refused.value.current.version == 2 and refused.value.current.level == 3
    stored = Answer.objects.get(assessment=assessment, measure=measure)
    assert (stored.level, stored.note, stored.version) == (3, "同僚", 2)
    assert AnswerChange.objects.filter(answer=stored).count() == 2


def test_a_colleague_creating_the_answer_first_is_a_conflict(
    sapporo_staff, make_assessment, scored_2003
):
    assessment = make_assessment()
    Answer.objects.create(assessment=assessment, measure=scored_2003[0], level=4)
    with pytest.raises(answers.StaleAnswer):
        answers.answer_save(
            assessment=assessment,
            measure=scored_2003[0],
            user=sapporo_staff,
            data=data(level=0),
            expected_version=0,
        )
    assert Answer.objects.get(assessment=assessment, measure=scored_2003[0]).level == 4


def test_saving_unchanged_values_records_nothing(sapporo_staff, make_assessment, scored_2003):
    assessment = make_assessment()
    kwargs = dict(assessment=assessment, measure=scored_2003[0], user=sapporo_staff)
    answers.answer_save(**kwargs, data=data(level=2), expected_version=0)
    answers.answer_save(**kwargs, data=data(level=2), expected_version=1)
    assert AnswerChange.objects.count() == 1
    assert Answer.objects.get().version == 1


def test_not_applicable_clears_the_level(sapporo_staff, make_assessment, scored_2003):
    assessment = make_assessment()
    kwargs = dict(assessment=assessment, measure=scored_2003[0], user=sapporo_staff)
    answers.answer_save(**kwargs, data=data(level=2), expected_version=0)
    answers.answer_save(
        **kwargs,
        data=data(level=None, not_applicable=True, not_applicable_reason="電子投票は実施しない"),
        expected_version=1,
    )
    stored = Answer.objects.get()
    assert stored.level is None and stored.not_applicable
    assert AnswerChange.objects.first().changes == {
        "level": [2, None],
        "not_applicable": [False, True],
        "not_applicable_reason": ["", "電子投票は実施しない"],
    }


@pytest.mark.parametrize("status", ["submitted", "approved"])
def test_submitted_and_approved_assessments_refuse_saves(
    sapporo_staff, make_assessment, scored_2003, status
):
    assessment = make_assessment(status=status)
    with pytest.raises(PermissionDenied):
        answers.answer_save(
            assessment=assessment,
            measure=scored_2003[0],
            user=sapporo_staff,
            data=data(level=2),
            expected_version=0,
        )
    assert not Answer.objects.exists()


def test_other_bodies_staff_and_viewers_cannot_save(
    hakodate_staff, sapporo_viewer, make_assessment, scored_2003
):
    assessment = make_assessment()
    for user in (hakodate_staff, sapporo_viewer):
        with pytest.raises(PermissionDenied):
            answers.answer_save(
                assessment=assessment,
                measure=scored_2003[0],
                user=user,
                data=data(level=2),
                expected_version=0,
            )


def test_first_save_of_a_not_started_assessment_starts_it(
    sapporo_staff, make_assessment, scored_2003
):
    assessment = make_assessment(status="not_started")
    answers.answer_save(
        assessment=assessment,
        measure=scored_2003[0],
        user=sapporo_staff,
        data=data(level=1),
        expected_version=0,
    )
    assessment.refresh_from_db()
    assert assessment.status == "in_progress"
    assert AssessmentTransition.objects.get(assessment=assessment).to_status == "in_progress"


def test_saving_a_section_saves_fresh_answers_and_returns_stale_ones(
    sapporo_staff, make_assessment, scored_2003
):
    assessment = make_assessment()
    first, second, third = scored_2003[:3]
    Answer.objects.create(assessment=assessment, measure=second, level=1, version=5)
    result = answers.answers_save(
        assessment=assessment,
        user=sapporo_staff,
        inputs=[
            answers.AnswerInput(first, data(level=4), 0),
            answers.AnswerInput(second, data(level=2), 4),  # loaded before the colleague's save
            answers.AnswerInput(
                third, data(not_applicable=True, not_applicable_reason="対象外"), 0
            ),
        ],
    )
    assert set(result.saved) == {first.pk, third.pk}
    assert set(result.stale) == {second.pk}
    levels = dict(Answer.objects.filter(assessment=assessment).values_list("measure_id", "level"))
    assert levels == {first.pk: 4, second.pk: 1, third.pk: None}


# --- Starting and carrying answers over ---------------------------------------------------------


def test_start_creates_and_starts_an_empty_assessment(sapporo_staff, guideline_2003, body):
    assessment = answers.assessment_start(
        body=body("011002"), guideline=guideline_2003, fiscal_year=2026, user=sapporo_staff
    )
    assert assessment.status == "in_progress"
    assert not assessment.answers.exists()
    assert assessment.transitions.get().by == sapporo_staff


def test_start_moves_an_existing_not_started_assessment(
    sapporo_staff, guideline_2003, body, make_assessment
):
    existing = make_assessment(status="not_started")
    assessment = answers.assessment_start(
        body=body("011002"), guideline=guideline_2003, fiscal_year=2026, user=sapporo_staff
    )
    assert assessment.pk == existing.pk and assessment.status == "in_progress"


def test_start_copies_last_years_answers_as_unconfirmed(
    sapporo_staff, guideline_2003, body, make_assessment, scored_2003
):
    last_year = make_assessment(fiscal_year=2025, status="approved")
    Answer.objects.create(
        assessment=last_year, measure=scored_2003[0], level=3, note="昨年", department="情報政策課"
    )
    Answer.objects.create(
        assessment=last_year,
        measure=scored_2003[1],
        not_applicable=True,
        not_applicable_reason="対象外",
    )
    Answer.objects.create(assessment=last_year, measure=scored_2003[2])  # unanswered: not carried
    assessment = answers.assessment_start(
        body=body("011002"),
        guideline=guideline_2003,
        fiscal_year=2026,
        user=sapporo_staff,
        prefill="previous_year",
    )
    carried = {a.measure_id: a for a in assessment.answers.all()}
    assert set(carried) == {scored_2003[0].pk, scored_2003[1].pk}
    first = carried[scored_2003[0].pk]
    assert (first.level, first.note, first.department) == (3, "昨年", "情報政策課")
    assert first.carried_over_from == "2025年度の回答"
    assert carried[scored_2003[1].pk].not_applicable
    change = AnswerChange.objects.get(answer=first)
    assert change.source == "carry-over"
    assert change.changes["carried_over_from"] == ["", "2025年度の回答"]
    # Last year's answers are untouched.
    assert last_year.answers.get(measure=scored_2003[0]).carried_over_from == ""


def test_start_carries_2000_answers_over_through_the_crosswalk(
    sapporo_staff, guideline_2003, body, make_assessment
):
    guideline_2000 = Guideline.objects.get(code="egov-2000")
    old = make_assessment(fiscal_year=2025, guideline=guideline_2000, status="approved")
    gis_2000 = Measure.objects.get(guideline=guideline_2000, ref="3.5")
    juki_2000 = Measure.objects.get(guideline=guideline_2000, ref="3.3")
    Answer.objects.create(assessment=old, measure=gis_2000, level=4, note="統合型GIS運用")
    Answer.objects.create(assessment=old, measure=juki_2000, level=2)
    assessment = answers.assessment_start(
        body=body("011002"),
        guideline=guideline_2003,
        fiscal_year=2026,
        user=sapporo_staff,
        prefill="crosswalk",
    )
    carried = {a.measure.ref: a for a in assessment.answers.select_related("measure")}
    expected_targets = set(
        CrosswalkLink.objects.filter(
            source__in=[gis_2000, juki_2000], target__is_scored=True
        ).values_list("target__ref", flat=True)
    )
    assert "II.5.(3)" in expected_targets and "II.1.(2)③" in expected_targets
    assert set(carried) == expected_targets
    assert carried["II.5.(3)"].level == 4
    assert carried["II.5.(3)"].carried_over_from == "2000年指針 3.5"
    assert carried["II.1.(2)③"].carried_over_from == "2000年指針 3.3"


def test_nothing_is_carried_into_an_assessment_that_has_answers(
    sapporo_staff, guideline_2003, body, make_assessment, scored_2003
):
    last_year = make_assessment(fiscal_year=2025)
    Answer.objects.create(assessment=last_year, measure=scored_2003[0], level=3)
    current = make_assessment(fiscal_year=2026)
    Answer.objects.create(assessment=current, measure=scored_2003[1], level=1)
    answers.assessment_start(
        body=body("011002"),
        guideline=guideline_2003,
        fiscal_year=2026,
        user=sapporo_staff,
        prefill="previous_year",
    )
    assert current.answers.count() == 1


def test_only_the_bodys_staff_may_start(hakodate_staff, sapporo_viewer, guideline_2003, body):
    for user in (hakodate_staff, sapporo_viewer):
        with pytest.raises(PermissionDenied):
            answers.assessment_start(
                body=body("011002"), guideline=guideline_2003, fiscal_year=2026, user=user
            )
    assert not Assessment.objects.exists()


# --- Scores against hand-computed cases ---------------------------------------------------------


def test_section_and_overall_scores_weigh_levels_and_leave_not_applicable_out(
    sapporo_staff, make_assessment, guideline_2003
):
    """II.3 has weights 3, 3, 2: levels 4 and 2, with the third 該当なし.

    Section: (3×4 + 3×2) / (3×4 + 3×4) = 18 / 24 = 75.0; 該当なし (weight 2) counts nowhere.
    Adding I.2.(1) (weight 1) at level 1: overall (18 + 1) / (24 + 4) = 19 / 28 = 67.9.
    """
    assessment = make_assessment()
    section = Measure.objects.get(guideline=guideline_2003, ref="II.3")
    policy, privacy, training = Measure.objects.filter(section=section, is_scored=True).order_by(
        "order"
    )
    assert (policy.weight, privacy.weight, training.weight) == (3, 3, 2)
    Answer.objects.create(assessment=assessment, measure=policy, level=4)
    Answer.objects.create(assessment=assessment, measure=privacy, level=2)
    Answer.objects.create(
        assessment=assessment, measure=training, not_applicable=True, not_applicable_reason="x"
    )
    grand_design = Measure.objects.get(guideline=guideline_2003, ref="I.2.(1)")
    Answer.objects.create(assessment=assessment, measure=grand_design, level=1)
    totals = Answer.objects.section_totals([assessment.pk])[(assessment.pk, section.pk)]
    assert (totals.score, totals.answered) == (75, 3)
    overall = Assessment.objects.filter(pk=assessment.pk).with_scores().get()
    assert str(overall.score.rounded) == "67.9"  # (12 + 6 + 1) / (12 + 12 + 4) = 67.857…
    assert overall.not_applicable_count == 1


def test_the_guarded_update_writes_nothing_when_a_version_moved_on(
    sapporo_staff, make_assessment, scored_2003
):
    """A colleague's write landing between our read and our write: the version-guarded UPDATE
    matches fewer rows than expected, so the attempt is rolled back and classified again."""
    from django.db import transaction
    from django.utils import timezone

    assessment = make_assessment()
    fresh = Answer.objects.create(assessment=assessment, measure=scored_2003[0], level=1)
    moved = Answer.objects.create(assessment=assessment, measure=scored_2003[1], level=1)
    Answer.objects.filter(pk=moved.pk).update(level=4, version=2)  # the colleague's write
    fresh.level = moved.level = 0
    with pytest.raises(answers._Retry), transaction.atomic():
        answers._guarded_update([(fresh, 1), (moved, 1)], sapporo_staff, timezone.now())
    levels = dict(Answer.objects.values_list("pk", "level"))
    assert levels == {fresh.pk: 1, moved.pk: 4}


def test_not_applicable_without_a_reason_is_refused_by_the_service(
    sapporo_staff, make_assessment, scored_2003
):
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError) as refused:
        answers.answer_save(
            assessment=make_assessment(),
            measure=scored_2003[0],
            user=sapporo_staff,
            data=data(not_applicable=True, not_applicable_reason="  "),
            expected_version=0,
        )
    assert "not_applicable_reason" in refused.value.message_dict
    assert not Answer.objects.exists()


def test_start_links_the_survey_round_of_that_year(
    sapporo_staff, national_admin, guideline_2003, body
):
    import datetime

    from assessments.models import SurveyRound

    survey_round = SurveyRound.objects.create(
        guideline=guideline_2003,
        fiscal_year=2026,
        due_on=datetime.date(2026, 7, 31),
        opened_by=national_admin,
    )
    assessment = answers.assessment_start(
        body=body("011002"), guideline=guideline_2003, fiscal_year=2026, user=sapporo_staff
    )
    assert assessment.survey_round == survey_round and assessment.status == "in_progress"
