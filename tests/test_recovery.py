"""Recovery: tasks of a dead worker are queued again or failed cleanly, a batch resumes from the
reports it had written, and a worker outlives its database connection (manage.py run_worker).

The unit tests set task rows up in the test database. The process tests run real workers as
separate processes against a database of their own (a SQLite file, or a new database on the
PostgreSQL server of the run), so that a worker can be killed with SIGKILL as in production.
"""

import datetime
import os
import signal
import sqlite3
import subprocess
import sys
import time
import uuid
import zipfile
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from assessments import task_recovery
from assessments.models import Assessment, ReportBatch, ReportRender
from assessments.tasks import render_assessment_report, render_report_batch

ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable


def dead_pid() -> int:
    process = subprocess.Popen(["true"])
    process.wait()
    return process.pid


def claimed(task_result, worker_id: str, *, claims: int = 1, started=None) -> DBTaskResult:
    """The queue row of `task_result` as a worker leaves it when it dies mid-task."""
    row = DBTaskResult.objects.get(pk=task_result.id)
    row.status = "RUNNING"
    row.started_at = started or timezone.now()
    row.worker_ids = [f"earlier-{n}" for n in range(claims - 1)] + [worker_id]
    row.save()
    return row


@pytest.fixture
def running_render(make_assessment):
    assessment = make_assessment("011002", 2026, status=Assessment.Status.SUBMITTED)
    render = ReportRender.objects.create(
        assessment=assessment,
        cache_key="k",
        language="ja",
        status=ReportRender.Status.RUNNING,
        started_at=timezone.now(),
    )
    return render, render_assessment_report.enqueue(render.pk)


def test_a_dead_workers_render_is_queued_again_with_its_record(running_render):
    render, result = running_render
    claimed(result, f"{task_recovery.host_name()}:{dead_pid()}:abcdefgh")
    outcome = task_recovery.recover_tasks()
    assert outcome.requeued == [str(result.id)] and not outcome.failed
    row = DBTaskResult.objects.get(pk=result.id)
    assert (row.status, row.started_at) == ("READY", None)
    render.refresh_from_db()
    assert render.status == ReportRender.Status.QUEUED  # the progress page says 待機中 again
    assert task_recovery.recover_tasks().requeued == []  # nothing twice


def test_a_live_worker_and_a_recent_task_elsewhere_are_left_alone(running_render):
    render, result = running_render
    # A process whose command line names the worker command: alive, whoever it is.
    alive = subprocess.Popen(
        [PYTHON, "-c", "import time; time.sleep(30)", task_recovery.WORKER_COMMAND]
    )
    try:
        wait_for(
            lambda: b"run_worker" in Path(f"/proc/{alive.pid}/cmdline").read_bytes(), 10, "exec"
        )
        claimed(result, f"{task_recovery.host_name()}:{alive.pid}:abcdefgh")
        assert task_recovery.recover_tasks().requeued == []
        # A pid reused by another program is not our worker.
        claimed(result, f"{task_recovery.host_name()}:{os.getpid()}:abcdefgh")
        assert task_recovery.recover_tasks().requeued == [str(result.id)]
    finally:
        alive.kill()
        alive.wait()
    # Another host's worker cannot be asked: its task is taken back only once it is stale.
    claimed(result, "other-host:123:abcdefgh")
    assert task_recovery.recover_tasks().requeued == []
    long_ago = timezone.now() - datetime.timedelta(seconds=settings.TASK_STALE_SECONDS + 1)
    claimed(result, "other-host:123:abcdefgh", started=long_ago)
    assert task_recovery.recover_tasks().requeued == [str(result.id)]


def test_a_task_that_kills_its_workers_fails_after_three_claims(running_render, make_assessment):
    render, result = running_render
    claimed(result, f"{task_recovery.host_name()}:{dead_pid()}:x", claims=task_recovery.MAX_CLAIMS)
    prefecture = make_assessment("010006", 2026).body
    batch = ReportBatch.objects.create(
        public_id=uuid.uuid4(),
        prefecture=prefecture,
        guideline=render.assessment.guideline,
        fiscal_year=2026,
        status=ReportBatch.Status.RUNNING,
    )
    batch_result = render_report_batch.enqueue(batch.pk)
    claimed(batch_result, "gone:1:x", claims=3, started=timezone.now() - datetime.timedelta(days=1))

    outcome = task_recovery.recover_tasks()
    assert sorted(outcome.failed) == sorted([str(result.id), str(batch_result.id)])
    row = DBTaskResult.objects.get(pk=result.id)
    assert row.status == "FAILED" and row.exception_class_path.endswith("WorkerLost")
    render.refresh_from_db()
    batch.refresh_from_db()
    # What the owner sees on the progress page and the batch page (and may retry).
    assert render.status == ReportRender.Status.FAILED
    assert render.error == "処理中のワーカーが停止しました（3 回）。"
    assert batch.status == ReportBatch.Status.FAILED and batch.error == render.error


