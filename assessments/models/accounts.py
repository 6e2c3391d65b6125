"""Account administration: invitations, the audit trail of account events, and outgoing mail."""

import hashlib

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from assessments.models.registry import Body


def hash_token(token: str) -> str:
    """Only a digest of an invitation token is stored: a database leak reveals no usable link."""
    return hashlib.sha256(token.encode()).hexdigest()


class Invitation(models.Model):
    """A one-time link to set the password of an invited account (expiring, single use)."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        models.CASCADE,
        related_name="invitations",
        verbose_name=_("利用者"),
    )
    token_hash = models.CharField(max_length=64, unique=True)
    invited_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("招待")
        verbose_name_plural = _("招待")
        indexes = [models.Index(fields=["user", "-created_at"])]

    def __str__(self) -> str:
        return f"{self.user} ({self.created_at:%Y-%m-%d})"

    def is_usable(self, now=None) -> bool:
        now = now or timezone.now()
        return self.used_at is None and self.revoked_at is None and now < self.expires_at


class AccountEvent(models.Model):
    """Something that happened to an account: who did it, to whom, when, from where."""

    class Kind(models.TextChoices):
        INVITED = "invited", _("招待")
        INVITATION_RESENT = "invitation_resent", _("招待の再送")
        ACTIVATED = "activated", _("利用開始（パスワード設定）")
        ROLE_CHANGED = "role_changed", _("役割の変更")
        BODY_CHANGED = "body_changed", _("所属団体の変更")
        DEACTIVATED = "deactivated", _("利用停止")
        REACTIVATED = "reactivated", _("利用再開")
        LOCKED_OUT = "locked_out", _("ロック")
        UNLOCKED = "unlocked", _("ロック解除")
        LOGIN = "login", _("ログイン")
        LOGIN_FAILED = "login_failed", _("ログイン失敗")
        PASSWORD_CHANGED = "password_changed", _("パスワード変更")
        PASSWORD_RESET = "password_reset", _("パスワード再設定")
        MFA_ADDED = "mfa_added", _("二要素認証の設定")
        MFA_REMOVED = "mfa_removed", _("二要素認証の解除")

    kind = models.CharField(_("種類"), max_length=30, choices=Kind.choices)
    at = models.DateTimeField(_("日時"), default=timezone.now, db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("操作者"),
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        models.SET_NULL,
        null=True,
        blank=True,
        related_name="account_events",
        verbose_name=_("対象"),
    )
    # As typed at a failed login (the account may not exist); the account's name otherwise.
    username = models.CharField(_("ユーザー名"), max_length=150, blank=True)
    # The account's body when it happened: scopes the event for prefecture reviewers.
    body = models.ForeignKey(
        Body, models.SET_NULL, null=True, blank=True, related_name="+", verbose_name=_("所属団体")
    )
    ip_address = models.GenericIPAddressField(_("IPアドレス"), null=True, blank=True)
    detail = models.CharField(_("内容"), max_length=500, blank=True)

    class Meta:
        verbose_name = _("アカウント操作記録")
        verbose_name_plural = _("アカウント操作記録")
        ordering = ["-at", "-pk"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.username} {self.at:%Y-%m-%d %H:%M}"


class OutboundMail(models.Model):
    """One e-mail to one recipient, sent by the task queue after commit and retried on failure."""

    class Status(models.TextChoices):
        QUEUED = "queued", _("送信待ち")
        SENT = "sent", _("送信済み")
        FAILED = "failed", _("送信失敗")

    to = models.EmailField(_("宛先"))
    subject = models.CharField(_("件名"), max_length=300)
    body = models.TextField(_("本文"))
    purpose = models.CharField(_("用途"), max_length=50, blank=True)
    status = models.CharField(
        _("状態"), max_length=10, choices=Status.choices, default=Status.QUEUED
    )
    attempts = models.PositiveSmallIntegerField(_("試行回数"), default=0)
    last_error = models.TextField(_("最後のエラー"), blank=True)
    created_at = models.DateTimeField(_("作成日時"), default=timezone.now)
    sent_at = models.DateTimeField(_("送信日時"), null=True, blank=True)

    class Meta:
        verbose_name = _("送信メール")
        verbose_name_plural = _("送信メール")
        ordering = ["-created_at", "-pk"]
        indexes = [models.Index(fields=["status", "-created_at"])]

    def __str__(self) -> str:
        return f"{self.to}: {self.subject}"
