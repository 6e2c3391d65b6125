"""Loading the registry of bodies (fixtures/bodies.csv or a given CSV/XLSX file).

Municipalities name their prefecture by code (prefecture_code), so a file lists each prefecture
before its municipalities, as the shipped list (sorted by code) does; a municipality whose
prefecture is unknown is reported by row and column like any other error.
"""

from pathlib import Path

from django.conf import settings

from assessments.resources import BodyResource, ImportReport, run_import
from assessments.spreadsheets import read_dataset

BODIES_FILE = settings.BASE_DIR / "fixtures" / "bodies.csv"


def import_bodies(data: bytes, filename: str, *, dry_run: bool, user=None) -> ImportReport:
    """Import bodies from CSV (UTF-8 or CP932) or XLSX bytes, all rows or none."""
    return run_import(BodyResource(), read_dataset(data, filename), dry_run=dry_run, user=user)


def load_bodies(path: Path = BODIES_FILE, *, dry_run: bool = False) -> ImportReport:
    path = Path(path)
    return import_bodies(path.read_bytes(), path.name, dry_run=dry_run)
