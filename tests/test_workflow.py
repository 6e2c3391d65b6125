"""The review chain's rules, independent of any screen."""

import pytest
from django.core.exceptions import PermissionDenied

from assessments.access import can_edit_answers
from assessments.models import Answer, Assessment, ReviewComment
from assessments.workflow import (
    ACTIONS,
    TransitionError,
    assessment_transition,
    available_actions,
    missing_measures,
    review_comment_add,
)


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
    assert "33 件" in error.value.messages[0]  # 34 scored measures, one answered
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


# --- Notifications, comments, approved is locked -------------------------------------------------


@pytest.fixture
def with_emails(
    sapporo_staff,
    hakodate_staff,
    hokkaido_reviewer,
    aomori_reviewer,
    national_admin,
    immediate_tasks,
):
    """Give every persona an address, so that the test sees exactly who is written to."""
    for user in (sapporo_staff, hakodate_staff, hokkaido_reviewer, aomori_reviewer, national_admin):
        user.email = f"{user.username}@example.jp"
        user.save()


def test_submit_notifies_the_prefecture_reviewers_after_commit(
    complete, sapporo_staff, with_emails, mailoutbox, django_capture_on_commit_callbacks
):
    assessment = complete()
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        assessment_transition(assessment=assessment, user=sapporo_staff, action="submit")
        assert mailoutbox == []  # nothing is sent before the transaction commits
    # After commit: the notification task is enqueued, and it queues one e-mail per recipient.
    assert len(callbacks) == 2
    assert [m.to for m in mailoutbox] == [["hokkaido-reviewer@example.jp"]]
    assert "札幌市" in mailoutbox[0].subject and "提出" in mailoutbox[0].subject
    assert "/assessments/011002/2026/egov-2003/review/" in mailoutbox[0].body


def test_a_prefecture_submission_notifies_the_national_administrators(
    complete, with_emails, mailoutbox, django_capture_on_commit_callbacks
):
    from tests.support import make_user

    hokkaido_staff = make_user("hokkaido-staff", "body_staff", "010006")
    assessment = complete(body_code="010006")
    with django_capture_on_commit_callbacks(execute=True):
        assessment_transition(assessment=assessment, user=hokkaido_staff, action="submit")
    assert [m.to for m in mailoutbox] == [["national-admin@example.jp"]]


def test_return_and_approval_notify_the_body_staff_with_the_reason_and_comments(
    complete,
    hokkaido_reviewer,
    sapporo_staff,
    with_emails,
    mailoutbox,
    django_capture_on_commit_callbacks,
    scored_2003,
):
    assessment = complete(status=Assessment.Status.SUBMITTED)
    review_comment_add(
        assessment=assessment,
        user=hokkaido_reviewer,
        measure=scored_2003[0],
        body="計画の根拠資料がありません。",
        needs_fix=True,
    )
    with django_capture_on_commit_callbacks(execute=True):
        assessment_transition(
            assessment=assessment,
            user=hokkaido_reviewer,
            action="return",
            comment="要修正の項目を直してください",
        )
    (mail,) = mailoutbox
    assert mail.to == ["sapporo-staff@example.jp"]  # not 函館市's staff, not the reviewer
    assert "差し戻されました" in mail.subject
    assert "要修正の項目を直してください" in mail.body
    assert f"{scored_2003[0].ref}" in mail.body and "計画の根拠資料がありません。" in mail.body

    # Resubmitting marks the open 要修正 comments as dealt with.
    with django_capture_on_commit_callbacks(execute=True):
        assessment_transition(assessment=assessment, user=sapporo_staff, action="submit")
    assert ReviewComment.objects.get().resolved_at is not None
    with django_capture_on_commit_callbacks(execute=True):
        assessment_transition(assessment=assessment, user=hokkaido_reviewer, action="approve")
    assert [m.to for m in mailoutbox[1:]] == [
        ["hokkaido-reviewer@example.jp"],
        ["sapporo-staff@example.jp"],
    ]
    assert "承認されました" in mailoutbox[-1].subject


