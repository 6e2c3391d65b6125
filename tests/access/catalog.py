"""Guideline import (issue 13 item 1): the upload page, the preview of a kept upload, its
confirmation and the XLSX export of an edition are the national administrator's (others 403).

The entries use one small valid guideline file uploaded by the national admin.
"""

import json

from django.core.files.uploadedfile import SimpleUploadedFile

from assessments.catalog import guideline_upload
from assessments.models import GuidelineImport
from tests.access import Entry, everyone

NATIONAL = everyone(403) | {"national_admin": 200}
NATIONAL_WRITES = everyone(403) | {"national_admin": 302}

LEVELS = {str(n): {"ja": f"レベル{n}", "en": f"Level {n}"} for n in range(5)}
FILE = {
    "code": "matrix-2025",
    "title_ja": "行列の指針",
    "title_en": "Matrix guideline",
    "issuer_ja": "総務省",
    "issuer_en": "MIC",
    "issued_on": "2025-04-01",
    "measures": [
        {
            "label": "1",
            "ref": "1",
            "title_ja": "体制",
            "title_en": "Organisation",
            "scored": True,
            "levels": LEVELS,
            "children": [],
        }
    ],
}
CONTENT = json.dumps(FILE, ensure_ascii=False).encode()


def prepare(ctx):
    record, _plan, problems = guideline_upload(
        user=ctx.users["national_admin"], name="matrix.json", content=CONTENT
    )
    assert problems == []
    ctx.extra["guideline_import"] = record


def import_kwargs(ctx):
    return {"pk": ctx.extra["guideline_import"].pk}


def previewed_again(ctx):
    GuidelineImport.objects.filter(pk=ctx.extra["guideline_import"].pk).update(
        status=GuidelineImport.Status.PREVIEWED
    )


def upload(ctx):
    return {"file": SimpleUploadedFile("matrix.json", CONTENT, content_type="application/json")}


ENTRIES = {
    "guideline_imports": [
        Entry(NATIONAL),
        Entry(NATIONAL_WRITES, method="post", data=upload),
        Entry(everyone(405), method="put"),
    ],
    "guideline_import_preview": [
        Entry(NATIONAL, kwargs=import_kwargs),
        Entry(everyone(405), kwargs=import_kwargs, method="post"),
    ],
    "guideline_import_confirm": [
        Entry(NATIONAL_WRITES, kwargs=import_kwargs, method="post", before_each=previewed_again),
        Entry(everyone(405), kwargs=import_kwargs),
    ],
    "guideline_export_xlsx": [
        Entry(NATIONAL, kwargs=lambda ctx: {"guideline_code": "egov-2003"}),
        Entry(everyone(405), kwargs=lambda ctx: {"guideline_code": "egov-2003"}, method="post"),
    ],
}
