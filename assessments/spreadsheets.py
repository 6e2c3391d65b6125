"""Reading and writing spreadsheets safely: CSV in UTF-8 or CP932, capped XLSX, no formulas out."""

import io
import zipfile

import tablib
from django.utils.translation import gettext as _
from import_export.formats import base_formats

# A cell starting with one of these is a formula (or DDE payload) to Excel and LibreOffice,
# full-width forms included because Japanese IMEs produce them.
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r", "\0", "＝", "＋", "－", "＠")

XLSX_MAX_BYTES = 10 * 1024 * 1024
XLSX_MAX_UNCOMPRESSED = 50 * 1024 * 1024
XLSX_MAX_MEMBERS = 200


class SpreadsheetError(ValueError):
    """The file cannot be read at all (wrong encoding, not an XLSX, too large)."""


def neutralize(value):
    """Return `value` so that no spreadsheet evaluates it: text with a formula prefix gets a '."""
    if isinstance(value, str) and value.startswith(FORMULA_PREFIXES):
        return "'" + value
    return value


def decode_csv(data: bytes) -> str:
    """Decode CSV bytes as UTF-8 (with or without BOM), else as CP932 (Excel in Japan)."""
    for encoding in ("utf-8-sig", "cp932"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise SpreadsheetError(
        _(
            "CSVファイルの文字コードを判別できません。UTF-8 または Shift_JIS(CP932) で保存してください。"
        )
    )


def check_xlsx(data: bytes) -> None:
    """Refuse an XLSX that is not a ZIP, or whose size would exhaust memory when unpacked."""
    if len(data) > XLSX_MAX_BYTES:
        raise SpreadsheetError(_("ファイルが大きすぎます（上限 10MB）。"))
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            members = archive.infolist()
    except zipfile.BadZipFile:
        raise SpreadsheetError(_("Excel (xlsx) 形式のファイルではありません。")) from None
    if len(members) > XLSX_MAX_MEMBERS or sum(m.file_size for m in members) > XLSX_MAX_UNCOMPRESSED:
        raise SpreadsheetError(_("ファイルの展開後のサイズが大きすぎます。"))


class JapaneseCSV(base_formats.CSV):
    """CSV read as bytes and decoded as UTF-8 or CP932, whichever the file is."""

    def is_binary(self):
        return True

    def get_read_mode(self):
        return "rb"

    def create_dataset(self, in_stream, **kwargs):
        if isinstance(in_stream, bytes):
            in_stream = decode_csv(in_stream)
        return tablib.import_set(in_stream, format="csv", **kwargs)

    def export_data(self, dataset, **kwargs):
        return neutralize_dataset(dataset).export("csv", **kwargs)


class SafeXLSX(base_formats.XLSX):
    """XLSX with size and member caps checked before openpyxl parses it."""

    def create_dataset(self, in_stream):
        check_xlsx(in_stream)
        return super().create_dataset(in_stream)

    def export_data(self, dataset, **kwargs):
        return neutralize_dataset(dataset).export("xlsx", **kwargs)


IMPORT_FORMATS = [JapaneseCSV, SafeXLSX]
EXPORT_FORMATS = [JapaneseCSV, SafeXLSX]


def neutralize_dataset(dataset: tablib.Dataset) -> tablib.Dataset:
    safe = tablib.Dataset(headers=dataset.headers, title=dataset.title)
    for row in dataset:
        safe.append([neutralize(cell) for cell in row])
    return safe


def read_dataset(data: bytes, filename: str) -> tablib.Dataset:
    """Read an uploaded or given file into a dataset, choosing the format by its extension."""
    lowered = filename.lower()
    if lowered.endswith(".xlsx"):
        return SafeXLSX().create_dataset(data)
    if lowered.endswith(".csv"):
        return JapaneseCSV().create_dataset(data)
    raise SpreadsheetError(_("CSV または Excel (xlsx) のファイルを指定してください。"))
