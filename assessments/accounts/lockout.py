"""The page django-axes answers with while an account or address is locked out."""

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render


def lockout_response(request: HttpRequest, original_response, credentials) -> HttpResponse:
    minutes = round(settings.AXES_COOLOFF_TIME * 60)
    return render(request, "account/lockout.html", {"cooloff_minutes": minutes}, status=429)
