"""/healthz/ (the process answers) and /readyz/ (database, caches, storage, task queue)."""

import datetime
import json

import pytest
from django.db import connection
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("thread_safe_default_cache")]


def test_healthz_answers_without_the_database(client, django_assert_num_queries):
    with django_assert_num_queries(0):
        response = client.get("/healthz/")
    assert response.status_code == 200
    assert response.content == b"ok\n"
    assert "no-store" in response["Cache-Control"]
    assert not response.cookies, "a probe must not start a session or set a CSRF cookie"


@pytest.fixture
def report_cache(settings, tmp_path):
    """The PDF cache in a directory of its own, to see what the probe leaves there."""
    settings.CACHES = settings.CACHES | {
        "reports": settings.CACHES["reports"] | {"LOCATION": str(tmp_path / "reports")}
    }
    return tmp_path / "reports"


def test_readyz_reports_every_dependency(client, media_root, report_cache):
    response = client.get("/readyz/")
    assert response.status_code == 200, response.content
    assert "no-store" in response["Cache-Control"]
    assert not response.cookies
    body = json.loads(response.content)
    assert set(body.values()) == {"OK"}
    names = " ".join(body)
    for check in ("Database", "CacheRoundTrip", "reports", "Storage", "TaskQueue"):
        assert check in names
    # The storage probe wrote, read and deleted its file, the cache probes their keys.
    assert not [p for p in media_root.rglob("*") if p.is_file()]
    assert not [p for p in report_cache.rglob("*") if p.is_file()]


def test_readyz_in_plain_text(client):
    response = client.get("/readyz/", headers={"accept": "text/plain"})
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/plain")
    assert b"TaskQueue(): OK" in response.content


def test_a_task_left_running_by_a_dead_worker_makes_readyz_503(client, settings):
    settings.TASK_STALE_SECONDS = 600
    started = timezone.now() - datetime.timedelta(seconds=601)
    task = DBTaskResult.objects.create(
        status="RUNNING",
        args_kwargs={"args": [], "kwargs": {}},
        task_path="assessments.tasks.send_mail",
        backend_name="default",
        queue_name="default",
        run_after=started,
        started_at=started,
    )
    response = client.get("/readyz/")
    assert response.status_code == 503
    assert "RUNNING" in json.loads(response.content)["TaskQueue()"]
    # A task running for less than the limit is a busy worker, not a dead one.
    DBTaskResult.objects.filter(pk=task.pk).update(started_at=timezone.now())
    assert client.get("/readyz/").status_code == 200


def test_readyz_is_503_when_the_queue_table_is_gone(client):
    with connection.cursor() as cursor:
        cursor.execute(f"DROP TABLE {DBTaskResult._meta.db_table}")  # rolled back after the test
    response = client.get("/readyz/")
    assert response.status_code == 503
    assert "task queue" in json.loads(response.content)["TaskQueue()"]


def test_readyz_is_503_when_storage_cannot_be_written(client, settings, tmp_path):
    blocker = tmp_path / "not-a-directory"
    blocker.write_text("a file where the media directory should be")
    settings.MEDIA_ROOT = blocker
    response = client.get("/readyz/")
    assert response.status_code == 503
    assert json.loads(response.content)["Storage(alias='default')"] != "OK"


def test_probes_take_no_other_method(client):
    assert client.post("/healthz/").status_code == 405
    assert client.post("/readyz/").status_code == 405


def test_probes_answer_on_plain_http_when_the_app_redirects_to_https(client, settings):
    """A load balancer asks the app server directly, without TLS: no redirect for the probes."""
    settings.SECURE_SSL_REDIRECT = True
    assert client.get("/healthz/").status_code == 200
    assert client.get("/readyz/").status_code == 200
    assert client.get("/accounts/login/").status_code == 301
