"""The guideline catalog: importing guideline files (JSON, or the XLSX layout) into editions.

Every load goes the same way, the shipped fixtures included (`load_catalog`):
read the file keeping where each value came from (source) → check all of it and name every
problem by file, line or row, and field (validation) → compare it with the series' latest
edition and decide: unchanged, updated in place, or a new edition (plan) → write it in one
transaction (loader). Nothing is written when any problem is found.

The edition rule (fixtures/guidelines/README.md): a correction of text updates the latest
edition and keeps every answer; a change of what is scored (a measure added or removed, scored
or not, weight, applicability, its place in the tree) becomes a new edition once an assessment
or survey round uses the latest one, and that assessment stays on its edition.
"""

import hashlib
from collections import Counter
from pathlib import Path

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from assessments.catalog.loader import apply_plan, load_links
from assessments.catalog.plan import Decision, Plan, guideline_data, plan_import
from assessments.catalog.source import FileError, read_source, write_xlsx
from assessments.catalog.validation import Checker, check_guideline, check_links
from assessments.models import CrosswalkLink, Guideline, GuidelineImport, User
from assessments.models.catalog import catalog_changes

CATALOG_DIR = settings.BASE_DIR / "fixtures" / "guidelines"
CROSSWALK_FILE = "crosswalk.json"

__all__ = [
    "CATALOG_DIR",
    "Decision",
    "Plan",
    "guideline_export",
    "guideline_import",
    "guideline_preview",
    "guideline_upload",
    "guideline_upload_confirm",
    "load_catalog",
]


def guideline_preview(
    name: str, content: bytes, *, editions: bool = True
) -> tuple[Plan | None, list[str]]:
    """What importing the file would do (writes nothing): the plan, or every problem found."""
    try:
        source = read_source(name, content)
    except FileError as error:
        return None, [str(error)]
    data, problems = check_guideline(source)
    if problems or data is None:
        return None, problems
    return plan_import(data, editions=editions), []


@transaction.atomic
@catalog_changes()
def guideline_import(
    *, name: str, content: bytes, editions: bool = True
) -> tuple[Plan, Guideline, Counter]:
    """Import one guideline file, all or nothing (ValidationError lists every problem)."""
    plan, problems = guideline_preview(name, content, editions=editions)
    if problems or plan is None:
        raise ValidationError(problems)
    stats: Counter = Counter()
    guideline = apply_plan(plan, stats)
    _check_crosswalk()
    return plan, guideline, stats


def guideline_export(guideline: Guideline) -> bytes:
    """The edition in the XLSX layout; importing it unchanged changes nothing."""
    return write_xlsx(guideline_data(guideline))


# --- The national administrator's page: upload, preview, confirm --------------------------------


def guideline_upload(
    *, user: User, name: str, content: bytes
) -> tuple[GuidelineImport, Plan | None, list[str]]:
    """Keep an uploaded file with its preview (nothing of the catalog is written)."""
    plan, problems = guideline_preview(name, content)
    record = GuidelineImport(
        uploaded_by=user,
        filename=name[:200],
        content=content,
        sha256=hashlib.sha256(content).hexdigest(),
        status=GuidelineImport.Status.REFUSED if problems else GuidelineImport.Status.PREVIEWED,
        summary={"errors": problems[:200]} if problems else plan.summary() if plan else {},
    )
    record.full_clean()
    record.save()
    return record, plan, problems


@transaction.atomic
def guideline_upload_confirm(*, record: GuidelineImport, user: User) -> tuple[Plan, Guideline]:
    """Import a previewed upload: its bytes are checked again (ValidationError when not valid)."""
    record = GuidelineImport.objects.select_for_update().get(pk=record.pk)
    if record.status != GuidelineImport.Status.PREVIEWED:
        raise ValidationError("この取込はすでに処理されています。")
    plan, guideline, _stats = guideline_import(name=record.filename, content=bytes(record.content))
    record.status = GuidelineImport.Status.IMPORTED
    record.guideline = guideline
    record.imported_at = timezone.now()
    record.summary = plan.summary() | {"imported_by": user.pk}
    record.save(update_fields=["status", "guideline", "imported_at", "summary"])
    return plan, guideline


# --- The shipped fixtures ------------------------------------------------------------------------


@transaction.atomic
@catalog_changes()
def load_catalog(directory: Path = CATALOG_DIR) -> Counter:
    """Load every guideline file of `directory`, then the crosswalk. Returns what changed.

    The shipped files are our own transcription of the guidelines: a correction is loaded into
    the latest edition whatever it changes (issue 13 item 2 unscored framing items in place);
    a new edition of a guideline is a file imported with `import_guideline`.
    """
    stats: Counter = Counter()
    for path in sorted(directory.glob("*.json")):
        if path.name == CROSSWALK_FILE:
            continue
        plan, problems = guideline_preview(path.name, path.read_bytes(), editions=False)
        if problems or plan is None:
            raise ValidationError(problems)
        apply_plan(plan, stats)
    crosswalk = directory / CROSSWALK_FILE
    if crosswalk.exists():
        try:
            source = read_source(crosswalk.name, crosswalk.read_bytes())
        except FileError as error:
            raise ValidationError(str(error)) from None
        check = Checker(source)
        links = check_links(check, source.data, ())
        if check.problems:
            raise ValidationError(check.problems)
        load_links(links, stats)
    _check_crosswalk()
    return stats


def _check_crosswalk() -> None:
    """Refuse a crosswalk whose carry-over would be ambiguous or would carry from nothing.

    A target that several measures map onto needs exactly one primary link, which decides
    carry-over; a primary link needs a scored source (an unscored one has no level to carry).
    The database allows at most one primary link per target (crosswalk_one_primary).
    """
    problems = []
    by_target: dict[int, list[CrosswalkLink]] = {}
    for link in CrosswalkLink.objects.select_related("source", "target").order_by("pk"):
        by_target.setdefault(link.target_id, []).append(link)
        if link.primary and not link.source.is_scored:
            problems.append(f"{link}: a primary link needs a scored source")
    for group in by_target.values():
        if len(group) > 1 and sum(link.primary for link in group) != 1:
            problems.append(f"{group[0].target}: {len(group)} sources need one primary link")
    if problems:
        raise ValidationError(problems)
