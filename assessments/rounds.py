"""Survey rounds (調査回): the national administrator opens one per guideline and fiscal year.

Opening a round gives every body in scope an assessment (未着手) linked to the round; a body
that already has one for that guideline and year keeps it (answers and status untouched) and it
is linked to the round. Progress is counted per prefecture in one grouped query.

Due dates: a round has one (SurveyRound.due_on); the national administrator can extend it, or
one body's (Assessment.due_on), each a recorded DueDateExtension. `due_state` is what every page
shows: the date in 西暦 and 和暦 and the days left, or 期限超過 with the days late. "Today" is
the date in Asia/Tokyo (timezone.localdate), so a deadline ends at midnight JST.
"""

import datetime
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Count, Q, QuerySet
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from assessments import access, workflow
from assessments import fiscal_year as fy
from assessments.models import (
    Assessment,
    Body,
    DueDateExtension,
    Excusal,
    Guideline,
    PrefectureSignOff,
    SignOffEvent,
    SurveyRound,
    User,
)
from assessments.models.rounds import SignOffStatus

BATCH_SIZE = 500


# --- Due dates ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class DueState:
    """A due date as users see it, on a given day."""

    due_on: datetime.date
    today: datetime.date
    done: bool = False  # submitted, approved or excused: the date no longer presses

    @property
    def days_left(self) -> int:
        return (self.due_on - self.today).days

    @property
    def overdue(self) -> bool:
        return not self.done and self.days_left < 0

    @property
    def days_overdue(self) -> int:
        return max(0, -self.days_left)

    @property
    def label(self) -> str:
        return fy.date_label(self.due_on)

    @property
    def remaining(self) -> str:
        """あと 5 日 / 本日が期限 / 期限超過 63 日 ("" once done)."""
        if self.done:
            return ""
        if self.days_left > 0:
            return _("あと %(days)s 日") % {"days": self.days_left}
        if self.days_left == 0:
            return _("本日が期限")
        return _("期限超過 %(days)s 日") % {"days": self.days_overdue}


def due_state(assessment: Assessment, today: datetime.date | None = None) -> DueState | None:
    """The assessment's due date on `today` (JST), or None when it belongs to no round."""
    due = assessment.effective_due_on
    if due is None:
        return None
    done = assessment.status in Assessment.RESULT_STATUSES or hasattr_excusal(assessment)
    return DueState(due_on=due, today=today or timezone.localdate(), done=done)


def hasattr_excusal(assessment: Assessment) -> bool:
    """Whether the body is excused from the round (reads the reverse one-to-one)."""
    try:
        return assessment.excusal is not None
    except Excusal.DoesNotExist:
        return False


class Scope:
    ALL = "all"
    PREFECTURES = "prefectures"
    MUNICIPALITIES = "municipalities"
    CHOICES = (
        (ALL, gettext_lazy("全団体（都道府県と市区町村）")),
        (PREFECTURES, gettext_lazy("都道府県のみ")),
        (MUNICIPALITIES, gettext_lazy("市区町村のみ")),
    )


def bodies_in_scope(scope: str, *, fiscal_year: int):
    """The bodies of `scope` that existed on the fiscal year's base date (April 1)."""
    bodies = Body.objects.existing_on(fy.fiscal_year_start(fiscal_year))
    if scope == Scope.PREFECTURES:
        return bodies.prefectures()
    if scope == Scope.MUNICIPALITIES:
        return bodies.municipalities()
    return bodies


@dataclass
class OpenedRound:
    survey_round: SurveyRound
    created: int  # new assessments
    linked: int  # existing assessments now linked to the round


