"""A survey round's chain after the bodies answer: due-date extensions, reminders, excused
bodies, and each prefecture's sign-off (取りまとめ) to the nation.

The round itself (SurveyRound) and the per-body fields it sets on an assessment (`due_on`, an
individual extension; `locked_at`, set while the prefecture's sign-off is accepted) live in
models/assessments.py beside Assessment.
"""

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from assessments.limits import TRANSITION_COMMENT_MAX_LENGTH, max_length_validator
from assessments.models.assessments import Assessment, SurveyRound
from assessments.models.registry import Body


def _reason_field(label, *, blank: bool = False) -> models.TextField:
    """A reason or comment of a round's step, bounded like a transition's comment."""
    return models.TextField(
        label,
        blank=blank,
        max_length=TRANSITION_COMMENT_MAX_LENGTH,
        validators=[max_length_validator(TRANSITION_COMMENT_MAX_LENGTH)],
    )


class DueDateExtension(models.Model):
    """A recorded change of a due date: the round's (body empty) or one body's."""

    survey_round = models.ForeignKey(
        SurveyRound, models.CASCADE, related_name="extensions", verbose_name=_("調査回")
    )
    body = models.ForeignKey(
        Body, models.PROTECT, null=True, blank=True, related_name="+", verbose_name=_("団体")
    )
    previous_due_on = models.DateField(_("変更前の期限"))
    due_on = models.DateField(_("変更後の期限"))
    reason = _reason_field(_("理由"))
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.PROTECT, related_name="+", verbose_name=_("変更した人")
    )
    at = models.DateTimeField(_("日時"), default=timezone.now)

    class Meta:
        verbose_name = _("提出期限の延長")
        verbose_name_plural = _("提出期限の延長")
        ordering = ["-at", "-pk"]

    def __str__(self) -> str:
        return f"{self.survey_round} {self.body or ''} {self.previous_due_on} → {self.due_on}"


class Excusal(models.Model):
    """A body excused from a round by the national administrator (counts as done for the
    prefecture's sign-off), with the reason."""

    assessment = models.OneToOneField(
        Assessment, models.CASCADE, related_name="excusal", verbose_name=_("自己評価")
    )
    reason = _reason_field(_("理由"))
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.PROTECT, related_name="+", verbose_name=_("記録した人")
    )
    at = models.DateTimeField(_("日時"), default=timezone.now)

    class Meta:
        verbose_name = _("提出免除")
        verbose_name_plural = _("提出免除")

    def __str__(self) -> str:
        return f"{self.assessment}: {self.reason[:30]}"


class Reminder(models.Model):
    """One reminder e-mail to one person on one day (at most one a day: the unique constraint
    makes `send_reminders` idempotent for a day)."""

    class Kind(models.TextChoices):
        BEFORE = "before", _("期限前")
        OVERDUE = "overdue", _("期限超過")
        DIGEST = "digest", _("未提出団体のまとめ")
        MANUAL = "manual", _("個別の督促")

    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.CASCADE, related_name="reminders", verbose_name=_("宛先")
    )
    sent_on = models.DateField(_("送信日"))
    kind = models.CharField(_("種類"), max_length=10, choices=Kind.choices)
    survey_round = models.ForeignKey(
        SurveyRound, models.CASCADE, related_name="reminders", verbose_name=_("調査回")
    )
    body = models.ForeignKey(Body, models.PROTECT, related_name="+", verbose_name=_("対象の団体"))
    detail = models.TextField(_("内容"), blank=True)
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("送信を指示した人"),
        help_text=_("定期の督促では空。"),
    )
    created_at = models.DateTimeField(_("記録日時"), default=timezone.now)

    class Meta:
        verbose_name = _("督促")
        verbose_name_plural = _("督促")
        ordering = ["-sent_on", "-pk"]
        constraints = [
            models.UniqueConstraint(fields=["recipient", "sent_on"], name="reminder_one_a_day"),
        ]

    def __str__(self) -> str:
        return f"{self.sent_on} {self.recipient} {self.get_kind_display()}"


class SignOffStatus(models.TextChoices):
    SIGNED = "signed", _("取りまとめ済み（国の確認待ち）")
    ACCEPTED = "accepted", _("受理")
    RETURNED = "returned", _("差戻し")


class PrefectureSignOff(models.Model):
    """A prefecture's sign-off of its municipalities' assessments for a round (取りまとめ)."""

    Status = SignOffStatus

    survey_round = models.ForeignKey(
        SurveyRound, models.CASCADE, related_name="sign_offs", verbose_name=_("調査回")
    )
    prefecture = models.ForeignKey(
        Body, models.PROTECT, related_name="sign_offs", verbose_name=_("都道府県")
    )
    status = models.CharField(_("状態"), max_length=10, choices=SignOffStatus.choices)
    updated_at = models.DateTimeField(_("更新日時"), default=timezone.now)

    class Meta:
        verbose_name = _("取りまとめ")
        verbose_name_plural = _("取りまとめ")
        constraints = [
            models.UniqueConstraint(
                fields=["survey_round", "prefecture"], name="sign_off_once_per_round"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.survey_round} {self.prefecture.name}: {self.get_status_display()}"


class SignOffEvent(models.Model):
    """Every step of a sign-off: signed, accepted, returned (with the note or reason)."""

    sign_off = models.ForeignKey(
        PrefectureSignOff, models.CASCADE, related_name="events", verbose_name=_("取りまとめ")
    )
    to_status = models.CharField(_("新しい状態"), max_length=10, choices=SignOffStatus.choices)
    comment = _reason_field(_("コメント"), blank=True)
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.PROTECT, related_name="+", verbose_name=_("操作した人")
    )
    at = models.DateTimeField(_("日時"), default=timezone.now)

    class Meta:
        verbose_name = _("取りまとめの履歴")
        verbose_name_plural = _("取りまとめの履歴")
        ordering = ["at", "pk"]

    def __str__(self) -> str:
        return f"{self.sign_off} → {self.to_status}"
