"""Evidence files attached to answers: what may be uploaded, and a safe name to send it back."""

import re
from pathlib import PurePath

from django.conf import settings
from django.core.exceptions import ValidationError
from django.template.defaultfilters import filesizeformat
from django.utils.translation import gettext as _

ALLOWED_EXTENSIONS = ("pdf", "xlsx", "docx", "pptx", "png", "jpg", "jpeg", "csv", "txt")
ALLOWED_LABEL = "PDF, XLSX, DOCX, PPTX, PNG, JPG, CSV, TXT"

# The first bytes each type must start with; text formats (csv, txt) have none.
_MAGIC = {
    "pdf": (b"%PDF-",),
    "xlsx": (b"PK\x03\x04",),
    "docx": (b"PK\x03\x04",),
    "pptx": (b"PK\x03\x04",),
    "png": (b"\x89PNG\r\n\x1a\n",),
    "jpg": (b"\xff\xd8\xff",),
    "jpeg": (b"\xff\xd8\xff",),
}


def extension(name: str) -> str:
    return PurePath(name).suffix.lower().lstrip(".")


def validate_evidence_file(upload) -> None:
    """Refuse a file of a type outside the allow-list, over the size cap, or not what it claims."""
    ext = extension(upload.name)
    if ext not in ALLOWED_EXTENSIONS:
        raise ValidationError(
            _("このファイル形式（%(ext)s）は添付できません。添付できる形式: %(allowed)s")
            % {"ext": ext or _("拡張子なし"), "allowed": ALLOWED_LABEL},
            code="file_type",
        )
    if upload.size > settings.EVIDENCE_MAX_BYTES:
        raise ValidationError(
            _("ファイルが大きすぎます（%(size)s）。%(max)s以下のファイルを添付してください。")
            % {
                "size": filesizeformat(upload.size),
                "max": filesizeformat(settings.EVIDENCE_MAX_BYTES),
            },
            code="file_size",
        )
    if ext in _MAGIC:
        upload.seek(0)
        head = upload.read(8)
        upload.seek(0)
        if not head.startswith(_MAGIC[ext]):
            raise ValidationError(
                _("ファイルの内容が拡張子（%(ext)s）と一致しません。") % {"ext": ext},
                code="file_content",
            )


def safe_filename(name: str) -> str:
    """The user's file name without any path, control character or quote, never empty."""
    name = PurePath(name.replace("\\", "/")).name
    name = re.sub(r'[\x00-\x1f\x7f"<>:|?*;]', "_", name).strip(" .")
    return name[:200] or "evidence"