@transaction.atomic
def survey_round_open(
    *,
    guideline: Guideline,
    fiscal_year: int,
    due_on: datetime.date,
    scope: str = Scope.ALL,
    reminder_days: str = "14,3",
    overdue_every_days: int = 7,
    user: User,
) -> OpenedRound:
    """Open the round and give every body in scope its assessment (bulk, in batches)."""
    if not user.is_national_admin:
        raise PermissionDenied
    if SurveyRound.objects.filter(guideline=guideline, fiscal_year=fiscal_year).exists():
        raise ValidationError(
            _("この指針・年度の調査回はすでに開始されています。"), code="duplicate"
        )
    survey_round = SurveyRound(
        guideline=guideline,
        fiscal_year=fiscal_year,
        due_on=due_on,
        reminder_days=reminder_days,
        overdue_every_days=overdue_every_days,
        opened_by=user,
    )
    survey_round.full_clean()
    survey_round.save()
    bodies = bodies_in_scope(scope, fiscal_year=fiscal_year)
    existing = Assessment.objects.filter(
        guideline=guideline, fiscal_year=fiscal_year, body__in=bodies
    )
    linked = existing.update(survey_round=survey_round)
    taken = set(existing.values_list("body_id", flat=True))
    new = [
        Assessment(
            body_id=body_id,
            guideline=guideline,
            fiscal_year=fiscal_year,
            status=Assessment.Status.NOT_STARTED,
            survey_round=survey_round,
        )
        for body_id in bodies.order_by("code").values_list("pk", flat=True)
        if body_id not in taken
    ]
    Assessment.objects.bulk_create(new, batch_size=BATCH_SIZE)
    return OpenedRound(survey_round=survey_round, created=len(new), linked=linked)


@dataclass
class PrefectureProgress:
    prefecture: Body
    counts: dict[str, int]  # status → number of assessments
    overdue: int = 0  # not submitted (nor excused) after the due date
    excused: int = 0
    sign_off: PrefectureSignOff | None = None

    @property
    def total(self) -> int:
        return sum(self.counts.values())

    @property
    def done(self) -> int:
        return self.counts[Assessment.Status.SUBMITTED] + self.counts[Assessment.Status.APPROVED]


def round_progress(
    survey_round: SurveyRound, today: datetime.date | None = None
) -> list[PrefectureProgress]:
    """Per prefecture (the prefecture itself and its municipalities): counts per status, the
    late and the excused, and the sign-off.

    Three queries: one grouped count, the prefectures, their sign-offs.
    """
    today = today or timezone.localdate()
    statuses = Assessment.Status.values
    late = Q(status__in=Assessment.EDITABLE_STATUSES, excusal__isnull=True, due_date__lt=today)
    grouped = (
        Assessment.objects.filter(survey_round=survey_round)
        .with_due_dates()
        .annotate(pref=Coalesce("body__prefecture_id", "body_id"))
        .values("pref")
        .annotate(
            **{status: Count("pk", filter=Q(status=status)) for status in statuses},
            overdue_count=Count("pk", filter=late),
            excused_count=Count("excusal"),
        )
        .order_by()
    )
    by_prefecture: dict[int, dict[str, Any]] = {row["pref"]: dict(row) for row in grouped}
    sign_offs = {s.prefecture_id: s for s in survey_round.sign_offs.all()}
    rows = []
    for prefecture in Body.objects.prefectures().order_by("code"):
        row = by_prefecture.get(prefecture.pk, {})
        rows.append(
            PrefectureProgress(
                prefecture=prefecture,
                counts={s: row.get(s, 0) for s in statuses},
                overdue=row.get("overdue_count", 0),
                excused=row.get("excused_count", 0),
                sign_off=sign_offs.get(prefecture.pk),
            )
        )
    return rows


# --- Follow-up: who has not submitted ------------------------------------------------------------


def follow_up(
    survey_round: SurveyRound,
    *,
    prefecture: Body | None = None,
    status: str = "",
    overdue_only: bool = False,
    today: datetime.date | None = None,
):
    """The round's assessments to chase, with body, due date and excusal, in body-code order.

    `prefecture` counts the prefecture itself and its municipalities, as the progress page does.
    """
    today = today or timezone.localdate()
    qs = (
        Assessment.objects.filter(survey_round=survey_round)
        .with_due_dates()
        .select_related("body", "body__prefecture", "survey_round", "excusal")
        .order_by("body__code")
    )
    if prefecture is not None:
        qs = qs.of_prefecture(prefecture)
    if status:
        qs = qs.filter(status=status)
    if overdue_only:
        qs = qs.overdue(today)
    return qs


