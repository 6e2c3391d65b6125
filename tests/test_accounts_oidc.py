"""Single sign-on against a real OpenID Connect provider run inside the test.

django-oauth-toolkit's provider (tests/oidc_provider.py: RSA key made here, a confidential client
with the authorization-code grant and PKCE) is served by the live server at /idp/. The app's
allauth openid_connect client is configured the way EGOV_OIDC_* configures it, with the live
server as issuer, and does its own HTTP over the network: discovery, token exchange (code +
PKCE verifier), userinfo and the id_token. Two test clients play the two browsers' parts: one
on the app (login, callback), one at the provider (its login and the consent).

Personas: an invited member of 札幌市 staff, who signs in at the provider as `idp-hanako`;
`idp-stranger`, whom the provider knows but nobody invited; `idp-unverified`, whose address the
provider has not verified.
"""

from urllib.parse import parse_qs, urlsplit

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from django.apps import apps
from django.conf import settings as django_settings
from django.contrib.messages import get_messages
from django.db import connection
from django.test import Client, override_settings
from django.urls import reverse

from assessments.models import AccountEvent, Body, User
from assessments.registry import BODIES_FILE, import_bodies
from tests.support import make_user

CLIENT_ID = "egov-assess"
CLIENT_SECRET = "a-client-secret-known-to-both-sides-only"
PROVIDER_PASSWORD = "provider-side-password-2026"
REFUSED = "シングルサインオンのメールアドレスに一致する、招待済みのアカウントがありません。"
UNVERIFIED = "シングルサインオンのメールアドレスが、プロバイダーで確認されていません。"


def _private_key_pem() -> str:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()


@pytest.fixture
def sapporo(transactional_db):
    """北海道 and 札幌市 only: the whole registry takes 20 s to reload after each of these tests."""
    if not Body.objects.filter(code="011002").exists():
        rows = BODIES_FILE.read_bytes().splitlines(keepends=True)[:3]
        assert import_bodies(b"".join(rows), "bodies.csv", dry_run=False).ok
    return Body.objects.get(code="011002")


@pytest.fixture
def provider(live_server, sapporo):
    """django-oauth-toolkit's OIDC provider at live_server/idp/, and the app as its client.

    oauth2_provider is installed for this test only (its tables are made from its models and
    dropped afterwards: its migrations take half a minute on SQLite), and mounted only in this
    test's URLconf.
    """
    callback = live_server.url + reverse(
        "openid_connect_callback", kwargs={"provider_id": "egov-oidc"}
    )
    provider_settings = {
        "ROOT_URLCONF": "tests.oidc_provider",
        "OAUTH2_PROVIDER": {
            "OIDC_ENABLED": True,
            "OIDC_RSA_PRIVATE_KEY": _private_key_pem(),
            "PKCE_REQUIRED": True,
            "SCOPES": {"openid": "OpenID", "profile": "Profile", "email": "E-mail"},
            "DEFAULT_SCOPES": ["openid"],
            "OAUTH2_VALIDATOR_CLASS": "tests.oidc_provider.DirectoryValidator",
        },
        # As egov/settings.py builds it from EGOV_OIDC_ISSUER, _CLIENT_ID and _CLIENT_SECRET.
        "SOCIALACCOUNT_PROVIDERS": {
            "openid_connect": {
                "APPS": [
                    {
                        "provider_id": "egov-oidc",
                        "name": "SSO",
                        "client_id": CLIENT_ID,
                        "secret": CLIENT_SECRET,
                        "settings": {
                            "server_url": live_server.url + "/idp",
                            "oauth_pkce_enabled": True,
                        },
                    }
                ]
            }
        },
    }
    with override_settings(INSTALLED_APPS=[*django_settings.INSTALLED_APPS, "oauth2_provider"]):
        from oauth2_provider.models import Application

        provider_models = list(apps.get_app_config("oauth2_provider").get_models())
        with connection.schema_editor() as editor:
            for model in provider_models:
                editor.create_model(model)

        from tests import oidc_provider

        try:
            with override_settings(**provider_settings):
                Application.objects.create(
                    name="egov-assess",
                    client_id=CLIENT_ID,
                    client_secret=CLIENT_SECRET,  # DOT stores only its hash
                    client_type=Application.CLIENT_CONFIDENTIAL,
                    authorization_grant_type=Application.GRANT_AUTHORIZATION_CODE,
                    redirect_uris=callback,
                    algorithm=Application.RS256_ALGORITHM,
                    skip_authorization=False,  # the user is asked to consent
                )
                for username, claims in {
                    "idp-hanako": {"email": "Hanako.Sato@City.Sapporo.example.jp"},
                    "idp-stranger": {"email": "stranger@example.jp"},
                    "idp-unverified": {"email": "hanako.sato@city.sapporo.example.jp"},
                }.items():
                    User.objects.create_user(username=username, password=PROVIDER_PASSWORD)
                    oidc_provider.DIRECTORY[username] = {
                        **claims,
                        "email_verified": username != "idp-unverified",
                    }
                yield oidc_provider
        finally:
            oidc_provider.DIRECTORY.clear()
            with connection.schema_editor() as editor:
                for model in reversed(provider_models):
                    editor.delete_model(model)
    assert not apps.is_installed("oauth2_provider")


