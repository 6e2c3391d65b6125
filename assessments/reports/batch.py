"""Rendering many assessment PDFs: in parallel processes from the command line, and as a
background job (ReportBatch) from the web.

Each file is written under a temporary name and renamed when complete, so an interrupted run
resumes by skipping the files already there. Each render has a time limit (SIGALRM) and worker
processes a memory limit, because user text can make a layout run long.
"""

import contextlib
import logging
import os
import resource
import shutil
import signal
import sys
import tempfile
import threading
import time
import uuid
import zipfile
from collections.abc import Callable, Iterable
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass, field
from multiprocessing import get_context
from pathlib import Path

from django.conf import settings
from django.core.files import File
from django.core.files.storage import Storage, storages
from django.db import connections, transaction
from django.db.models import F
from django.utils import timezone, translation

from assessments.models import Assessment, Body, Guideline, ReportBatch
from assessments.reports.pdf import (
    cached_assessment_pdf,
    render_prefecture_summary_pdf,
    report_filename,
    summary_filename,
)
from assessments.tasks import render_report_batch

logger = logging.getLogger(__name__)


class RenderTimeout(Exception):
    """A single report took longer than REPORT_RENDER_TIME_LIMIT."""


@contextlib.contextmanager
def time_limit(seconds: int):
    """Raise RenderTimeout after `seconds` (only in the main thread, where signals work)."""
    if seconds <= 0 or threading.current_thread() is not threading.main_thread():
        yield
        return

    def expire(signum, frame):
        raise RenderTimeout(f"over {seconds} s")

    previous = signal.signal(signal.SIGALRM, expire)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


def is_complete(path: Path) -> bool:
    """A PDF that was fully written: it exists and ends with the %%EOF marker."""
    try:
        size = path.stat().st_size
        if size < 100:
            return False
        with path.open("rb") as handle:
            handle.seek(max(0, size - 64))
            return b"%%EOF" in handle.read()
    except OSError:
        return False


def write_atomically(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".part")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def select_assessments(
    *, fiscal_year: int, guideline_code: str, prefecture: str | None = None
) -> list[tuple[int, str]]:
    """(pk, output file name) of the assessments in scope, by body code.

    `prefecture` is a two-digit prefecture number ("01") or None for every body.
    """
    queryset = Assessment.objects.filter(
        fiscal_year=fiscal_year, guideline__code=guideline_code
    ).select_related("body", "guideline")
    if prefecture is not None:
        prefectures = Body.objects.prefectures().filter(code__startswith=prefecture.zfill(2))
        queryset = queryset.of_prefecture(prefectures.get())
    return [(a.pk, report_filename(a)) for a in queryset.order_by("body__code")]


def render_report(pk: int, seconds: int) -> tuple[Assessment, bytes]:
    """One assessment's PDF within the time limit: the step both batch engines repeat."""
    with time_limit(seconds):
        assessment = Assessment.objects.select_related("body", "body__prefecture", "guideline").get(
            pk=pk
        )
        return assessment, cached_assessment_pdf(assessment)


# --- Command line: a pool of processes -----------------------------------------------------------


@dataclass
class BatchOutcome:
    rendered: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    failed: list[tuple[str, str]] = field(default_factory=list)


def _init_worker(memory_mb: int) -> None:
    if memory_mb:
        limit = memory_mb * 1024 * 1024
        with contextlib.suppress(ValueError, OSError):
            resource.setrlimit(resource.RLIMIT_AS, (limit, limit))


def render_to_file(pk: int, path: str, seconds: int, language: str) -> tuple[str, str]:
    """Render one assessment's PDF to `path` (in a worker); return (file name, error or "")."""
    target = Path(path)
    try:
        with translation.override(language):
            _assessment, data = render_report(pk, seconds)
        write_atomically(target, data)
        return target.name, ""
    except Exception as exc:  # one bad report must not stop the batch
        return target.name, f"{type(exc).__name__}: {exc}"


class ProgressBar:
    """A one-line text progress bar on stderr: [#####-----] 12/35 (3.1/s)."""

    def __init__(self, total: int, stream=None, width: int = 30) -> None:
        self.total, self.done, self.width = total, 0, width
        # A management command's OutputWrapper would end every write with a newline.
        self.stream = getattr(stream, "_out", stream) or sys.stderr
        self.started = time.monotonic()

    def advance(self, label: str = "") -> None:
        self.done += 1
        filled = int(self.width * self.done / self.total) if self.total else self.width
        rate = self.done / max(time.monotonic() - self.started, 1e-6)
        self.stream.write(
            f"\r[{'#' * filled}{'-' * (self.width - filled)}] {self.done}/{self.total} "
            f"({rate:.1f}/s) {label[:40]:<40}"
        )
        if self.done >= self.total:
            self.stream.write("\n")
        self.stream.flush()


