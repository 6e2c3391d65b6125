"""Accounts: the account pages (managers only), the invitation link, allauth's own pages."""

from assessments.models import Body, User
from tests.access import LOGIN, ROLES, Entry, everyone, read_only

MANAGERS = {
    "anonymous": LOGIN,
    "body_staff": 403,
    "other_body_staff": 403,
    "prefecture_reviewer": 200,
    "other_prefecture_reviewer": 200,
    "national_admin": 200,
}


def managed(status) -> dict:
    """An account of 札幌市: its prefecture's reviewer and the national admin; 404 elsewhere."""
    return {
        "anonymous": LOGIN,
        "body_staff": 403,
        "other_body_staff": 403,
        "prefecture_reviewer": status,
        "other_prefecture_reviewer": 404,
        "national_admin": status,
    }


def prepare(ctx) -> None:
    target = User.objects.create_user(
        username="sapporo-target",
        email="sapporo-target@example.jp",
        role=User.Role.BODY_STAFF,
        body=Body.objects.get(code="011002"),
    )
    ctx.extra["target"] = target


def target_kwargs(ctx) -> dict:
    return {"pk": ctx.extra["target"].pk}


def reactivate(ctx) -> None:
    User.objects.filter(pk=ctx.extra["target"].pk).update(is_active=True)


def post_only(expect, **kwargs) -> list[Entry]:
    return [
        Entry(everyone(405), **kwargs),
        Entry(expect, method="post", before_each=reactivate, **kwargs),
    ]


SIGNED_IN = {role: 200 for role in ROLES} | {"anonymous": LOGIN}
ANONYMOUS_ONLY = {role: 302 for role in ROLES} | {"anonymous": 200}

ENTRIES = {
    "account_list": read_only(MANAGERS),
    "account_invite": [
        Entry(MANAGERS),
        Entry(MANAGERS | {k: 400 for k, v in MANAGERS.items() if v == 200}, method="post"),
    ],
    "account_import": [
        Entry(MANAGERS),
        Entry(MANAGERS | {k: 400 for k, v in MANAGERS.items() if v == 200}, method="post"),
    ],
    "account_detail": read_only(managed(200), kwargs=target_kwargs),
    "account_change": post_only(managed(302), kwargs=target_kwargs),
    "account_resend": post_only(managed(302), kwargs=target_kwargs),
    "account_deactivate": post_only(managed(302), kwargs=target_kwargs),
    "account_reactivate": post_only(managed(302), kwargs=target_kwargs),
    "account_unlock": post_only(managed(302), kwargs=target_kwargs),
    "account_audit": read_only(MANAGERS),
    "account_audit_export": read_only(MANAGERS),
    "mail_list": read_only(everyone(403) | {"national_admin": 200}),
    # A link that was never issued (or is spent): the same 404 for everybody.
    "invitation_accept": [
        Entry(everyone(404, anonymous=404), kwargs=lambda ctx: {"token": "no-such-token"}),
        Entry(
            everyone(404, anonymous=404),
            method="post",
            kwargs=lambda ctx: {"token": "no-such-token"},
        ),
    ],
}

# --- django-allauth's pages ----------------------------------------------------------------------
# What allauth itself answers (checked role by role); the account rules above do not apply to a
# user's own password and second factor. SSO pages are 404 while no provider is configured.


def same(get, post) -> list[Entry]:
    return [Entry(get), Entry(post, method="post")]


def each(status, anonymous) -> dict:
    return everyone(status, anonymous=anonymous)


OWN = each(200, LOGIN)

ENTRIES |= {
    "account_login": same(ANONYMOUS_ONLY, ANONYMOUS_ONLY),
    "account_logout": same(each(405, 405), each(302, 302)),
    "account_signup": same(ANONYMOUS_ONLY, ANONYMOUS_ONLY),  # closed: invitations only
    "account_inactive": same(each(200, 200), each(405, 405)),
    "account_change_password": same(OWN, OWN),
    "account_set_password": same(each(302, LOGIN), each(302, LOGIN)),  # → change (has one)
    "account_reauthenticate": same(OWN, OWN),
    "account_reset_password": same(each(200, 200), each(200, 200)),
    "account_reset_password_done": same(each(200, 200), each(405, 405)),
    "account_reset_password_from_key": [
        Entry(each(200, 200), kwargs=lambda ctx: {"uidb36": "1", "key": "x-y"}),
        Entry(each(200, 200), kwargs=lambda ctx: {"uidb36": "1", "key": "x-y"}, method="post"),
    ],  # an invalid key: allauth's "bad token" page
    "account_reset_password_from_key_done": same(each(200, 200), each(405, 405)),
    "account_email": same(each(404, LOGIN), each(404, LOGIN)),  # addresses are set by managers
    "account_email_verification_sent": same(each(200, 200), each(405, 405)),
    "account_confirm_email": [
        Entry(each(200, 200), kwargs=lambda ctx: {"key": "x"}),
        Entry(each(404, 404), kwargs=lambda ctx: {"key": "x"}, method="post"),
    ],
    "account_confirm_login_code": same(each(302, 302), each(302, 302)),  # login by code is off
    "mfa_index": same(OWN, each(405, LOGIN)),
    "mfa_authenticate": same(each(302, 302), each(302, 302)),  # only during a login
    "mfa_reauthenticate": same(each(302, LOGIN), each(302, LOGIN)),
    "mfa_activate_totp": same(each(302, LOGIN), each(302, LOGIN)),  # after a fresh password
    "mfa_deactivate_totp": same(each(404, LOGIN), each(404, LOGIN)),  # none to deactivate
    "mfa_generate_recovery_codes": same(each(302, LOGIN), each(302, LOGIN)),
    "mfa_view_recovery_codes": same(each(404, LOGIN), each(405, LOGIN)),
    "mfa_download_recovery_codes": same(each(404, LOGIN), each(404, LOGIN)),
    "socialaccount_connections": same(OWN, OWN),
    "socialaccount_login_cancelled": same(each(200, 200), each(405, 405)),
    "socialaccount_login_error": same(each(401, 401), each(405, 405)),
    "socialaccount_signup": same(each(302, 302), each(302, 302)),  # never: no sign-up by SSO
    "openid_connect_login": [
        Entry(each(404, 404), kwargs=lambda ctx: {"provider_id": "egov-oidc"}),
        Entry(each(404, 404), kwargs=lambda ctx: {"provider_id": "egov-oidc"}, method="post"),
    ],
    "openid_connect_callback": [
        Entry(each(404, 404), kwargs=lambda ctx: {"provider_id": "egov-oidc"}),
        Entry(each(404, 404), kwargs=lambda ctx: {"provider_id": "egov-oidc"}, method="post"),
    ],
}