def test_no_mail_when_the_transition_fails(
    complete, hokkaido_reviewer, with_emails, mailoutbox, django_capture_on_commit_callbacks
):
    assessment = complete()
    with django_capture_on_commit_callbacks(execute=True), pytest.raises(TransitionError):
        assessment_transition(assessment=assessment, user=hokkaido_reviewer, action="approve")
    assert mailoutbox == []


def test_approved_is_locked_for_answers_and_comments(
    complete, hokkaido_reviewer, sapporo_staff, scored_2003
):
    assessment = complete(status=Assessment.Status.SUBMITTED)
    assert can_edit_answers(sapporo_staff, assessment) is False  # submitted: waiting for review
    assessment_transition(assessment=assessment, user=hokkaido_reviewer, action="approve")
    assessment.refresh_from_db()
    assert can_edit_answers(sapporo_staff, assessment) is False
    assert available_actions(sapporo_staff, assessment) == []
    # Only reopening (back to 差戻し, with a reason) leads out of approved.
    assert [a.name for a in available_actions(hokkaido_reviewer, assessment)] == ["reopen"]
    with pytest.raises(TransitionError):
        review_comment_add(
            assessment=assessment, user=hokkaido_reviewer, measure=scored_2003[0], body="x"
        )
    assert not ReviewComment.objects.exists()


def test_comments_only_by_the_reviewer_and_on_the_guidelines_scored_measures(
    complete, hokkaido_reviewer, aomori_reviewer, sapporo_staff, scored_2003
):
    from django.core.exceptions import ValidationError

    from assessments.models import Measure

    assessment = complete(status=Assessment.Status.SUBMITTED)
    for user in (aomori_reviewer, sapporo_staff):
        with pytest.raises(PermissionDenied):
            review_comment_add(assessment=assessment, user=user, measure=scored_2003[0], body="x")
    other_guideline = Measure.objects.filter(guideline__code="egov-2000", is_scored=True).first()
    with pytest.raises(ValidationError):
        review_comment_add(
            assessment=assessment, user=hokkaido_reviewer, measure=other_guideline, body="x"
        )
    with pytest.raises(ValidationError):
        review_comment_add(
            assessment=assessment, user=hokkaido_reviewer, measure=scored_2003[0], body="   "
        )
    assert not ReviewComment.objects.exists()


ALLOWED = {
    "not_started": {"staff": {"start"}},
    "in_progress": {"staff": {"submit"}},
    "submitted": {"reviewer": {"return", "approve"}},
    "returned": {"staff": {"submit"}},
    # Approved is final except for reopening (with a reason): its reviewer, or any national admin.
    "approved": {"reviewer": {"reopen"}, "admin": {"reopen"}},
}


@pytest.mark.parametrize("status", list(ALLOWED))
def test_each_action_allowed_or_refused_by_role_and_state(
    complete,
    status,
    sapporo_staff,
    sapporo_viewer,
    hakodate_staff,
    hokkaido_reviewer,
    aomori_reviewer,
    national_admin,
):
    users = {
        "staff": sapporo_staff,
        "viewer": sapporo_viewer,
        "other_staff": hakodate_staff,
        "reviewer": hokkaido_reviewer,
        "other_reviewer": aomori_reviewer,
        "admin": national_admin,
    }
    assessment = complete(status=status)
    if status == "approved":
        Assessment.objects.filter(pk=assessment.pk).update(approved_at=assessment.created_at)
    for role, user in users.items():
        allowed = ALLOWED[status].get(role, set())
        assert {a.name for a in available_actions(user, assessment)} == allowed, role
        for name in set(ACTIONS) - allowed:
            with pytest.raises((PermissionDenied, TransitionError)):
                assessment_transition(assessment=assessment, user=user, action=name, comment="理由")
        assessment.refresh_from_db()
        assert assessment.status == status
        assert not assessment.transitions.exists()