def reachable(role: str, bodies) -> QuerySet[User]:
    """Active users of `role` in `bodies` that an e-mail can reach (reminders, follow-up)."""
    return User.objects.filter(is_active=True, role=role, body__in=bodies).exclude(email="")


def staff_addresses(bodies) -> dict[int, list[str]]:
    """{body id: the e-mail addresses of its active staff}, in one query."""
    addresses: dict[int, list[str]] = {}
    users = (
        reachable(User.Role.BODY_STAFF, bodies).order_by("email").values_list("body_id", "email")
    )
    for body_id, email in users:
        addresses.setdefault(body_id, []).append(email)
    return addresses


# --- Extensions, excusals, sign-off, closing: the national administrator and the reviewers -----


def _require_open(survey_round: SurveyRound) -> None:
    if survey_round.closed_at is not None:
        raise ValidationError(_("この調査回は締め切られています。"), code="closed")


def _required(text: str, message: str) -> str:
    text = (text or "").strip()
    if not text:
        raise ValidationError(message, code="required")
    return text


@transaction.atomic
def due_date_extend(
    *,
    survey_round: SurveyRound,
    due_on: datetime.date,
    reason: str,
    user: User,
    body: Body | None = None,
) -> DueDateExtension:
    """Move the round's due date, or one body's, to `due_on`, recorded with the reason."""
    access.require_national_admin(user)
    _require_open(survey_round)
    reason = _required(reason, _("延長の理由を入力してください。"))
    if body is None:
        previous = survey_round.due_on
        survey_round.due_on = due_on
        survey_round.save(update_fields=["due_on"])
    else:
        assessment = Assessment.objects.select_for_update().get(
            survey_round=survey_round, body=body
        )
        previous = assessment.due_on or survey_round.due_on
        Assessment.objects.filter(pk=assessment.pk).update(due_on=due_on)
    extension = DueDateExtension(
        survey_round=survey_round,
        body=body,
        previous_due_on=previous,
        due_on=due_on,
        reason=reason,
        by=user,
    )
    extension.full_clean()
    extension.save()
    return extension


@transaction.atomic
def excuse(*, assessment: Assessment, reason: str, user: User) -> Excusal:
    """Excuse a body from the round (it then counts as done for the sign-off)."""
    access.require_national_admin(user)
    survey_round = assessment.survey_round
    if survey_round is None:
        raise ValidationError(_("調査回に属さない自己評価です。"), code="no_round")
    _require_open(survey_round)
    if assessment.status in Assessment.RESULT_STATUSES:
        raise ValidationError(_("提出済みの団体は免除できません。"), code="submitted")
    reason = _required(reason, _("免除の理由を入力してください。"))
    excusal, _created = Excusal.objects.update_or_create(
        assessment=assessment, defaults={"reason": reason, "by": user, "at": timezone.now()}
    )
    return excusal


def sign_off_blockers(survey_round: SurveyRound, prefecture: Body):
    """The prefecture's municipalities in the round neither approved nor excused."""
    return (
        Assessment.objects.filter(survey_round=survey_round)
        .of_prefecture(prefecture, itself=False)
        .exclude(status=Assessment.Status.APPROVED)
        .filter(excusal__isnull=True)
        .select_related("body")
        .order_by("body__code")
    )


def _step(sign_off: PrefectureSignOff, status: str, user: User, comment: str) -> SignOffEvent:
    now = timezone.now()
    PrefectureSignOff.objects.filter(pk=sign_off.pk).update(status=status, updated_at=now)
    sign_off.status, sign_off.updated_at = status, now
    event = SignOffEvent(sign_off=sign_off, to_status=status, comment=comment, by=user, at=now)
    event.full_clean()
    event.save()
    return event


