"""The review chain's rules, independent of any screen."""

import pytest
from django.core.exceptions import PermissionDenied

from assessments.models import Answer, Assessment
from assessments.workflow import TransitionError, assessment_transition, missing_measures


@pytest.fixture
def complete(make_assessment, scored_2003):
    def make(status=Assessment.Status.IN_PROGRESS, body_code="011002"):
        assessment = make_assessment(body_code, 2026, status=status)
        Answer.objects.bulk_create(
            Answer(assessment=assessment, measure=m, level=2) for m in scored_2003
        )
        return assessment

    return make


def test_staff_submit_a_complete_assessment(complete, sapporo_staff):
    assessment = complete()
    record = assessment_transition(assessment=assessment, user=sapporo_staff, action="submit")
    assessment.refresh_from_db()
    assert assessment.status == "submitted" and assessment.submitted_at is not None
    assert (record.from_status, record.to_status, record.by) == (
        "in_progress",
        "submitted",
        sapporo_staff,
    )
    assert assessment.version == 2


def test_an_incomplete_assessment_cannot_be_submitted(make_assessment, sapporo_staff, scored_2003):
    assessment = make_assessment()
    Answer.objects.create(assessment=assessment, measure=scored_2003[0], level=1)
    with pytest.raises(TransitionError) as error:
        assessment_transition(assessment=assessment, user=sapporo_staff, action="submit")
    assert "34 件" in error.value.messages[0]
    assert [m.ref for m in missing_measures(assessment)] == [m.ref for m in scored_2003[1:]]
    assessment.refresh_from_db()
    assert assessment.status == "in_progress"


def test_reviewers_return_with_a_reason_and_approve(complete, hokkaido_reviewer, sapporo_staff):
    assessment = complete(status=Assessment.Status.SUBMITTED)
    with pytest.raises(TransitionError):
        assessment_transition(assessment=assessment, user=hokkaido_reviewer, action="return")
    assessment_transition(
        assessment=assessment,
        user=hokkaido_reviewer,
        action="return",
        comment="II.3.(1) の根拠資料を添付してください。",
    )
    assessment_transition(assessment=assessment, user=sapporo_staff, action="submit")
    assessment_transition(assessment=assessment, user=hokkaido_reviewer, action="approve")
    assessment.refresh_from_db()
    assert assessment.status == "approved" and assessment.approved_at is not None
    assert list(assessment.transitions.values_list("to_status", flat=True)) == [
        "returned",
        "submitted",
        "approved",
    ]


@pytest.mark.parametrize("action", ["submit", "return", "approve", "start"])
def test_approved_is_final(complete, hokkaido_reviewer, sapporo_staff, action):
    assessment = complete(status=Assessment.Status.SUBMITTED)
    assessment_transition(assessment=assessment, user=hokkaido_reviewer, action="approve")
    user = hokkaido_reviewer if action in ("return", "approve") else sapporo_staff
    with pytest.raises(TransitionError):
        assessment_transition(assessment=assessment, user=user, action=action, comment="x")


def test_only_the_right_people_may_act(
    complete, aomori_reviewer, hakodate_staff, national_admin, hokkaido_reviewer, sapporo_staff
):
    assessment = complete(status=Assessment.Status.SUBMITTED)
    for user in (aomori_reviewer, hakodate_staff, sapporo_staff):
        with pytest.raises(PermissionDenied):
            assessment_transition(assessment=assessment, user=user, action="approve")
    # A municipality is reviewed by its prefecture, not by the national administrator.
    with pytest.raises(PermissionDenied):
        assessment_transition(assessment=assessment, user=national_admin, action="approve")
    prefecture = complete(status=Assessment.Status.SUBMITTED, body_code="010006")
    with pytest.raises(PermissionDenied):
        assessment_transition(assessment=prefecture, user=hokkaido_reviewer, action="approve")
    assessment_transition(assessment=prefecture, user=national_admin, action="approve")
