"""Second factor: with EGOV_REQUIRE_MFA a reviewer sets up TOTP before any other page; TOTP and
recovery codes log in (a recovery code once). Persona: the 北海道 reviewer; 札幌市 staff (optional)."""

import types

import pytest
from allauth.mfa.models import Authenticator
from allauth.mfa.recovery_codes.internal.auth import RecoveryCodes
from allauth.mfa.totp.internal import auth as totp_auth
from django.urls import reverse

from assessments.models import AccountEvent
from tests.support import PASSWORD

FROZEN = 1_800_000_000.0  # a fixed clock, so that a code never straddles two 30 s periods


@pytest.fixture
def require_mfa(settings, monkeypatch):
    settings.REQUIRE_MFA = True
    monkeypatch.setattr(totp_auth, "time", types.SimpleNamespace(time=lambda: FROZEN))


def code_for(secret: str, offset: int = 0) -> str:
    counter = int(FROZEN) // 30 + offset
    return totp_auth.format_hotp_value(totp_auth.hotp_value(secret, counter))


def log_in(client, username, password=PASSWORD):
    return client.post(reverse("login"), {"username": username, "password": password})


def set_up_totp(client, capture) -> str:
    page = client.get(reverse("mfa_activate_totp"))
    # allauth asks for the password again before a factor is added.
    assert page.status_code == 302 and page.url.startswith(reverse("account_reauthenticate"))
    response = client.post(page.url, {"password": PASSWORD})
    assert response.status_code == 302
    page = client.get(reverse("mfa_activate_totp"))
    assert page.status_code == 200
    secret = page.context["form"].secret
    with capture(execute=True):  # allauth announces the new factor after commit
        response = client.post(reverse("mfa_activate_totp"), {"code": code_for(secret)})
    assert response.status_code == 302
    return secret


def test_a_reviewer_without_a_factor_is_sent_to_set_one_up(
    client, require_mfa, hokkaido_reviewer, django_capture_on_commit_callbacks
):
    assert log_in(client, "hokkaido-reviewer").status_code == 302
    for name in ("home", "dashboard", "review_queue", "account_list", "account_audit"):
        response = client.get(reverse(name))
        assert response.status_code == 302 and response.url == reverse("mfa_activate_totp"), name
    set_up_totp(client, django_capture_on_commit_callbacks)
    assert client.get(reverse("home")).status_code == 200
    assert Authenticator.objects.filter(user=hokkaido_reviewer, type="totp").exists()
    assert AccountEvent.objects.filter(user=hokkaido_reviewer, kind="mfa_added").exists()


def test_staff_may_go_without_a_second_factor(client, require_mfa, sapporo_staff):
    assert log_in(client, "sapporo-staff").status_code == 302
    assert client.get(reverse("home")).status_code == 200


def test_without_the_setting_reviewers_log_in_with_the_password(
    client, settings, hokkaido_reviewer
):
    settings.REQUIRE_MFA = False
    log_in(client, "hokkaido-reviewer")
    assert client.get(reverse("home")).status_code == 200


def test_totp_and_a_recovery_code_log_in_and_the_code_works_once(
    client, require_mfa, hokkaido_reviewer, django_capture_on_commit_callbacks
):
    log_in(client, "hokkaido-reviewer")
    secret = set_up_totp(client, django_capture_on_commit_callbacks)
    client.post(reverse("logout"))

    # Password, then the TOTP code from the set-up secret.
    response = log_in(client, "hokkaido-reviewer")
    assert response.status_code == 302 and response.url == reverse("mfa_authenticate")
    assert "_auth_user_id" not in client.session
    assert client.post(reverse("mfa_authenticate"), {"code": "000000"}).status_code == 200
    response = client.post(reverse("mfa_authenticate"), {"code": code_for(secret)})
    assert response.status_code == 302
    assert client.session["_auth_user_id"] == str(hokkaido_reviewer.pk)
    assert client.get(reverse("home")).status_code == 200
    client.post(reverse("logout"))

    # A recovery code works once.
    recovery = Authenticator.objects.get(user=hokkaido_reviewer, type="recovery_codes")
    code = RecoveryCodes(recovery).get_unused_codes()[0]
    log_in(client, "hokkaido-reviewer")
    assert client.post(reverse("mfa_authenticate"), {"code": code}).status_code == 302
    assert client.session["_auth_user_id"] == str(hokkaido_reviewer.pk)
    client.post(reverse("logout"))
    log_in(client, "hokkaido-reviewer")
    assert client.post(reverse("mfa_authenticate"), {"code": code}).status_code == 200
    assert "_auth_user_id" not in client.session