@transaction.atomic
def sign_off_submit(
    *, survey_round: SurveyRound, prefecture: Body, user: User, note: str = ""
) -> PrefectureSignOff:
    """The prefecture reviewer tells the nation its municipalities are done and checked."""
    if not access.may_sign_off(user, prefecture):
        raise PermissionDenied
    _require_open(survey_round)
    sign_off, _created = PrefectureSignOff.objects.select_for_update().get_or_create(
        survey_round=survey_round,
        prefecture=prefecture,
        defaults={"status": SignOffStatus.RETURNED},
    )
    if sign_off.status in (SignOffStatus.SIGNED, SignOffStatus.ACCEPTED):
        raise ValidationError(
            _("すでに取りまとめ済みです（%(status)s）。")
            % {"status": sign_off.get_status_display()},
            code="invalid_state",
        )
    blockers = list(sign_off_blockers(survey_round, prefecture))
    if blockers:
        names = "、".join(a.body.name for a in blockers[:10])
        more = _(" ほか %(n)s 団体") % {"n": len(blockers) - 10} if len(blockers) > 10 else ""
        raise ValidationError(
            _(
                "承認も免除もされていない市区町村が %(count)s 団体あるため取りまとめできません: "
                "%(names)s%(more)s"
            )
            % {"count": len(blockers), "names": names, "more": more},
            code="incomplete",
        )
    _step(sign_off, SignOffStatus.SIGNED, user, (note or "").strip())
    return sign_off


@transaction.atomic
def sign_off_decide(
    *,
    sign_off: PrefectureSignOff,
    user: User,
    action: str,
    reason: str = "",
    reopen: Iterable[Assessment] = (),
) -> PrefectureSignOff:
    """The national administrator accepts a signed set (locking its data) or returns it with a
    reason (unlocking it; the bodies' approvals stay unless listed in `reopen`)."""
    access.require_national_admin(user)
    sign_off = PrefectureSignOff.objects.select_for_update().get(pk=sign_off.pk)
    _require_open(sign_off.survey_round)
    municipalities = Assessment.objects.filter(survey_round=sign_off.survey_round).of_prefecture(
        sign_off.prefecture, itself=False
    )
    if action == "accept":
        if sign_off.status != SignOffStatus.SIGNED:
            raise ValidationError(_("受理できるのは取りまとめ済みのものだけです。"), code="state")
        _step(sign_off, SignOffStatus.ACCEPTED, user, (reason or "").strip())
        municipalities.update(locked_at=timezone.now())
    elif action == "return":
        if sign_off.status not in (SignOffStatus.SIGNED, SignOffStatus.ACCEPTED):
            raise ValidationError(
                _("差し戻せるのは取りまとめ済み・受理済みのものだけです。"), code="state"
            )
        reason = _required(reason, _("差戻しの理由を入力してください。"))
        _step(sign_off, SignOffStatus.RETURNED, user, reason)
        municipalities.update(locked_at=None)
        for assessment in reopen:
            if assessment.status == Assessment.Status.APPROVED:
                workflow.assessment_transition(
                    assessment=Assessment.objects.get(pk=assessment.pk),
                    user=user,
                    action="reopen",
                    comment=reason,
                )
    else:
        raise ValueError(action)
    return sign_off


@transaction.atomic
def round_close(*, survey_round: SurveyRound, user: User, reason: str = "") -> SurveyRound:
    """Close the round: every prefecture accepted, or anyway with a reason. Its data is locked."""
    access.require_national_admin(user)
    _require_open(survey_round)
    accepted = survey_round.sign_offs.filter(status=SignOffStatus.ACCEPTED).count()
    prefectures = Body.objects.prefectures().count()
    reason = (reason or "").strip()
    if accepted < prefectures and not reason:
        raise ValidationError(
            _(
                "受理済みの都道府県は %(accepted)s / %(total)s です。締め切るには理由を"
                "入力してください。"
            )
            % {"accepted": accepted, "total": prefectures},
            code="reason_required",
        )
    now = timezone.now()
    survey_round.closed_at, survey_round.closed_by = now, user
    survey_round.close_reason = reason
    survey_round.save(update_fields=["closed_at", "closed_by", "close_reason"])
    Assessment.objects.filter(survey_round=survey_round, locked_at__isnull=True).update(
        locked_at=now
    )
    return survey_round
