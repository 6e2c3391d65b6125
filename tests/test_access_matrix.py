"""Every URL of the app × every role (entries in tests/access/, one module per feature).

The test walks the URLconf: a URL without an entry fails the suite, so a new view cannot ship
without saying who may use it. The admin site is covered by `admin:index` (every other admin
URL goes through the same `admin_view` guard).
"""

import importlib
import pkgutil

import pytest
from django.urls import URLPattern, URLResolver, get_resolver, reverse

import tests.access
from tests.access import LOGIN, ROLES, Context

SKIPPED_NAMESPACES = {"admin"}
MODULES = [
    importlib.import_module(f"tests.access.{info.name}")
    for info in pkgutil.iter_modules(tests.access.__path__)
]
MATRIX = {name: entries for module in MODULES for name, entries in module.ENTRIES.items()}


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
    assert not missing, f"add these URLs to the access matrix (tests/access/): {sorted(missing)}"


@pytest.fixture
def context(
    make_assessment,
    sapporo_staff,
    hakodate_staff,
    hokkaido_reviewer,
    aomori_reviewer,
    national_admin,
):
    users = {
        "anonymous": None,
        "body_staff": sapporo_staff,
        "other_body_staff": hakodate_staff,
        "prefecture_reviewer": hokkaido_reviewer,
        "other_prefecture_reviewer": aomori_reviewer,
        "national_admin": national_admin,
    }
    ctx = Context(assessment=make_assessment("011002", 2026), users=users)
    for module in MODULES:
        if hasattr(module, "prepare"):
            module.prepare(ctx)
    return ctx


@pytest.mark.parametrize("name", sorted(MATRIX))
@pytest.mark.usefixtures("thread_safe_default_cache")  # /readyz/'s cache check runs on a thread
def test_each_role_gets_what_the_matrix_says(client, context, name):
    failures = []
    for entry in MATRIX[name]:
        for role in ROLES:
            if entry.before_each:
                entry.before_each(context)
            url = reverse(name, kwargs=entry.kwargs(context))
            client.logout()
            if context.users[role] is not None:
                client.force_login(context.users[role])
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
