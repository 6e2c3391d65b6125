"""Login, home page, language, sessions."""

import datetime
import time

import pytest
from django.test import override_settings
from django.urls import reverse

from assessments.models import Answer, Assessment
from tests.support import PASSWORD


def test_login_page_is_japanese_by_default(client, db):
    response = client.get(reverse("login"))
    html = response.content.decode()
    assert response.status_code == 200
    assert '<html lang="ja">' in html
    assert "ログイン" in html and "ユーザー名" in html


def test_english_is_available(client, db):
    response = client.get(reverse("login"), headers={"accept-language": "en"})
    assert '<html lang="en">' in response.content.decode()


def test_login_then_home_shows_the_body_and_its_assessments(
    client, sapporo_staff, make_assessment, scored_2003
):
    assessment = make_assessment("011002", 2026)
    Answer.objects.create(assessment=assessment, measure=scored_2003[0], level=4)
    make_assessment("012025", 2026)  # 函館市's must not show
    response = client.post(
        reverse("login"), {"username": "sapporo-staff", "password": PASSWORD}, follow=True
    )
    html = response.content.decode()
    assert response.redirect_chain[-1][0] == reverse("home")
    assert "札幌市" in html and "011002" in html
    assert "2026年度（令和8年度）" in html
    assert f"1 / {len(scored_2003)}" in html
    assert assessment.get_absolute_url() in html
    # The table row and the link to this year's assessment; 函館市's is not shown.
    assert html.count("/assessments/011002/") == 2 and "/assessments/012025/" not in html


def test_home_query_count_does_not_grow_with_assessments(
    client, sapporo_staff, make_assessment, django_assert_num_queries, guideline_2003
):
    client.force_login(sapporo_staff)
    make_assessment("011002", 2024)
    client.get(reverse("home"))  # the first page of a session also stamps its start
    # session; user with body and prefecture; assessments with their scores (one query);
    # guidelines for the staff's start form (the session is not written: it changed nothing)
    with django_assert_num_queries(4):
        client.get(reverse("home"))
    for year in (2020, 2021, 2022, 2023, 2025):
        make_assessment("011002", year)
    with django_assert_num_queries(4):
        response = client.get(reverse("home"))
    assert response.content.decode().count("/assessments/") == 6


def test_assessment_url_is_readable_and_shareable(make_assessment):
    assessment = make_assessment("011002", 2026)
    assert assessment.get_absolute_url() == "/assessments/011002/2026/egov-2003/"


@override_settings(DEBUG=False)
def test_the_demo_password_is_refused_when_debug_is_off(client, sapporo_staff):
    sapporo_staff.set_password("egov-demo-2026")
    sapporo_staff.save()
    # Through the login form: django-axes needs the request (client.login passes none).
    response = client.post(
        reverse("login"), {"username": "sapporo-staff", "password": "egov-demo-2026"}
    )
    assert response.status_code == 200 and "_auth_user_id" not in client.session


@override_settings(DEBUG=True)
def test_the_demo_password_works_in_debug(client, sapporo_staff):
    sapporo_staff.set_password("egov-demo-2026")
    sapporo_staff.save()
    response = client.post(
        reverse("login"), {"username": "sapporo-staff", "password": "egov-demo-2026"}
    )
    assert response.status_code == 302 and client.session["_auth_user_id"] == str(sapporo_staff.pk)


@override_settings(SESSION_ABSOLUTE_SECONDS=60)
def test_sessions_end_after_the_absolute_limit(client, sapporo_staff, monkeypatch):
    import time

    client.force_login(sapporo_staff)
    assert client.get(reverse("home")).status_code == 200
    now = time.time()
    monkeypatch.setattr(time, "time", lambda: now + 61)
    response = client.get(reverse("home"))
    assert response.status_code == 302 and response.url.startswith(reverse("login"))


def test_the_idle_expiry_slides_without_a_session_write_on_each_request(
    client, sapporo_staff, monkeypatch
):
    """Thirty idle minutes end a session; using it moves the end, written at most once a minute."""
    from django.contrib.sessions.models import Session
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client.force_login(sapporo_staff)
    now = time.time()
    monkeypatch.setattr(time, "time", lambda: now)
    client.get(reverse("home"))
    expiry = Session.objects.get().expire_date

    def session_writes() -> list[str]:
        with CaptureQueriesContext(connection) as queries:
            assert client.get(reverse("home")).status_code == 200
        return [
            q["sql"]
            for q in queries
            if "django_session" in q["sql"] and not q["sql"].lstrip().startswith("SELECT")
        ]

    monkeypatch.setattr(time, "time", lambda: now + 30)
    assert session_writes() == []  # a page view that changes nothing writes nothing
    assert Session.objects.get().expire_date == expiry
    monkeypatch.setattr(time, "time", lambda: now + 61)
    assert len(session_writes()) == 1  # a minute on: the expiry moves
    moved = Session.objects.get().expire_date
    assert moved > expiry
    # Thirty minutes after that, unused: the session is gone and the next page asks for a login.
    Session.objects.update(expire_date=moved - datetime.timedelta(seconds=1801))
    response = client.get(reverse("home"))
    assert response.status_code == 302 and response.url.startswith(reverse("login"))


@pytest.mark.parametrize("status", [Assessment.Status.SUBMITTED])
def test_assessment_page_lists_every_measure(
    client, sapporo_staff, make_assessment, status, scored_2003
):
    assessment = make_assessment("011002", 2026, status=status)
    client.force_login(sapporo_staff)
    html = client.get(assessment.get_absolute_url()).content.decode()
    for measure in scored_2003:
        assert measure.title_ja in html
