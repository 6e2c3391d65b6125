import time

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.http import HttpResponse
from django.shortcuts import redirect
from django.utils.cache import add_never_cache_headers
from django.utils.translation import gettext as _


class AbsoluteSessionTimeoutMiddleware:
    """Session lifetimes: idle (SESSION_COOKIE_AGE) and absolute (SESSION_ABSOLUTE_SECONDS).

    The idle expiry slides with use, but the session is written at most once a
    SESSION_REFRESH_SECONDS (60) instead of on every request (SESSION_SAVE_EVERY_REQUEST is off):
    a page view or an autosave that changes nothing in the session costs no session write, and the
    idle limit is exact to within that minute. Past the absolute limit the user is logged out,
    however active.
    """

    key = "_egov_session_started"
    refreshed_key = "_egov_session_refreshed"

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        session = request.session
        started = session.get(self.key)
        now = int(time.time())
        if started is None:
            if session.get("_auth_user_id"):
                session[self.key] = now
                session[self.refreshed_key] = now
        elif now - started > settings.SESSION_ABSOLUTE_SECONDS:
            logout(request)
        elif now - session.get(self.refreshed_key, 0) >= settings.SESSION_REFRESH_SECONDS:
            session[self.refreshed_key] = now  # saved with a new expiry by SessionMiddleware
        return self.get_response(request)


class RequireMFAMiddleware:
    """With EGOV_REQUIRE_MFA, reviewers and national administrators without a second factor are
    sent to set one up (TOTP) before any other page."""

    # Pages that stay open: setting up the factor itself, logging out, the language switch.
    ALLOWED = {"logout", "account_logout", "set_language", "account_reauthenticate"}

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if settings.REQUIRE_MFA and self._needs_factor(request):
            match = request.resolver_match or _resolve(request.path_info)
            name = match.url_name if match else None
            if name not in self.ALLOWED and not (name or "").startswith("mfa_"):
                # Say why on the next page shown (allauth may first ask for the password again).
                messages.info(
                    request,
                    _("審査担当と国の管理者は二要素認証が必要です。認証アプリを設定してください。"),
                )
                return redirect("mfa_activate_totp")
        return self.get_response(request)

    @staticmethod
    def _needs_factor(request) -> bool:
        user = request.user
        if not user.is_authenticated or not (user.is_prefecture_reviewer or user.is_national_admin):
            return False
        from allauth.mfa.models import Authenticator

        return not Authenticator.objects.filter(user=user, type=Authenticator.Type.TOTP).exists()


def _resolve(path: str):
    from django.urls import Resolver404, resolve

    try:
        return resolve(path)
    except Resolver404:
        return None


class NoStoreForAuthenticatedMiddleware:
    """Nothing shown to a logged-in user is kept by a browser or proxy cache (its pages, exports
    and PDFs hold another body's data on a shared terminal). Static files never reach here:
    WhiteNoise answers them earlier, with their long cache lifetime."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            add_never_cache_headers(response)
        return response


class RequestSizeLimitMiddleware:
    """Refuse a request body larger than MAX_REQUEST_BYTES before anything reads it.

    Django spools an upload to the temporary directory while it parses the body, and only then
    do the form's size checks run: a 1 GiB POST was written to disk in full before a 10 MiB check
    refused it. Here the declared Content-Length is compared first (413), and a body without one
    (chunked) is refused (411): Django would read none of it anyway, so the upload would silently
    arrive empty. Placed right after SecurityMiddleware, before the session or anything else.
    The page is self-contained (no session, no user): this runs before both are loaded.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        declared = request.META.get("CONTENT_LENGTH") or ""
        limit = settings.MAX_REQUEST_BYTES
        if not declared.strip():
            if request.META.get("HTTP_TRANSFER_ENCODING"):
                return self._refuse(request, 411, limit)
            return self.get_response(request)
        if not declared.strip().isdigit():
            return self._refuse(request, 400, limit)
        if int(declared) > limit:
            return self._refuse(request, 413, limit)
        return self.get_response(request)

    @staticmethod
    def _refuse(request, status: int, limit: int):
        from django.template.loader import render_to_string
        from django.utils import translation

        # In Japanese: LocaleMiddleware has not run, and the thread may still hold the language
        # of its previous request.
        with translation.override(settings.LANGUAGE_CODE):
            page = render_to_string("413.html", {"status": status, "limit": limit})
        response = HttpResponse(page, status=status)
        # The middlewares that add these for other pages are further in; this page needs none
        # of what they allow (no script, no frame).
        response["Content-Security-Policy"] = "default-src 'none'; frame-ancestors 'none'"
        response["X-Frame-Options"] = "DENY"
        add_never_cache_headers(response)
        return response