# --- Real worker processes -------------------------------------------------------------------------

SETUP = """
from assessments.models import Assessment, Body, Guideline, User
from assessments.reports.batch import report_batch_start
guideline = Guideline.objects.get(code="egov-2003")
prefecture = Body.objects.get(code="010006")
user = User.objects.create_user("reviewer", password="x", role="prefecture_reviewer", body=prefecture)
for code in ("010006", "011002", "012025", "012033", "012041"):
    Assessment.objects.create(body=Body.objects.get(code=code), guideline=guideline,
                              fiscal_year=2026, status="submitted")
print(report_batch_start(prefecture=prefecture, guideline=guideline, fiscal_year=2026, user=user).pk)
"""


class WorkerDatabase:
    """A database the worker processes and this test share: SQLite file or a PostgreSQL DB."""

    def __init__(self, directory: Path):
        self.directory = directory
        self.postgres = connection.vendor == "postgresql"
        if self.postgres:
            self.name = f"egov_recovery_{os.getpid()}"
            server = settings.DATABASES["default"]
            self.url = (
                f"postgres://{server['USER']}:{server['PASSWORD']}@{server['HOST'] or '127.0.0.1'}"
                f":{server['PORT'] or 5432}/{self.name}"
            )
            with connection.cursor() as cursor:
                cursor.execute(f'DROP DATABASE IF EXISTS "{self.name}"')
                cursor.execute(f'CREATE DATABASE "{self.name}"')
        else:
            self.url = f"sqlite:///{directory}/worker.sqlite3"
        self.env = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "DJANGO_SETTINGS_MODULE": "egov.settings",
            "DATABASE_URL": self.url,
            "EGOV_MEDIA_ROOT": str(directory / "media"),
            "EGOV_REPORT_BATCH_DIR": str(directory / "batches"),
            "EGOV_REPORT_CACHE_DIR": str(directory / "report-cache"),
            "EGOV_LOG_LEVEL": "INFO",
        }

    def manage(self, *command: str, timeout: float = 300) -> str:
        return subprocess.run(
            [PYTHON, "manage.py", *command],
            cwd=ROOT,
            env=self.env,
            check=True,
            capture_output=True,
            text=True,
            timeout=timeout,
        ).stdout

    def query(self, sql: str, params=()):
        if self.postgres:
            import psycopg

            with psycopg.connect(self.url.replace("postgres://", "postgresql://")) as db:
                return db.execute(sql, params).fetchall()
        with sqlite3.connect(self.directory / "worker.sqlite3", timeout=30) as db:
            return db.execute(sql.replace("%s", "?"), params).fetchall()

    def worker(self, *options: str, log: str) -> subprocess.Popen:
        return subprocess.Popen(
            [
                PYTHON,
                "manage.py",
                "run_worker",
                "--no-reload",  # the worker is this process (DEBUG would add a reloader parent)
                "--no-startup-delay",
                "--interval",
                "0.2",
                *options,
            ],
            cwd=ROOT,
            env=self.env,
            stdout=subprocess.DEVNULL,
            stderr=open(self.directory / log, "wb"),  # noqa: SIM115 (closed with the process)
        )

    def drop(self) -> None:
        if self.postgres:
            with connection.cursor() as cursor:
                cursor.execute(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)')


@pytest.fixture
def worker_database(tmp_path, transactional_db):
    database = WorkerDatabase(tmp_path)
    try:
        database.manage("migrate", "-v0")
        database.manage("load_guidelines")
        database.manage("load_bodies")
        yield database
    finally:
        database.drop()


def wait_for(condition, seconds: float, what: str):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.1)
    pytest.fail(f"timed out after {seconds} s waiting for {what}")