def render_many(
    items: Iterable[tuple[int, str]],
    out_dir: Path,
    *,
    jobs: int,
    seconds: int | None = None,
    progress: Callable[[str], None] | None = None,
) -> BatchOutcome:
    """Render each (pk, file name) into out_dir with `jobs` processes, skipping finished files."""
    seconds = settings.REPORT_RENDER_TIME_LIMIT if seconds is None else seconds
    language = translation.get_language() or settings.LANGUAGE_CODE
    outcome = BatchOutcome()
    todo = []
    for pk, name in items:
        path = out_dir / name
        if is_complete(path):
            outcome.skipped.append(name)
            if progress:
                progress(name)
        else:
            todo.append((pk, str(path)))

    def record(name: str, error: str) -> None:
        (outcome.failed.append((name, error)) if error else outcome.rendered.append(name))
        if progress:
            progress(name)

    if jobs <= 1:
        for pk, target in todo:
            record(*render_to_file(pk, target, seconds, language))
        return outcome
    # Children must open their own database connections: close ours before forking.
    connections.close_all()
    with ProcessPoolExecutor(
        max_workers=jobs,
        mp_context=get_context("fork"),
        initializer=_init_worker,
        initargs=(settings.REPORT_RENDER_MEMORY_MB,),
    ) as pool:
        futures = [pool.submit(render_to_file, pk, path, seconds, language) for pk, path in todo]
        for future in as_completed(futures):
            try:
                record(*future.result())
            except Exception as exc:  # a worker died (memory limit, killed)
                record("?", f"{type(exc).__name__}: {exc}")
    return outcome


# --- Web: a background job with progress ---------------------------------------------------------


def batch_storage() -> Storage:
    """Where finished ZIPs are kept for every node: STORAGES["reports"] (a folder, or S3)."""
    return storages["reports"]


def batch_zip_name(batch: ReportBatch) -> str:
    return f"{batch.public_id}.zip"


@transaction.atomic
def report_batch_start(
    *, prefecture: Body, guideline: Guideline, fiscal_year: int, user
) -> ReportBatch:
    """Record a batch for `prefecture` and enqueue its job once the transaction commits."""
    total = Assessment.objects.of_round(guideline, fiscal_year).of_prefecture(prefecture).count()
    batch = ReportBatch(
        public_id=uuid.uuid4(),
        prefecture=prefecture,
        guideline=guideline,
        fiscal_year=fiscal_year,
        requested_by=user,
        total=total,
    )
    batch.full_clean()
    batch.save()
    transaction.on_commit(lambda: render_report_batch.enqueue(batch.pk))
    return batch


def batch_work_dir(batch: ReportBatch) -> Path:
    """Where a running batch keeps the PDFs it has written, until they are zipped."""
    return Path(settings.REPORT_BATCH_DIR) / f"{batch.public_id}.d"


def run_report_batch(batch_id: int) -> ReportBatch:
    """Render every assessment of the batch's prefecture (and its summary) into one ZIP.

    Each PDF is first written whole to the batch's work folder, so a batch whose worker died
    (queued again by task_recovery) resumes from the reports already there. The ZIP is built
    in the work folder and then stored (STORAGES["reports"]); the work folder is removed after.
    """
    batch = ReportBatch.objects.select_related("prefecture", "guideline").get(pk=batch_id)
    if batch.is_finished:
        return batch
    assessments = list(
        Assessment.objects.of_round(batch.guideline, batch.fiscal_year)
        .of_prefecture(batch.prefecture)
        .select_related("body", "guideline")
        .order_by("body__code")
    )
    work = batch_work_dir(batch)
    work.mkdir(parents=True, exist_ok=True)
    for leftover in work.glob(".*.part"):  # a write cut short by a dead worker
        leftover.unlink(missing_ok=True)
    names = [report_filename(assessment) for assessment in assessments]
    resumed = sum(is_complete(work / name) for name in names)
    if resumed:
        logger.info(
            "batch %s resumes: %d of %d reports already written", batch.pk, resumed, len(names)
        )
    ReportBatch.objects.filter(pk=batch.pk).update(
        status=ReportBatch.Status.RUNNING, total=len(assessments), done=resumed, failed=0
    )
    part = work / "reports.zip.part"
    errors = []
    try:
        summary_name = summary_filename(batch.prefecture, batch.fiscal_year, batch.guideline)
        if not is_complete(work / summary_name):
            write_atomically(
                work / summary_name,
                render_prefecture_summary_pdf(batch.prefecture, batch.guideline, batch.fiscal_year),
            )
        written = [summary_name]
        for assessment, name in zip(assessments, names, strict=True):
            if is_complete(work / name):
                written.append(name)
                continue
            try:
                _rendered, data = render_report(assessment.pk, settings.REPORT_RENDER_TIME_LIMIT)
                write_atomically(work / name, data)
                written.append(name)
                ReportBatch.objects.filter(pk=batch.pk).update(done=F("done") + 1)
            except Exception as exc:
                errors.append(f"{assessment.body.code}: {type(exc).__name__}")
                ReportBatch.objects.filter(pk=batch.pk).update(
                    done=F("done") + 1, failed=F("failed") + 1
                )
        with zipfile.ZipFile(part, "w", compression=zipfile.ZIP_STORED) as archive:
            for name in written:
                archive.write(work / name, name)
        storage = batch_storage()
        with part.open("rb") as handle:
            # Saved under its own name (overwriting a copy cut short by a dead worker); it is
            # served only once the batch is DONE, which is recorded after this.
            if storage.exists(batch_zip_name(batch)):
                storage.delete(batch_zip_name(batch))
            stored = storage.save(batch_zip_name(batch), File(handle))
        shutil.rmtree(work, ignore_errors=True)
    except Exception as exc:
        with contextlib.suppress(OSError):
            os.unlink(part)
        shutil.rmtree(work, ignore_errors=True)
        ReportBatch.objects.filter(pk=batch.pk).update(
            status=ReportBatch.Status.FAILED,
            error=f"{type(exc).__name__}: {exc}"[:2000],
            finished_at=timezone.now(),
        )
        raise
    ReportBatch.objects.filter(pk=batch.pk).update(
        status=ReportBatch.Status.DONE,
        zip_name=stored,
        error="\n".join(errors)[:2000],
        finished_at=timezone.now(),
    )
    batch.refresh_from_db()
    return batch
