"""Reminders before and after a round's due date, and the reviewers' digest of late bodies.

Schedule (per round): `reminder_days` before the due date (default 14 and 3 days before), then
the day after it and every `overdue_every_days` (default 7) while the body has not submitted.
The staff of a body that has not submitted (nor been excused) get the reminder; each prefecture
reviewer gets, on the overdue days of the round, one digest of its late municipalities.

One e-mail per person per day at most, whatever the number of rounds: a person's items are
combined, and a Reminder row (unique per recipient and day) records it, so running
`send_reminders` twice on a day sends nothing the second time. A "remind now" from the
follow-up list is recorded the same way (and also counts as that person's e-mail of the day).
"""

import datetime
from collections import defaultdict
from dataclasses import dataclass, field
from typing import cast

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.db import IntegrityError, transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from assessments import access
from assessments import fiscal_year as fy
from assessments.mail import mail_queue
from assessments.models import Assessment, Body, Reminder, SurveyRound, User
from assessments.models.assessments import reminder_days_of
from assessments.rounds import DueState, reachable


@dataclass
class Item:
    """One line of a reminder: an assessment, its due date and why it is mentioned."""

    assessment: Assessment
    state: DueState
    kind: str

    @property
    def url(self) -> str:
        return settings.SITE_URL.rstrip("/") + self.assessment.get_absolute_url()


@dataclass
class Planned:
    recipient: User
    kind: str
    items: list[Item] = field(default_factory=list)

    @property
    def why(self) -> str:
        parts = [
            f"{i.assessment.body.name} {i.assessment.fiscal_year} {i.assessment.guideline.code}: "
            f"{i.state.remaining or i.state.label}"
            for i in self.items
        ]
        return f"{Reminder.Kind(self.kind).label}: " + "; ".join(parts)


def _kind_on(survey_round: SurveyRound, days_left: int) -> str | None:
    """The reminder due on a day `days_left` before (negative: after) a due date, if any."""
    if days_left in reminder_days_of(survey_round.reminder_days):
        return Reminder.Kind.BEFORE
    if days_left < 0 and (-days_left - 1) % survey_round.overdue_every_days == 0:
        return Reminder.Kind.OVERDUE
    return None


def _pending(today: datetime.date):
    """Assessments of open rounds not yet submitted nor excused, with their due dates."""
    return (
        Assessment.objects.filter(
            survey_round__closed_at__isnull=True,
            status__in=Assessment.EDITABLE_STATUSES,
            excusal__isnull=True,
        )
        .with_due_dates()
        .select_related("body", "body__prefecture", "guideline", "survey_round")
        .order_by("body__code", "guideline__issued_on")
    )


def plan_reminders(today: datetime.date) -> list[Planned]:
    """Who is to be reminded on `today`, and of what (nothing is sent or recorded)."""
    by_recipient: dict[int, Planned] = {}
    pending = list(_pending(today))
    due_items: dict[int, list[Item]] = defaultdict(list)  # body id → items
    late: dict[int, list[Item]] = defaultdict(list)  # prefecture id → late municipalities
    for assessment in pending:
        state = DueState(due_on=assessment.due_date, today=today)
        kind = _kind_on(assessment.survey_round, state.days_left)
        if kind:
            due_items[assessment.body_id].append(Item(assessment, state, kind))
        if state.overdue and assessment.body.prefecture_id:
            late[assessment.body.prefecture_id].append(
                Item(assessment, state, Reminder.Kind.DIGEST)
            )
    for user in reachable(User.Role.BODY_STAFF, list(due_items)).order_by("pk"):
        items = due_items[cast(int, user.body_id)]
        kind = (
            Reminder.Kind.OVERDUE
            if any(i.kind == Reminder.Kind.OVERDUE for i in items)
            else Reminder.Kind.BEFORE
        )
        by_recipient[user.pk] = Planned(user, kind, items)
    # Digests on the overdue days of the round (the day after its due date, then weekly).
    digest_rounds = {
        a.survey_round_id
        for a in pending
        if _kind_on(a.survey_round, (a.survey_round.due_on - today).days) == Reminder.Kind.OVERDUE
    }
    for user in reachable(User.Role.PREFECTURE_REVIEWER, list(late)).order_by("pk"):
        items = [
            i
            for i in late[cast(int, user.body_id)]
            if i.assessment.survey_round_id in digest_rounds
        ]
        if items:
            by_recipient[user.pk] = Planned(user, Reminder.Kind.DIGEST, items)
    already = set(
        Reminder.objects.filter(sent_on=today, recipient_id__in=list(by_recipient)).values_list(
            "recipient_id", flat=True
        )
    )
    return [p for pk, p in sorted(by_recipient.items()) if pk not in already]


