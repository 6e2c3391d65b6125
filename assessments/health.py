"""Readiness checks django-health-check does not ship: the task queue (django-tasks-db), and a
cache round trip that leaves nothing behind.

The library's own database and storage checks are used as they are (egov/urls.py → views).
"""

import dataclasses
import datetime
import uuid

from django.conf import settings
from django.core.cache import caches
from django.db import DatabaseError, connections
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


@dataclasses.dataclass
class CacheRoundTrip(HealthCheck):
    """A value is written, read back and deleted.

    The library's Cache check leaves its key to expire; in the file-based PDF cache every probe
    would leave a file, and past MAX_ENTRIES the cache culls entries at random: cached reports.
    """

    alias: str = "default"

    def run(self) -> None:
        cache = caches[self.alias]
        key = f"egov-readyz:{uuid.uuid4().hex}"
        try:
            cache.set(key, "ok", 30)
            answered = cache.get(key)
        except OSError as exc:
            raise ServiceUnavailable(f"cache {self.alias!r} is not writable") from exc
        finally:
            cache.delete(key)
            # This runs on an executor thread: a database cache's connection would stay open.
            connections.close_all()
        if answered != "ok":
            raise ServiceUnavailable(f"cache {self.alias!r} did not return the value written")
