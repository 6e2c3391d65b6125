"""The task worker to run in production: django-tasks-db's db_worker, supervised.

It takes db_worker's options and adds what db_worker lacks:
- its id is `host:pid:random`, so that another worker can tell whether it is still alive;
- at start and then every --recover-every seconds it queues again (or fails) the tasks left
  RUNNING by dead workers (assessments.task_recovery);
- a lost database connection (the server restarted, pg_terminate_backend, a failover) does not end
  it: it reconnects with back-off, and a task it was running when the connection went is queued
  again rather than left RUNNING.
systemd restarts it if it stops all the same (deploy/*worker.service).
"""

import logging
import time

from django.db import DatabaseError, connections
from django_tasks_db.management.commands import db_worker

from assessments.task_recovery import new_worker_id, recover_tasks

logger = logging.getLogger("django_tasks_db")

RECONNECT_DELAYS = (1, 2, 5, 10, 30)  # then 30 s between attempts, for as long as it takes


class SupervisedWorker(db_worker.Worker):
    def __init__(self, *, recover_every: float, **kwargs) -> None:
        super().__init__(**kwargs)
        self.recover_every = recover_every
        self.next_recovery = 0.0

    def recover(self, *, dead: tuple[str, ...] = ()) -> None:
        recover_tasks(dead_worker_ids=dead)
        self.next_recovery = time.monotonic() + self.recover_every

    def run_task(self, db_task_result) -> None:
        if time.monotonic() >= self.next_recovery:
            self.recover()
        super().run_task(db_task_result)

    def run(self) -> None:
        failures = 0
        while True:
            try:
                self.recover()
                super().run()
                return
            except DatabaseError as exc:
                if not self.running:
                    return
                delay = RECONNECT_DELAYS[min(failures, len(RECONNECT_DELAYS) - 1)]
                failures += 1
                logger.warning(
                    "worker %s lost the database (%s); reconnecting in %s s",
                    self.worker_id,
                    type(exc).__name__,
                    delay,
                )
                connections.close_all()
                time.sleep(delay)
                self.startup_delay = False
                try:
                    # What this worker was running when the connection went is queued again.
                    self.recover(dead=(self.worker_id,))
                    failures = 0
                except DatabaseError:
                    connections.close_all()


class Command(db_worker.Command):
    help = (
        "Run the task worker: db_worker with a host:pid id, recovery of dead workers' tasks, "
        "and reconnection after a lost database connection"
    )

    def add_arguments(self, parser) -> None:
        super().add_arguments(parser)
        parser.set_defaults(worker_id=None)
        parser.add_argument(
            "--recover-every",
            type=float,
            default=60.0,
            help="Seconds between checks for tasks of dead workers (default: %(default)s)",
        )

    def handle(self, *args, **options) -> None:
        recover_every = options.pop("recover_every")
        worker_id = options.pop("worker_id") or new_worker_id()
        original = db_worker.Worker
        db_worker.Worker = lambda **kwargs: SupervisedWorker(  # type: ignore[misc,assignment]
            recover_every=recover_every, **kwargs
        )
        try:
            super().handle(*args, worker_id=worker_id, **options)
        finally:
            db_worker.Worker = original  # type: ignore[misc]
