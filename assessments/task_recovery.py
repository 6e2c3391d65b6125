"""Tasks left RUNNING by a worker that died (kill -9, out of memory, a lost host) are found and
queued again, or failed cleanly after too many tries, with the record the user sees.

django-tasks-db marks a task RUNNING when a worker claims it and nothing else: if that worker
dies, the task (and the batch or PDF behind it) stays "running" for ever. Our worker
(`manage.py run_worker`) names itself `host:pid:random`, so a worker on the same host can tell
whether the claimant still lives (/proc); a claimant on another host is taken for dead only once
its task has run longer than any task may (EGOV_TASK_STALE_SECONDS).

Every task of ours may run again: a PDF render is keyed by the state it shows, a batch resumes
from the reports it has already written, and a mail delivery is at least once (a worker killed
between the SMTP reply and the record sends that e-mail twice).
"""

import dataclasses
import datetime
import logging
import os
import socket
from pathlib import Path

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.crypto import get_random_string
from django_tasks_db.models import DBTaskResult

from assessments.models import ReportBatch, ReportRender

logger = logging.getLogger(__name__)

# How many workers may claim one task before it is failed instead of queued again: a task that
# kills its worker each time (a PDF that exhausts memory) must not take every worker down in turn.
MAX_CLAIMS = 3
WORKER_COMMAND = "run_worker"
LOST_MESSAGE = "処理中のワーカーが停止しました（{claims} 回）。"


class WorkerLost(Exception):
    """Recorded as a task's failure when its workers died MAX_CLAIMS times."""


def host_name() -> str:
    return socket.gethostname()[:40]


def new_worker_id() -> str:
    """`host:pid:random` (at most 64 characters, django-tasks-db's limit)."""
    return f"{host_name()}:{os.getpid()}:{get_random_string(8)}"


def worker_is_alive(worker_id: str) -> bool | None:
    """True or False for a worker of this host; None when it cannot be told (another host)."""
    host, _, rest = worker_id.partition(":")
    pid_text = rest.partition(":")[0]
    if host != host_name() or not pid_text.isdigit():
        return None
    try:
        command = Path(f"/proc/{pid_text}/cmdline").read_bytes()
    except OSError:
        return False
    # A pid reused by another program is not our worker.
    return WORKER_COMMAND.encode() in command or b"db_worker" in command


@dataclasses.dataclass
class Recovery:
    requeued: list[str] = dataclasses.field(default_factory=list)
    failed: list[str] = dataclasses.field(default_factory=list)


def _is_dead(task: DBTaskResult, dead: set[str], stale_before: datetime.datetime) -> bool:
    claimant = task.worker_ids[-1] if task.worker_ids else ""
    if claimant in dead:
        return True
    alive = worker_is_alive(claimant)
    if alive is None:
        return task.started_at is not None and task.started_at < stale_before
    return not alive


def recover_tasks(*, dead_worker_ids: tuple[str, ...] = ()) -> Recovery:
    """Queue again (or fail) every RUNNING task whose worker is dead; returns what was done.

    `dead_worker_ids` are known dead whatever /proc says: a worker passes its own id after it
    lost its database connection in the middle of a task, which it then never finished.
    """
    dead = set(dead_worker_ids)
    stale_before = timezone.now() - datetime.timedelta(seconds=settings.TASK_STALE_SECONDS)
    outcome = Recovery()
    for task in DBTaskResult.objects.running().order_by("started_at"):
        if not _is_dead(task, dead, stale_before):
            continue
        with transaction.atomic():
            # The claim is the guard: if another worker recovered or finished it meanwhile, the
            # row is no longer RUNNING with this start time, and nothing is done twice.
            still = DBTaskResult.objects.filter(
                pk=task.pk, status=task.status, started_at=task.started_at
            )
            claims = len(task.worker_ids)
            if claims >= MAX_CLAIMS:
                error = WorkerLost(LOST_MESSAGE.format(claims=claims))
                if still.update(
                    status="FAILED",
                    finished_at=timezone.now(),
                    exception_class_path=f"{__name__}.WorkerLost",
                    traceback=f"{__name__}.WorkerLost: {error}\n",
                ):
                    _record_failure(task, str(error))
                    outcome.failed.append(str(task.pk))
            elif still.update(status="READY", started_at=None):
                _record_requeue(task)
                outcome.requeued.append(str(task.pk))
    for pk in outcome.requeued:
        logger.warning("task %s of a dead worker queued again", pk)
    for pk in outcome.failed:
        logger.error("task %s failed: its workers died %s times", pk, MAX_CLAIMS)
    return outcome


def _first_argument(task: DBTaskResult) -> int:
    """The record id our report tasks take as their one argument (0 when there is none)."""
    args = (task.args_kwargs or {}).get("args") or [0]
    return int(args[0]) if str(args[0]).isdigit() else 0


def _record_requeue(task: DBTaskResult) -> None:
    """The records the pages show follow their task back to the queue."""
    if task.task_path == "assessments.tasks.render_assessment_report":
        ReportRender.objects.filter(
            pk=_first_argument(task), status=ReportRender.Status.RUNNING
        ).update(status=ReportRender.Status.QUEUED, started_at=None)
    # A batch stays "running" (its page shows the reports done so far) and resumes.


def _record_failure(task: DBTaskResult, error: str) -> None:
    now = timezone.now()
    if task.task_path == "assessments.tasks.render_assessment_report":
        ReportRender.objects.filter(pk=_first_argument(task)).exclude(
            status=ReportRender.Status.DONE
        ).update(status=ReportRender.Status.FAILED, error=error, finished_at=now)
    elif task.task_path == "assessments.tasks.render_report_batch":
        ReportBatch.objects.filter(pk=_first_argument(task)).exclude(
            status=ReportBatch.Status.DONE
        ).update(status=ReportBatch.Status.FAILED, error=error, finished_at=now)
