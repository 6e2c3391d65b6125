"""Signal receivers that only *record* account events in the audit trail (no logic here).

Logins and failed logins come from Django's auth signals (every login form: allauth's, the
admin's, OIDC), lockouts from django-axes, second factors and passwords from allauth. Each
receiver writes one AccountEvent through audit.event_record and does nothing else.
"""

from datetime import timedelta

from allauth.account.signals import password_changed, password_reset
from allauth.mfa.signals import authenticator_added, authenticator_removed
from axes.signals import user_locked_out
from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.signals import user_logged_in, user_login_failed
from django.dispatch import receiver
from django.utils import timezone

from assessments.accounts.audit import Kind, event_record, recently_locked


def _account(username: str | None):
    if not username:
        return None
    return get_user_model()._default_manager.filter(username=username).first()


@receiver(user_logged_in, dispatch_uid="egov_audit_login")
def record_login(sender, request, user, **kwargs):
    event_record(kind=Kind.LOGIN, user=user, actor=user, request=request)


@receiver(user_login_failed, dispatch_uid="egov_audit_login_failed")
def record_login_failed(sender, credentials, request=None, **kwargs):
    username = (credentials or {}).get("username", "")
    event_record(
        kind=Kind.LOGIN_FAILED, user=_account(username), username=username, request=request
    )


@receiver(user_locked_out, dispatch_uid="egov_audit_locked_out")
def record_locked_out(sender, request, username=None, ip_address=None, **kwargs):
    # axes sends this at the lockout and again for every attempt during it: record it once.
    since = timezone.now() - timedelta(hours=settings.AXES_COOLOFF_TIME)
    if recently_locked(username or "", since):
        return
    event_record(
        kind=Kind.LOCKED_OUT,
        user=_account(username),
        username=username or "",
        request=request,
        detail=f"IP {ip_address}" if ip_address else "",
    )


@receiver(authenticator_added, dispatch_uid="egov_audit_mfa_added")
def record_mfa_added(sender, request, user, authenticator, **kwargs):
    event_record(kind=Kind.MFA_ADDED, user=user, request=request, detail=authenticator.type)


@receiver(authenticator_removed, dispatch_uid="egov_audit_mfa_removed")
def record_mfa_removed(sender, request, user, authenticator, **kwargs):
    event_record(kind=Kind.MFA_REMOVED, user=user, request=request, detail=authenticator.type)


@receiver(password_changed, dispatch_uid="egov_audit_password_changed")
def record_password_changed(sender, request, user, **kwargs):
    event_record(kind=Kind.PASSWORD_CHANGED, user=user, request=request)


@receiver(password_reset, dispatch_uid="egov_audit_password_reset")
def record_password_reset(sender, request, user, **kwargs):
    event_record(kind=Kind.PASSWORD_RESET, user=user, actor=user, request=request)
