import time

from django.conf import settings
from django.contrib.auth import logout


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