@pytest.fixture
def invited(provider, sapporo):
    """札幌市 staff, invited with the address the provider knows (in another letter case)."""
    user = make_user("sato-hanako", User.Role.BODY_STAFF, sapporo.code)
    user.email = "hanako.sato@city.sapporo.example.jp"
    user.save()
    return user


def sso_login(live_server, provider_username: str):
    """Run the whole flow; return the app-side client and the callback's response."""
    host = urlsplit(live_server.url).netloc
    app = Client(HTTP_HOST=host)  # the browser on the app: callbacks come back to this host
    idp = Client(HTTP_HOST=host)  # the same browser's session at the provider

    # The login page's button starts it; the app sends the browser to the provider's authorize
    # endpoint (found by discovery).
    login = reverse("openid_connect_login", kwargs={"provider_id": "egov-oidc"})
    assert f'action="{login}"' in app.get(reverse("login")).content.decode()
    response = app.post(login)
    assert response.status_code == 302
    authorize = urlsplit(response.url)
    assert f"{authorize.scheme}://{authorize.netloc}" == live_server.url
    assert authorize.path == "/idp/authorize/"
    query = parse_qs(authorize.query)
    assert query["code_challenge_method"] == ["S256"] and query["code_challenge"]
    assert query["client_id"] == [CLIENT_ID]

    # At the provider: not signed in there yet, so its login first, then the consent.
    response = idp.get(f"{authorize.path}?{authorize.query}")
    assert response.status_code == 302 and response.url.startswith(reverse("login"))
    response = idp.post(
        response.url, {"username": provider_username, "password": PROVIDER_PASSWORD}
    )
    assert response.status_code == 302
    consent = idp.get(response.url)
    assert consent.status_code == 200, consent.content.decode()[:2000]
    fields = {k: v for k, v in consent.context["form"].initial.items() if v is not None}
    response = idp.post(f"{authorize.path}?{authorize.query}", {**fields, "allow": "Authorize"})
    assert response.status_code == 302
    back = urlsplit(response.url)
    assert "code" in parse_qs(back.query), response.url

    # Back at the app: allauth exchanges the code, reads userinfo and the id_token over HTTP.
    callback = app.get(f"{back.path}?{back.query}")
    return app, callback


def messages_of(client, response) -> list[str]:
    return [str(m) for m in get_messages(response.wsgi_request)]


def test_an_invited_account_signs_in_by_its_verified_address(live_server, invited):
    app, response = sso_login(live_server, "idp-hanako")
    assert response.status_code == 302 and response.url == reverse("home")
    assert app.session["_auth_user_id"] == str(invited.pk)
    home = app.get(reverse("home"))
    assert home.status_code == 200 and home.context["user"] == invited
    assert AccountEvent.objects.filter(user=invited, kind=AccountEvent.Kind.LOGIN).exists()
    # The account is linked to the provider's subject: the role and body are still the invited ones.
    invited.refresh_from_db()
    assert invited.socialaccount_set.get().provider == "egov-oidc"
    assert (invited.role, invited.body) == (User.Role.BODY_STAFF, Body.objects.get(code="011002"))

    # Signing in again finds the linked account.
    app, response = sso_login(live_server, "idp-hanako")
    assert response.url == reverse("home") and app.session["_auth_user_id"] == str(invited.pk)


def test_an_address_nobody_invited_is_refused_and_creates_nobody(live_server, invited):
    users_before = set(User.objects.values_list("pk", flat=True))
    app, response = sso_login(live_server, "idp-stranger")
    assert response.status_code == 302 and response.url == reverse("login")
    assert "_auth_user_id" not in app.session
    assert REFUSED in messages_of(app, response)
    assert set(User.objects.values_list("pk", flat=True)) == users_before
    assert not User.objects.filter(email__iexact="stranger@example.jp").exists()
    assert not apps.get_model("socialaccount", "SocialAccount").objects.exists()
    page = app.get(reverse("login"))
    assert REFUSED in page.content.decode()


def test_an_unverified_address_is_refused(live_server, invited):
    app, response = sso_login(live_server, "idp-unverified")
    assert response.status_code == 302 and response.url == reverse("login")
    assert "_auth_user_id" not in app.session
    assert UNVERIFIED in messages_of(app, response)
    assert not invited.socialaccount_set.exists()
    assert not AccountEvent.objects.filter(user=invited, kind=AccountEvent.Kind.LOGIN).exists()
