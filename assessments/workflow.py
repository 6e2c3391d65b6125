"""The review chain: draft → submitted → returned → submitted → approved.

Every status change goes through `assessment_transition`, which checks who may make it from the
current state, records it (who, when, comment) and bumps the assessment's version, so a stale
page or report never acts on an older state. Approved is final: nothing changes it.
Once the change is committed, the people concerned are told by e-mail (notifications.py):
the reviewers on submit, the body's staff on return and approval. A resubmission marks the
reviewer's open 要修正 comments as dealt with (resolved_at).

| action   | from                              | to          | who                                   |
|----------|-----------------------------------|-------------|---------------------------------------|
| start    | not_started                       | in_progress | staff of the body                     |
| submit   | in_progress, returned             | submitted   | staff of the body (when complete)     |
| return   | submitted                         | returned    | reviewer (prefecture / national)      |
| approve  | submitted                         | approved    | reviewer (prefecture / national)      |
| reopen   | approved                          | returned    | reviewer, or any national admin       |

Reopening (an error found after approval) needs a reason, like returning; it is the one way
back from approved, and it is recorded like every other change.
"""

from dataclasses import dataclass
from functools import partial
from typing import TYPE_CHECKING

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import get_language, gettext_lazy
from django.utils.translation import gettext as _

from assessments import access, tasks
from assessments.models import (
    Answer,
    Assessment,
    AssessmentTransition,
    Measure,
    ReviewComment,
    User,
)

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise

Status = Assessment.Status


@dataclass(frozen=True)
class Action:
    name: str
    label: "StrOrPromise"
    sources: tuple[str, ...]
    target: str
    by_reviewer: bool
    needs_comment: bool = False


ACTIONS = {
    action.name: action
    for action in (
        Action(
            "start",
            gettext_lazy("作成を開始"),
            (Status.NOT_STARTED,),
            Status.IN_PROGRESS,
            by_reviewer=False,
        ),
        Action(
            "submit",
            gettext_lazy("提出"),
            (Status.IN_PROGRESS, Status.RETURNED),
            Status.SUBMITTED,
            by_reviewer=False,
        ),
        Action(
            "return",
            gettext_lazy("差戻し"),
            (Status.SUBMITTED,),
            Status.RETURNED,
            by_reviewer=True,
            needs_comment=True,
        ),
        Action(
            "approve", gettext_lazy("承認"), (Status.SUBMITTED,), Status.APPROVED, by_reviewer=True
        ),
        Action(
            "reopen",
            gettext_lazy("再開"),
            (Status.APPROVED,),
            Status.RETURNED,
            by_reviewer=True,
            needs_comment=True,
        ),
    )
}


class TransitionError(ValidationError):
    """The action is not possible from the assessment's current state."""


def missing_measures(assessment: Assessment) -> list[Measure]:
    """Measures to answer without a level and not marked 該当なし with a reason, in order."""
    answered = Answer.objects.filter(assessment=assessment).answered()
    return list(Measure.objects.to_answer(assessment).exclude(pk__in=answered.values("measure_id")))


def unconfirmed_measures(assessment: Assessment) -> list[Measure]:
    """Measures whose answer was carried over and not yet confirmed, in guideline order."""
    carried = Answer.objects.filter(assessment=assessment).exclude(carried_over_from="")
    return list(Measure.objects.to_answer(assessment).filter(pk__in=carried.values("measure_id")))


def may_act(user: User, assessment: Assessment, action: Action) -> bool:
    """Whether `user` holds the role for `action` on `assessment` (state aside). Nothing moves
    while the assessment is locked by an accepted sign-off or a closed round."""
    if assessment.is_locked:
        return False
    if action.name == "reopen":
        return access.can_reopen(user, assessment)
    if action.by_reviewer:
        return access.can_review(user, assessment)
    return access.can_fill(user, assessment)


def available_actions(user: User, assessment: Assessment) -> list[Action]:
    return [
        a
        for a in ACTIONS.values()
        if assessment.status in a.sources and may_act(user, assessment, a)
    ]


