"""django-allauth adapters: nobody signs up, mail goes through the queue, OIDC matches by e-mail."""

import logging

from allauth.account.adapter import DefaultAccountAdapter
from allauth.core.exceptions import ImmediateHttpResponse
from allauth.socialaccount.adapter import DefaultSocialAccountAdapter
from django.conf import settings
from django.contrib import messages
from django.shortcuts import redirect
from django.utils.translation import gettext as _

from assessments.mail import mail_queue
from assessments.models import User

log = logging.getLogger(__name__)


class AccountAdapter(DefaultAccountAdapter):
    def is_open_for_signup(self, request) -> bool:
        return False  # accounts are invited (/accounts/users/)

    def send_mail(self, template_prefix, email, context) -> None:
        """Render allauth's message (password reset …) and queue it: sent after commit."""
        message = self.render_mail(template_prefix, email, context)
        mail_queue(to=email, subject=message.subject, body=message.body, purpose=template_prefix)


class SocialAccountAdapter(DefaultSocialAccountAdapter):
    """Single sign-on logs in an invited account whose address the provider has verified.

    An unknown or unverified address is refused: no account, and no role, comes from SSO.
    """

    def is_open_for_signup(self, request, sociallogin) -> bool:
        return False

    def pre_social_login(self, request, sociallogin) -> None:
        if sociallogin.is_existing:
            if not sociallogin.user.is_active:
                self._refuse(request)
            return
        claims = sociallogin.account.extra_data or {}
        claims = claims.get("userinfo", claims) if isinstance(claims, dict) else {}
        email = str(claims.get(settings.OIDC_EMAIL_CLAIM) or "").strip().lower()
        verified = claims.get("email_verified") in (True, "true", "True", 1)
        user = (
            User.objects.filter(email__iexact=email, is_active=True).first()
            if email and verified
            else None
        )
        if user is None:
            log.warning(
                "SSO login refused: no active invited account for %r (verified=%s)", email, verified
            )
            self._refuse(request, unverified=bool(email) and not verified)
        sociallogin.connect(request, user)

    def _refuse(self, request, unverified: bool = False) -> None:
        messages.error(
            request,
            _("シングルサインオンのメールアドレスが、プロバイダーで確認されていません。")
            if unverified
            else _(
                "シングルサインオンのメールアドレスに一致する、招待済みのアカウントがありません。"
            ),
        )
        raise ImmediateHttpResponse(redirect("login"))
