"""Every URL of the app × every role.

The test walks the URLconf: a URL without an entry in MATRIX fails the suite, so a new view
cannot ship without saying who may use it. The admin site is covered by `admin:index` (every
other admin URL goes through the same `admin_view` guard).

Roles (see conftest for the personas):
  anonymous, body_staff (札幌市), other_body_staff (函館市), prefecture_reviewer (北海道),
  other_prefecture_reviewer (青森県), national_admin.
The object under test belongs to 札幌市 unless an entry says otherwise.
"""

from collections.abc import Callable
from dataclasses import dataclass, field

import pytest
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from assessments.models import Assessment

ROLES = (
    "anonymous",
    "body_staff",
    "other_body_staff",
    "prefecture_reviewer",
    "other_prefecture_reviewer",
    "national_admin",
)
LOGIN = "login"  # a redirect to the login page
SKIPPED_NAMESPACES = {"admin"}


@dataclass
class Context:
    """The objects the URLs are built from: 札幌市's FY2026 assessment of the 2003 guideline."""

    assessment: Assessment
    extra: dict = field(default_factory=dict)


@dataclass
class Entry:
    expect: dict[str, int | str]
    kwargs: Callable[[Context], dict] = lambda ctx: {}
    method: str = "get"
    data: Callable[[Context], dict] = lambda ctx: {}

    def __post_init__(self):
        assert set(self.expect) == set(ROLES), f"every role needs an expectation: {self.expect}"


def everyone(status, anonymous=LOGIN):
    return {role: status for role in ROLES} | {"anonymous": anonymous}


def own_body_only(status=200):
    """Readable by the body, its prefecture's reviewer and the national admin; 404 for others."""
    return {
        "anonymous": LOGIN,
        "body_staff": status,
        "other_body_staff": 404,
        "prefecture_reviewer": status,
        "other_prefecture_reviewer": 404,
        "national_admin": status,
    }


def assessment_kwargs(ctx):
    return ctx.assessment.url_kwargs


MATRIX: dict[str, list[Entry]] = {
    "login": [
        Entry(everyone(200, anonymous=200) | {role: 302 for role in ROLES if role != "anonymous"})
    ],  # signed-in users go home
    "logout": [
        Entry(everyone(405, anonymous=405)),
        Entry(everyone(302, anonymous=302), method="post"),
    ],
    "set_language": [
        Entry(
            everyone(302, anonymous=302),
            method="post",
            data=lambda ctx: {"language": "en", "next": "/"},
        )
    ],
    "admin:index": [Entry(everyone(302, anonymous=302) | {"national_admin": 200})],
    "home": [Entry(everyone(200)), Entry(everyone(405), method="post")],
    "assessment_detail": [Entry(own_body_only(), kwargs=assessment_kwargs)],
}


def walk(patterns, prefix=""):
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            namespace = pattern.namespace
            if namespace in SKIPPED_NAMESPACES:
                continue
            yield from walk(pattern.url_patterns, f"{prefix}{namespace}:" if namespace else prefix)
        elif isinstance(pattern, URLPattern) and pattern.name:
            yield prefix + pattern.name


def test_every_url_has_an_entry_in_the_matrix():
    names = set(walk(get_resolver().url_patterns))
    missing = names - set(MATRIX)
    assert not missing, f"add these URLs to the access matrix: {sorted(missing)}"


@pytest.fixture
def personas(sapporo_staff, hakodate_staff, hokkaido_reviewer, aomori_reviewer, national_admin):
    return {
        "anonymous": None,
        "body_staff": sapporo_staff,
        "other_body_staff": hakodate_staff,
        "prefecture_reviewer": hokkaido_reviewer,
        "other_prefecture_reviewer": aomori_reviewer,
        "national_admin": national_admin,
    }


@pytest.fixture
def context(make_assessment):
    return Context(assessment=make_assessment("011002", 2026))


@pytest.mark.parametrize("name", sorted(MATRIX))
def test_each_role_gets_what_the_matrix_says(client, personas, context, name):
    failures = []
    for entry in MATRIX[name]:
        url = reverse(name, kwargs=entry.kwargs(context))
        for role in ROLES:
            client.logout()
            if personas[role] is not None:
                client.force_login(personas[role])
            response = getattr(client, entry.method)(url, entry.data(context))
            expected = entry.expect[role]
            if expected == LOGIN:
                ok = response.status_code == 302 and response.url.startswith(reverse("login"))
            else:
                ok = response.status_code == expected
            if not ok:
                failures.append(
                    f"{entry.method.upper()} {url} as {role}: "
                    f"{response.status_code}, expected {expected}"
                )
    assert not failures, "\n".join(failures)
