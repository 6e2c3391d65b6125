"""Account administration: invite, resend, accept, change, deactivate, reactivate, unlock.

Every service checks the acting user's scope through access.py and records an AccountEvent.
Invitation e-mails are queued (assessments.mail) and sent by the task queue after commit.
"""

import datetime
import secrets

from axes.utils import reset as axes_reset
from django.conf import settings
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.http import HttpRequest
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from assessments import access
from assessments.accounts.audit import Kind, event_record
from assessments.mail import mail_queue
from assessments.models import Body, Invitation, User
from assessments.models.accounts import hash_token


def _check_assignment(actor: User, role: str, body: Body | None) -> None:
    if role not in User.Role.values:
        raise ValidationError({"role": _("役割が正しくありません。")}, code="bad_role")
    if role == User.Role.NATIONAL_ADMIN:
        if body is not None:
            raise ValidationError({"body": _("国の管理者には所属団体を指定しません。")})
    elif body is None:
        raise ValidationError({"body": _("所属団体を指定してください。")})
    elif role == User.Role.PREFECTURE_REVIEWER and not body.is_prefecture:
        raise ValidationError({"body": _("審査担当の所属は都道府県です。")})
    if not access.may_assign(actor, role, body):
        raise PermissionDenied


def _username_for(email: str) -> str:
    """The login name of an invited account: the address itself (unique, and what they know)."""
    return email.strip().lower()


def invitation_send(*, user: User, actor: User | None) -> Invitation:
    """Revoke earlier links, create a new one and queue the e-mail that carries it.

    Called inside the inviting service's transaction (user_invite, users_import).
    """
    now = timezone.now()
    user.invitations.filter(used_at__isnull=True, revoked_at__isnull=True).update(revoked_at=now)
    token = secrets.token_urlsafe(32)
    invitation = Invitation(
        user=user,
        token_hash=hash_token(token),
        invited_by=actor,
        created_at=now,
        expires_at=now + datetime.timedelta(hours=settings.INVITATION_VALID_HOURS),
    )
    invitation.full_clean()
    invitation.save()
    context = {
        "user": user,
        "body_name": str(user.body) if user.body_id else _("国"),
        "role": user.get_role_display(),
        "hours": settings.INVITATION_VALID_HOURS,
        "url": settings.SITE_URL.rstrip("/") + reverse("invitation_accept", args=[token]),
    }
    with translation.override(settings.LANGUAGE_CODE):
        subject = " ".join(
            render_to_string("email/accounts/invitation_subject.txt", context).split()
        )
        body = render_to_string("email/accounts/invitation.txt", context)
    mail_queue(to=user.email, subject=subject, body=body, purpose="invitation")
    return invitation


@transaction.atomic
def user_invite(
    *,
    actor: User,
    email: str,
    last_name: str,
    first_name: str = "",
    body: Body | None,
    role: str,
    request: HttpRequest | None = None,
) -> User:
    """Create an account without a usable password and send it a one-time link to set one."""
    _check_assignment(actor, role, body)
    email = email.strip().lower()
    if User.objects.filter(email__iexact=email).exists():
        raise ValidationError(
            {"email": _("このメールアドレスのアカウントは既にあります。")}, code="duplicate_email"
        )
    user = User(
        username=_username_for(email),
        email=email,
        last_name=last_name.strip(),
        first_name=first_name.strip(),
        body=body,
        role=role,
    )
    user.set_unusable_password()
    user.full_clean()
    user.save()
    invitation_send(user=user, actor=actor)
    event_record(
        kind=Kind.INVITED,
        user=user,
        actor=actor,
        request=request,
        detail=f"{user.get_role_display()} / {body.name if body else '-'}",
    )
    return user


@transaction.atomic
def invitation_resend(*, actor: User, user: User, request: HttpRequest | None = None) -> Invitation:
    """A new link for an invited account that has not set its password (the old one stops)."""
    if not access.may_manage_user(actor, user):
        raise PermissionDenied
    if user.has_usable_password():
        raise ValidationError(_("この利用者は既にパスワードを設定しています。"), code="accepted")
    invitation = invitation_send(user=user, actor=actor)
    event_record(kind=Kind.INVITATION_RESENT, user=user, actor=actor, request=request)
    return invitation


