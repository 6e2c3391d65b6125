import time

from django.conf import settings
from django.contrib.auth import logout
from django.utils.cache import add_never_cache_headers


class AbsoluteSessionTimeoutMiddleware:
    """Log a user out once their session is older than SESSION_ABSOLUTE_SECONDS, however active.

    The idle limit is Django's own (SESSION_COOKIE_AGE with SESSION_SAVE_EVERY_REQUEST).
    """

    key = "_egov_session_started"

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        session = request.session
        started = session.get(self.key)
        now = int(time.time())
        if started is None:
            if session.get("_auth_user_id"):
                session[self.key] = now
        elif now - started > settings.SESSION_ABSOLUTE_SECONDS:
            logout(request)
        return self.get_response(request)


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
