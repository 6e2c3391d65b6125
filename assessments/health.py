"""Readiness of what a request needs besides the process: the task queue (django-tasks-db).

django-health-check ships the database, cache and storage checks; this one adds the queue that
sends e-mail and renders report batches, which it has no check for.
"""

import dataclasses
import datetime

from django.conf import settings
from django.db import DatabaseError
from django.utils import timezone
from django_tasks_db.models import DBTaskResult
from health_check import HealthCheck
from health_check.exceptions import ServiceUnavailable


@dataclasses.dataclass
class TaskQueue(HealthCheck):
    """The queue table answers, and no task has been RUNNING for longer than any task may run.

    A task still RUNNING past EGOV_TASK_STALE_SECONDS belongs to a worker that died (kill -9,
    out of memory): nothing will finish it, and the mail or batch behind it waits for ever.
    """

    async def run(self) -> None:
        # Async ORM: the query runs on the request's own thread and connection (closed by Django
        # at the end of the request), not on an executor thread that would keep a connection open.
        limit = timezone.now() - datetime.timedelta(seconds=settings.TASK_STALE_SECONDS)
        try:
            stale = await DBTaskResult.objects.running().filter(started_at__lt=limit).acount()
        except DatabaseError as exc:
            raise ServiceUnavailable("task queue table is not readable") from exc
        if stale:
            raise ServiceUnavailable(
                f"{stale} task(s) RUNNING for more than {settings.TASK_STALE_SECONDS} s"
            )