def _send(planned: Planned, today: datetime.date, by: User | None = None) -> bool:
    """Record and queue one person's e-mail of the day; False if they already had one."""
    first = planned.items[0].assessment
    context = {
        "recipient": planned.recipient,
        "kind": planned.kind,
        "items": planned.items,
        "today": fy.date_label(today),
        "follow_up_url": settings.SITE_URL.rstrip("/")
        + reverse(
            "round_follow_up",
            kwargs={
                "guideline_code": first.guideline.code,
                "fiscal_year": first.fiscal_year,
            },
        ),
    }
    with translation.override(settings.LANGUAGE_CODE):
        subject = " ".join(render_to_string("email/reminder_subject.txt", context).split())
        body = render_to_string("email/reminder.txt", context)
    try:
        with transaction.atomic():
            Reminder.objects.create(
                recipient=planned.recipient,
                sent_on=today,
                kind=planned.kind,
                survey_round_id=cast(int, first.survey_round_id),
                body=cast(
                    Body,
                    first.body if planned.kind != Reminder.Kind.DIGEST else planned.recipient.body,
                ),
                detail=planned.why[:4000],
                by=by,
            )
            mail_queue(to=planned.recipient.email, subject=subject, body=body, purpose="reminder")
    except IntegrityError:  # another run recorded this person's e-mail of the day first
        return False
    return True


def send_reminders(today: datetime.date, *, dry_run: bool = False) -> list[Planned]:
    """Send the day's reminders (or, with dry_run, only say who would get one): idempotent."""
    planned = plan_reminders(today)
    if dry_run:
        return planned
    return [p for p in planned if _send(p, today)]


@dataclass
class RemindResult:
    sent: list[Planned]
    skipped: list[tuple[Body, str]]  # body, why nobody was reminded


def remind_now(
    *, user: User, assessments: list[Assessment], today: datetime.date | None = None
) -> RemindResult:
    """A "remind now" for chosen bodies: their staff get an e-mail today (once a day at most)."""
    today = today or timezone.localdate()
    result = RemindResult(sent=[], skipped=[])
    staff_of: dict[int, list[User]] = defaultdict(list)  # every chosen body's staff, one query
    for person in reachable(User.Role.BODY_STAFF, [a.body_id for a in assessments]).order_by("pk"):
        staff_of[cast(int, person.body_id)].append(person)
    for assessment in assessments:
        if not access.may_follow_up(user, assessment.body):
            raise PermissionDenied
        state = DueState(
            due_on=assessment.effective_due_on or today,
            today=today,
            done=assessment.status in Assessment.RESULT_STATUSES,
        )
        if state.done:
            result.skipped.append((assessment.body, _("提出済み")))
            continue
        staff = staff_of[assessment.body_id]
        if not staff:
            result.skipped.append((assessment.body, _("メールアドレスのある担当者がいません")))
            continue
        sent_any = False
        for person in staff:
            planned = Planned(person, Reminder.Kind.MANUAL, [Item(assessment, state, "manual")])
            if _send(planned, today, by=user):
                result.sent.append(planned)
                sent_any = True
        if not sent_any:
            result.skipped.append((assessment.body, _("本日すでに督促済み")))
    return result