@transaction.atomic
def assessment_transition(
    *, assessment: Assessment, user: User, action: str, comment: str = ""
) -> AssessmentTransition:
    """Move `assessment` through `action`, or raise PermissionDenied / TransitionError.

    The row is re-read under a lock (FOR UPDATE on PostgreSQL) and the state is checked again,
    so two reviewers acting at once cannot both succeed.
    """
    step = ACTIONS[action]
    if not may_act(user, assessment, step):
        raise PermissionDenied
    locked = Assessment.objects.select_for_update().get(pk=assessment.pk)
    if locked.status not in step.sources:
        raise TransitionError(
            _("この自己評価は「%(status)s」のため、%(action)sできません。")
            % {"status": locked.get_status_display(), "action": step.label},
            code="invalid_state",
        )
    if step.target == Status.SUBMITTED:
        missing = missing_measures(locked)
        if missing:
            raise TransitionError(
                _("未回答の項目が %(count)s 件あるため提出できません: %(refs)s")
                % {"count": len(missing), "refs": "、".join(m.ref for m in missing)},
                code="incomplete",
            )
        unconfirmed = unconfirmed_measures(locked)
        if unconfirmed:
            raise TransitionError(
                _("引継ぎ（未確認）の項目が %(count)s 件あるため提出できません: %(refs)s")
                % {"count": len(unconfirmed), "refs": "、".join(m.ref for m in unconfirmed)},
                code="unconfirmed",
            )
    if step.needs_comment and not comment.strip():
        required = {"reopen": _("再開の理由を入力してください。")}
        raise TransitionError(
            required.get(action, _("差戻しの理由を入力してください。")), code="comment_required"
        )
    now = timezone.now()
    updates = {"status": step.target, "version": F("version") + 1, "updated_at": now}
    if step.target == Status.SUBMITTED:
        updates["submitted_at"] = now
    if step.target == Status.APPROVED:
        updates["approved_at"] = now
    if action == "reopen":
        updates["approved_at"] = None
    Assessment.objects.filter(pk=locked.pk).update(**updates)
    record = AssessmentTransition.objects.create(
        assessment=locked,
        from_status=locked.status,
        to_status=step.target,
        by=user,
        comment=comment.strip(),
        at=now,
    )
    if step.target == Status.SUBMITTED and locked.status == Status.RETURNED:
        ReviewComment.objects.filter(
            assessment=locked, needs_fix=True, resolved_at__isnull=True
        ).update(resolved_at=now)
    transaction.on_commit(lambda: tasks.notify_transition.enqueue(record.pk))
    if settings.REPORT_PRERENDER and step.target in (Status.SUBMITTED, Status.APPROVED):
        # The PDF reviewers and staff download next is rendered by the worker now: in the
        # document's language, and in the one of the person acting if it is another.
        current = (get_language() or settings.LANGUAGE_CODE)[:2]
        for language in dict.fromkeys([settings.LANGUAGE_CODE[:2], current]):
            transaction.on_commit(
                partial(tasks.prerender_assessment_report.enqueue, locked.pk, language)
            )
    assessment.refresh_from_db()
    return record


@transaction.atomic
def review_comment_add(
    *, assessment: Assessment, user: User, measure: Measure, body: str, needs_fix: bool = False
) -> ReviewComment:
    """Add a reviewer's comment on one measure of a submitted assessment."""
    if not access.can_review(user, assessment):
        raise PermissionDenied
    if (
        measure.guideline_id != assessment.guideline_id
        or not measure.is_scored
        or not measure.applies_to_kind(assessment.body.kind)
    ):
        raise ValidationError(_("この指針の採点対象の項目ではありません。"), code="wrong_measure")
    status = Assessment.objects.values_list("status", flat=True).get(pk=assessment.pk)
    if status != Status.SUBMITTED:
        raise TransitionError(
            _("コメントできるのは提出済みの自己評価だけです。"), code="invalid_state"
        )
    comment = ReviewComment(
        assessment=assessment, measure=measure, author=user, body=body.strip(), needs_fix=needs_fix
    )
    comment.full_clean()
    comment.save()
    return comment
