"""Shared test state: the real catalog and registry, loaded once, and named personas.

The catalog (both guidelines) and all 1,788 bodies are loaded into the test database once per
session, as the app ships them. Tests build their own assessments and answers on top.
Browser tests (marked `browser`) use live_server, which empties the tables when it ends, so they
are moved to the end of the run and reload the reference data themselves.
"""

import os

import pytest
from django.conf import settings
from django.utils import timezone, translation

from assessments.catalog import load_catalog
from assessments.models import Assessment, Body, Guideline, Measure, User
from assessments.registry import load_bodies
from assessments.selectors import catalog as catalog_memory
from tests.support import BROWSER_CONTEXT, CHROMIUM, CHROMIUM_ARGS, make_user

# Playwright's sync API runs an event loop in this thread; Django would refuse ORM calls.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")


def _commits(item) -> bool:
    """Tests whose data is committed (live_server, other processes) empty the tables after."""
    marker = item.get_closest_marker("django_db")
    return (
        item.get_closest_marker("browser") is not None
        or "transactional_db" in getattr(item, "fixturenames", ())
        or bool(marker and marker.kwargs.get("transaction"))
    )


def pytest_collection_modifyitems(config, items):
    items.sort(key=_commits)


def load_reference_data() -> None:
    load_catalog()
    report = load_bodies()
    assert report.ok, report.errors


@pytest.fixture(autouse=True)
def japanese():
    """Every test starts in Japanese: a request in English must not leak into the next test."""
    with translation.override(settings.LANGUAGE_CODE):
        yield


@pytest.fixture(autouse=True)
def fresh_catalog_memory():
    """Each test reads the catalog from its own database: a test's rolled-back catalog changes
    can leave a guideline's revision where an earlier test's kept catalog had it."""
    catalog_memory.forget()
    yield
    catalog_memory.forget()


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup, django_db_blocker):
    with django_db_blocker.unblock():
        load_reference_data()


@pytest.fixture(autouse=True)
def media_root(settings, tmp_path):
    """Uploaded files (evidence) go to a per-test directory, never into the worktree."""
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


@pytest.fixture
def immediate_tasks(settings):
    """Tasks (e-mail delivery) run as soon as they are enqueued, i.e. after the commit."""
    settings.TASKS = {
        "default": {
            "BACKEND": "django.tasks.backends.immediate.ImmediateBackend",
            "QUEUES": settings.TASK_QUEUES,
        }
    }


@pytest.fixture(autouse=True)
def no_prerender(settings):
    """Submitting or approving does not render the PDF ahead (tests/test_report_render.py does)."""
    settings.REPORT_PRERENDER = False


@pytest.fixture
def body(db):
    def get(code: str) -> Body:
        return Body.objects.get(code=code)

    return get


@pytest.fixture
def sapporo_staff(db):
    """Staff of 札幌市 (011002), a designated city of 北海道: fills its own assessment."""
    return make_user("sapporo-staff", User.Role.BODY_STAFF, "011002")


@pytest.fixture
def sapporo_viewer(db):
    """A read-only member of 札幌市: may read its assessments, never change them."""
    return make_user("sapporo-viewer", User.Role.BODY_VIEWER, "011002")


@pytest.fixture
def hakodate_staff(db):
    """Staff of 函館市 (012025), another body of the same prefecture."""
    return make_user("hakodate-staff", User.Role.BODY_STAFF, "012025")


@pytest.fixture
def hokkaido_reviewer(db):
    """Reviewer of 北海道 (010006): reviews the 179 municipalities of 北海道."""
    return make_user("hokkaido-reviewer", User.Role.PREFECTURE_REVIEWER, "010006")


@pytest.fixture
def aomori_reviewer(db):
    """Reviewer of 青森県 (020001): must never see anything of 北海道."""
    return make_user("aomori-reviewer", User.Role.PREFECTURE_REVIEWER, "020001")


@pytest.fixture
def national_admin(db):
    """The national administrator: sees everything, opens survey rounds, reviews prefectures."""
    user = make_user("national-admin", User.Role.NATIONAL_ADMIN, None)
    user.is_staff = user.is_superuser = True
    user.save()
    return user


@pytest.fixture
def guideline_2003(db):
    return Guideline.objects.get(code="egov-2003")


@pytest.fixture
def scored_2003(guideline_2003):
    return list(Measure.objects.filter(guideline=guideline_2003, is_scored=True).order_by("order"))


@pytest.fixture
def make_assessment(db, guideline_2003):
    def make(
        body_code: str = "011002",
        fiscal_year: int = 2026,
        guideline=None,
        status: str = Assessment.Status.IN_PROGRESS,
    ) -> Assessment:
        now = timezone.now()
        return Assessment.objects.create(
            body=Body.objects.get(code=body_code),
            guideline=guideline or guideline_2003,
            fiscal_year=fiscal_year,
            status=status,
            submitted_at=now if status in ("submitted", "approved") else None,
            approved_at=now if status == "approved" else None,
        )

    return make


# --- Browser tests ------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def chromium():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def reference_data(transactional_db):
    """Tests that commit (live_server, worker processes) run last and load the data themselves."""
    if not Body.objects.exists():
        load_reference_data()


@pytest.fixture
def page(chromium, live_server, reference_data):
    context = chromium.new_context(**BROWSER_CONTEXT, base_url=live_server.url)
    page = context.new_page()
    page.set_default_timeout(15_000)
    yield page
    context.close()


@pytest.fixture
def thread_safe_default_cache(settings):
    """The default cache in memory, for tests of /readyz/ inside a test's transaction.

    The probe's cache check runs on a thread with a connection of its own, which cannot write the
    database cache table of the in-memory SQLite test database while the test's transaction holds
    it (tests/test_shared_cache.py tests the database cache between processes).
    """
    settings.CACHES = settings.CACHES | {
        "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}
    }