def invitation_for_token(token: str) -> Invitation | None:
    """The usable invitation a link's token stands for, or None (unknown, used, expired)."""
    invitation = (
        Invitation.objects.select_related("user").filter(token_hash=hash_token(token)).first()
    )
    if invitation is None or not invitation.is_usable() or not invitation.user.is_active:
        return None
    return invitation


@transaction.atomic
def invitation_accept(*, token: str, password: str, request: HttpRequest | None = None) -> User:
    """Set the invited account's password through its link; the link then stops working."""
    invitation = invitation_for_token(token)
    if invitation is None:
        raise ValidationError(_("このリンクは無効か、期限が切れています。"), code="invalid_link")
    # Claim the link first, so that two submissions of the same link cannot both succeed.
    claimed = Invitation.objects.filter(pk=invitation.pk, used_at__isnull=True).update(
        used_at=timezone.now()
    )
    if not claimed:
        raise ValidationError(_("このリンクは無効か、期限が切れています。"), code="invalid_link")
    user = invitation.user
    validate_password(password, user)
    user.set_password(password)
    user.save(update_fields=["password"])
    event_record(kind=Kind.ACTIVATED, user=user, actor=user, request=request)
    return user


@transaction.atomic
def user_change(
    *, actor: User, user: User, role: str, body: Body | None, request: HttpRequest | None = None
) -> User:
    """Change an account's role and body, both within the actor's scope."""
    if not access.may_manage_user(actor, user):
        raise PermissionDenied
    if user.pk == actor.pk:
        raise ValidationError(_("自分の役割や所属は変更できません。"), code="self")
    _check_assignment(actor, role, body)
    old_role, old_body = user.get_role_display(), user.body
    changed_role, changed_body = role != user.role, (body.pk if body else None) != user.body_id
    user.role, user.body = role, body
    user.full_clean()
    user.save(update_fields=["role", "body"])
    if changed_role:
        event_record(
            kind=Kind.ROLE_CHANGED,
            user=user,
            actor=actor,
            request=request,
            detail=f"{old_role} → {user.get_role_display()}",
        )
    if changed_body:
        event_record(
            kind=Kind.BODY_CHANGED,
            user=user,
            actor=actor,
            request=request,
            detail=f"{old_body.name if old_body else '-'} → {body.name if body else '-'}",
        )
    return user


@transaction.atomic
def user_set_active(
    *, actor: User, user: User, active: bool, request: HttpRequest | None = None
) -> User:
    """Deactivate (cannot log in, history kept) or reactivate an account."""
    if not access.may_manage_user(actor, user):
        raise PermissionDenied
    if user.pk == actor.pk:
        raise ValidationError(_("自分のアカウントは停止できません。"), code="self")
    if user.is_active != active:
        user.is_active = active
        user.save(update_fields=["is_active"])
        event_record(
            kind=Kind.REACTIVATED if active else Kind.DEACTIVATED,
            user=user,
            actor=actor,
            request=request,
        )
    return user


@transaction.atomic
def user_unlock(*, actor: User, user: User, request: HttpRequest | None = None) -> int:
    """Lift a login lockout of the account (its failed attempts are forgotten)."""
    if not access.may_manage_user(actor, user):
        raise PermissionDenied
    removed = axes_reset(username=user.get_username())
    event_record(kind=Kind.UNLOCKED, user=user, actor=actor, request=request)
    return removed


def locked_usernames(usernames: list[str]) -> set[str]:
    """Which of these accounts django-axes currently locks out (limit reached, cool-off running)."""
    from axes.models import AccessAttempt

    since = timezone.now() - datetime.timedelta(hours=settings.AXES_COOLOFF_TIME)
    return set(
        AccessAttempt.objects.filter(
            username__in=usernames,
            failures_since_start__gte=settings.AXES_FAILURE_LIMIT,
            attempt_time__gte=since,
        ).values_list("username", flat=True)
    )
