"""List, or with --delete remove, evidence files that no answer refers to.

Files become orphans when an assessment is deleted (its answers cascade, their files stay) or
were left by older versions that kept replaced files. Without --delete nothing is removed: the
command prints what it would delete and how much room that frees. Files younger than
--min-age-minutes are left alone: a save may have stored its file and not yet committed.
"""

import datetime

from django.core.files.storage import default_storage
from django.core.management.base import BaseCommand
from django.template.defaultfilters import filesizeformat
from django.utils import timezone

from assessments.models import Answer

EVIDENCE_ROOT = "evidence"


def stored_files(storage, directory: str):
    """Every file name under `directory` in the storage, depth first."""
    try:
        directories, files = storage.listdir(directory)
    except FileNotFoundError:
        return
    for name in files:
        yield f"{directory}/{name}"
    for sub in directories:
        yield from stored_files(storage, f"{directory}/{sub}")


class Command(BaseCommand):
    help = "List (default) or delete (--delete) evidence files that no answer refers to."

    def add_arguments(self, parser):
        parser.add_argument("--delete", action="store_true", help="delete them (default: list)")
        parser.add_argument(
            "--min-age-minutes",
            type=int,
            default=60,
            help="leave files younger than this alone (a save may not have committed yet)",
        )

    def handle(self, *args, delete: bool, min_age_minutes: int, **options):
        storage = default_storage
        referenced = set(
            Answer.objects.exclude(evidence_file="").values_list("evidence_file", flat=True)
        )
        cutoff = timezone.now() - datetime.timedelta(minutes=min_age_minutes)
        orphans, total = [], 0
        for name in stored_files(storage, EVIDENCE_ROOT):
            if name in referenced or storage.get_modified_time(name) > cutoff:
                continue
            orphans.append(name)
            total += storage.size(name)
        verb = "deleted" if delete else "would delete"
        for name in orphans:
            if delete:
                storage.delete(name)
            self.stdout.write(f"{verb}: {name}")
        self.stdout.write(
            f"{len(orphans)} orphaned file(s), {filesizeformat(total)}: {verb}"
            + ("" if delete else " (run with --delete to remove them)")
        )