def test_a_batch_whose_worker_was_killed_resumes_in_the_next_worker(worker_database):
    db = worker_database
    batch_id = int(db.manage("shell", "-v0", "-c", SETUP).strip())
    first = db.worker("--queue-name", "reports", log="first.log")
    try:
        wait_for(
            lambda: (
                db.query("SELECT done FROM assessments_reportbatch WHERE id = %s", (batch_id,))[0][
                    0
                ]
                >= 1
            ),
            120,
            "the first report of the batch",
        )
    finally:
        first.send_signal(signal.SIGKILL)
        first.wait()
    ((status, done),) = db.query(
        "SELECT status, done FROM assessments_reportbatch WHERE id = %s", (batch_id,)
    )
    assert status == "running" and 1 <= done < 5, "the batch was not cut short mid-way"
    ((task_status, worker_ids),) = db.query(
        "SELECT status, worker_ids FROM django_tasks_database_dbtaskresult"
    )
    assert task_status == "RUNNING" and f":{first.pid}:" in str(worker_ids)

    # A worker started afterwards (systemd's restart) takes the task back and resumes it.
    second = subprocess.run(
        [PYTHON, "manage.py", "run_worker", "--batch", "--queue-name", "reports", "--no-startup-delay"],
        cwd=ROOT, env=db.env, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert second.returncode == 0, second.stderr
    assert "of a dead worker queued again" in second.stderr
    assert "already written" in second.stderr and f"resumes: {done} of 5" in second.stderr
    ((status, done, failed, zip_name),) = db.query(
        "SELECT status, done, failed, zip_name FROM assessments_reportbatch WHERE id = %s",
        (batch_id,),
    )
    assert (status, done, failed) == ("done", 5, 0)
    batches = db.directory / "batches"
    with zipfile.ZipFile(batches / zip_name) as archive:
        names = archive.namelist()
        assert len(names) == 6 and all(archive.read(n).rstrip().endswith(b"%%EOF") for n in names)
    assert sorted(p.name for p in batches.rglob("*")) == [zip_name], "a .part or work file is left"


@pytest.mark.skipif(
    not os.environ.get("DATABASE_URL", "").startswith("postgres"),
    reason="pg_terminate_backend: PostgreSQL only (SQLite has no server connection)",
)
def test_the_worker_outlives_its_database_connection(worker_database):
    db = worker_database
    worker = db.worker("--queue-name", "reports", log="worker.log")
    try:
        worker_backends = lambda: db.query(  # noqa: E731
            "SELECT pid FROM pg_stat_activity WHERE datname = %s AND pid <> pg_backend_pid()",
            (db.name,),
        )
        wait_for(worker_backends, 60, "the worker's connection")
        for (pid,) in worker_backends():
            db.query("SELECT pg_terminate_backend(%s)", (pid,))
        time.sleep(1.5)
        assert worker.poll() is None, (db.directory / "worker.log").read_text()
        batch_id = int(db.manage("shell", "-v0", "-c", SETUP).strip())
        wait_for(
            lambda: (
                db.query("SELECT status FROM assessments_reportbatch WHERE id = %s", (batch_id,))[
                    0
                ][0]
                == "done"
            ),
            180,
            "the batch queued after the connection was terminated",
        )
        assert worker.poll() is None
    finally:
        worker.send_signal(signal.SIGKILL)
        worker.wait()


@pytest.mark.skipif(
    not os.environ.get("DATABASE_URL", "").startswith("postgres"),
    reason="pg_terminate_backend: PostgreSQL only (SQLite has no server connection)",
)
def test_a_terminated_database_connection_costs_no_failed_request(worker_database):
    """gunicorn's workers keep their connections (CONN_MAX_AGE); when the server ends them, the
    health check before each request reconnects: no request fails (issue 14 saw a 500 each)."""
    import socket
    import urllib.request

    db = worker_database
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = {
        **db.env,
        "DJANGO_DEBUG": "0",
        "DJANGO_SECRET_KEY": "terminated-connection-" + "k" * 50,
        "DJANGO_ALLOWED_HOSTS": "127.0.0.1",
        "GUNICORN_BIND": f"127.0.0.1:{port}",
        "GUNICORN_WORKERS": "2",
        "GUNICORN_THREADS": "2",
        "GUNICORN_ACCESSLOG": str(db.directory / "access.log"),
    }
    log = db.directory / "gunicorn.log"
    server = subprocess.Popen(
        [str(Path(PYTHON).parent / "gunicorn"), "--config", "deploy/gunicorn.conf.py"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=open(log, "wb"),  # noqa: SIM115 (closed with the process)
    )

    def get(path: str) -> int:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=20) as response:
                return response.status
        except urllib.error.HTTPError as refused:
            return refused.code

    def backends():
        return db.query(
            "SELECT pid FROM pg_stat_activity WHERE datname = %s AND pid <> pg_backend_pid()",
            (db.name,),
        )

    try:
        wait_for(lambda: _answers(get, "/healthz/"), 60, "gunicorn")
        pages = ["/accounts/login/", "/readyz/"]
        assert [get(p) for p in pages * 10] == [200] * 20  # every worker thread has a connection
        assert backends(), "the workers keep their database connections"
        for (pid,) in backends():
            db.query("SELECT pg_terminate_backend(%s)", (pid,))
        wait_for(lambda: not backends(), 10, "the connections to end")
        statuses = [get(p) for p in pages * 10]
        assert statuses == [200] * 20, log.read_text()
        assert backends(), "the workers connected again"
    finally:
        server.send_signal(signal.SIGINT)
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()


def _answers(get, path: str) -> bool:
    try:
        return get(path) == 200
    except OSError:
        return False
