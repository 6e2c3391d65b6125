"""Reports and spreadsheets: the PDF, the questionnaire, the prefecture summary and batches.

Prefecture pages belong to 北海道 (the reviewer's prefecture): municipal staff get 403 (they are
never reviewers), the 青森県 reviewer 404 (another prefecture), the national admin 200.
"""

import io
import uuid
import zipfile

from django.core.files.base import ContentFile

from assessments.models import Body, Guideline, ReportBatch
from assessments.reports.batch import batch_storage, batch_zip_name
from tests.access import (
    LOGIN,
    ROLES,
    Entry,
    assessment_kwargs,
    body_staff_writes,
    everyone,
    own_body_only,
    read_only,
)


def reviewers_only(status=200) -> dict:
    return {
        "anonymous": LOGIN,
        "body_staff": 403,
        "other_body_staff": 403,
        "prefecture_reviewer": status,
        "other_prefecture_reviewer": 404,
        "national_admin": status,
    }


def prepare(ctx) -> None:
    hokkaido = Body.objects.get(code="010006")
    batch = ReportBatch.objects.create(
        public_id=uuid.uuid4(),
        prefecture=hokkaido,
        guideline=Guideline.objects.get(code="egov-2003"),
        fiscal_year=2026,
        status=ReportBatch.Status.DONE,
        total=1,
        done=1,
    )
    data = io.BytesIO()
    with zipfile.ZipFile(data, "w") as archive:
        archive.writestr("011002_2026_egov-2003.pdf", b"%PDF-1.7 test")
    batch.zip_name = batch_storage().save(batch_zip_name(batch), ContentFile(data.getvalue()))
    batch.save(update_fields=["zip_name"])
    ctx.extra["batch"] = batch


def prefecture_kwargs(ctx) -> dict:
    return {"prefecture_code": "010006", "fiscal_year": 2026, "guideline_code": "egov-2003"}


def batch_kwargs(ctx) -> dict:
    return {"batch_id": ctx.extra["batch"].public_id}


ENTRIES = {
    # Without a cached PDF: the progress page of the render queued for the worker.
    "report_pdf": read_only(own_body_only(), assessment_kwargs),
    # Nothing failed: back to the progress page. Only the body's staff may ask for a retry.
    "report_pdf_retry": [
        Entry(body_staff_writes(302), kwargs=assessment_kwargs, method="post"),
        Entry(everyone(405), kwargs=assessment_kwargs),
    ],
    "questionnaire_xlsx": read_only(own_body_only(), assessment_kwargs),
    "questionnaire_upload": [
        Entry(body_staff_writes(200), kwargs=assessment_kwargs),
        # No file: the form comes back with an error (400), nothing is stored.
        Entry(body_staff_writes(400), kwargs=assessment_kwargs, method="post"),
        Entry(everyone(405), kwargs=assessment_kwargs, method="put"),
    ],
    "questionnaire_apply": [
        # Nothing previewed: back to the upload page.
        Entry(body_staff_writes(302), kwargs=assessment_kwargs, method="post"),
        Entry(everyone(405), kwargs=assessment_kwargs),
    ],
    "prefecture_summary_pdf": read_only(reviewers_only(), prefecture_kwargs),
    "report_batches": [
        Entry(reviewers_only(), kwargs=prefecture_kwargs),
        Entry(reviewers_only(302), kwargs=prefecture_kwargs, method="post"),
        Entry(everyone(405), kwargs=prefecture_kwargs, method="put"),
    ],
    "report_batch_detail": read_only(reviewers_only(), batch_kwargs),
    "report_batch_zip": read_only(reviewers_only(), batch_kwargs),
}
assert all(set(e.expect) == set(ROLES) for entries in ENTRIES.values() for e in entries)
