"""Evidence files attached to answers: what may be uploaded, and a safe name to send it back."""

import re
import zlib
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


# Programs, whatever the file is called: Windows PE (MZ), ELF, Mach-O (32/64 bit, both byte
# orders) and universal Mach-O binaries (which share CAFEBABE with Java classes: refused too).
_EXECUTABLE_MAGIC = (
    b"MZ",
    b"\x7fELF",
    b"\xfe\xed\xfa\xce",
    b"\xfe\xed\xfa\xcf",
    b"\xce\xfa\xed\xfe",
    b"\xcf\xfa\xed\xfe",
    b"\xca\xfe\xba\xbe",
)
# PDF names that run something when the file is opened, or carry another file inside.
_ACTIVE_PDF_NAMES = {
    b"OpenAction",
    b"JavaScript",
    b"JS",
    b"Launch",
    b"EmbeddedFile",
    b"EmbeddedFiles",
}
_PDF_NAME = re.compile(rb"/([^\s/<>\[\]()%{}]+)")
_PDF_HEX = re.compile(rb"#([0-9A-Fa-f]{2})")
_PDF_STREAM = re.compile(rb"stream\r?\n")
# Compressed streams are inflated to look inside them, up to this much in all (the file itself is
# at most EGOV_EVIDENCE_MAX_BYTES; PDF streams rarely compress more than tenfold).
_PDF_INFLATE_BUDGET = 64 * 1024 * 1024
_PDF_STREAM_MAX = 16 * 1024 * 1024


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
    upload.seek(0)
    head = upload.read(8)
    upload.seek(0)
    if head.startswith(_EXECUTABLE_MAGIC):
        raise ValidationError(
            _("プログラム（実行ファイル）は、拡張子にかかわらず添付できません。"),
            code="file_executable",
        )
    if ext in _MAGIC and not head.startswith(_MAGIC[ext]):
        raise ValidationError(
            _("ファイルの内容が拡張子（%(ext)s）と一致しません。") % {"ext": ext},
            code="file_content",
        )
    if ext == "pdf":
        found = active_pdf_content(_read_all(upload))
        if found:
            raise ValidationError(
                _(
                    "開くと動作する内容（%(names)s）を含む PDF は添付できません。"
                    "印刷機能で PDF に保存し直すなどして、その内容を除いてから添付してください。"
                )
                % {"names": ", ".join(sorted(found))},
                code="file_active_content",
            )


def _read_all(upload) -> bytes:
    upload.seek(0)
    data = b"".join(upload.chunks()) if hasattr(upload, "chunks") else upload.read()
    upload.seek(0)
    return data


def active_pdf_content(data: bytes) -> set[str]:
    """The names of active content in a PDF (/OpenAction, /JavaScript …), empty when none.

    Names are looked for in the file and inside its compressed streams (object streams hide
    dictionaries there), with #xx escapes decoded (/J#61vaScript is /JavaScript).
    """
    found = _active_names(data)
    budget, view = _PDF_INFLATE_BUDGET, memoryview(data)
    for match in _PDF_STREAM.finditer(data):
        if budget <= 0:
            break
        inflater = zlib.decompressobj()
        try:
            # A view, not a copy: a file of many streams must not be copied once per stream.
            inflated = inflater.decompress(view[match.end() :], min(budget, _PDF_STREAM_MAX))
        except zlib.error:
            continue  # not a Flate stream (images, other filters): nothing to read in it
        budget -= len(inflated)
        found |= _active_names(inflated)
    return found


def _active_names(data: bytes) -> set[str]:
    names = set()
    for raw in _PDF_NAME.findall(data):
        name = _PDF_HEX.sub(lambda m: bytes([int(m.group(1), 16)]), raw)
        if name in _ACTIVE_PDF_NAMES:
            names.add("/" + name.decode("ascii", "replace"))
    return names


def safe_filename(name: str) -> str:
    """The user's file name without any path, control character or quote, never empty."""
    name = PurePath(name.replace("\\", "/")).name
    name = re.sub(r'[\x00-\x1f\x7f"<>:|?*;]', "_", name).strip(" .")
    return name[:200] or "evidence"
