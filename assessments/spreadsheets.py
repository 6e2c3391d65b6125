"""Reading and writing spreadsheets safely: CSV in UTF-8 or CP932, capped XLSX, no formulas out."""

import io
import re
import zipfile
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from typing import cast
from xml.etree import ElementTree

import tablib
from django.template.defaultfilters import filesizeformat
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


@dataclass(frozen=True)
class XlsxLimits:
    """What one XLSX may hold, checked by a streaming read before openpyxl loads anything.

    openpyxl builds every cell as an object: a 130 KB file of 3.35 million `<c><v>1</v></c>`
    cells (50 MB of XML, under both byte caps) took 27 s and 1.3 GB in load_workbook.
    """

    max_bytes: int = XLSX_MAX_BYTES
    max_uncompressed: int = XLSX_MAX_UNCOMPRESSED
    max_members: int = XLSX_MAX_MEMBERS
    # Worksheet XML compresses about 5–20 times; a member far denser than that is a bomb.
    max_ratio: int = 100
    max_cells: int = 200_000  # in all sheets together (shared strings count alike)
    max_rows: int = 100_000
    max_columns: int = 200


# Account and registry imports: all 1,788 bodies, or a few thousand accounts, with room to spare.
DEFAULT_LIMITS = XlsxLimits()
_RATIO_FLOOR = 1024 * 1024  # small members (styles, a short sheet) may compress very well
_DIMENSION = re.compile(r"^\$?([A-Z]{1,3})\$?(\d+)$")


def check_xlsx(data: bytes, limits: XlsxLimits = DEFAULT_LIMITS) -> None:
    """Refuse an XLSX that is not a ZIP, or that would exhaust memory or time when loaded.

    Reads the archive's directory (sizes, ratio, member count), then streams each worksheet and
    the shared strings through an XML pull parser, counting cells, rows and columns (and reading
    the declared <dimension>), and stops at the first limit passed: memory stays bounded by the
    limits, not by the file.
    """
    if len(data) > limits.max_bytes:
        raise SpreadsheetError(
            _("ファイルが大きすぎます（上限 %(size)s）。")
            % {"size": filesizeformat(limits.max_bytes)}
        )
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            members = archive.infolist()
            _check_directory(members, limits)
            counter = _CellCounter(limits)
            for member in members:
                if member.filename.startswith("xl/worksheets/") and member.filename.endswith(
                    ".xml"
                ):
                    counter.sheet(archive, member, strings=False)
                elif member.filename == "xl/sharedStrings.xml":
                    counter.sheet(archive, member, strings=True)
    except (zipfile.BadZipFile, zlib.error, EOFError):
        raise SpreadsheetError(_("Excel (xlsx) 形式のファイルではありません。")) from None
    except ElementTree.ParseError:
        raise SpreadsheetError(_("Excel (xlsx) のファイルとして読み込めません。")) from None


def _check_directory(members: list[zipfile.ZipInfo], limits: XlsxLimits) -> None:
    if len(members) > limits.max_members:
        raise SpreadsheetError(
            _("ファイルの構成要素が多すぎます（上限 %(max)s 個）。") % {"max": limits.max_members}
        )
    if sum(m.file_size for m in members) > limits.max_uncompressed:
        raise SpreadsheetError(
            _("ファイルの展開後のサイズが大きすぎます（上限 %(size)s）。")
            % {"size": filesizeformat(limits.max_uncompressed)}
        )
    for member in members:
        if member.file_size > _RATIO_FLOOR and member.file_size > limits.max_ratio * max(
            member.compress_size, 1
        ):
            raise SpreadsheetError(
                _(
                    "ファイルの圧縮率が異常に高いため受け付けられません"
                    "（%(name)s: 展開すると %(ratio)s 倍、上限 %(max)s 倍）。"
                )
                % {
                    "name": member.filename,
                    "ratio": member.file_size // max(member.compress_size, 1),
                    "max": limits.max_ratio,
                }
            )


class _CellCounter:
    """Counts cells (and shared strings) across a workbook's sheets, refusing past the limits."""

    def __init__(self, limits: XlsxLimits):
        self.limits, self.cells, self.elements = limits, 0, 0

    def sheet(self, archive: zipfile.ZipFile, member: zipfile.ZipInfo, *, strings: bool) -> None:
        parser: ElementTree.XMLPullParser[ElementTree.Element] = ElementTree.XMLPullParser(
            events=("start", "end")
        )
        stack: list[ElementTree.Element] = []
        rows = 0
        with archive.open(member) as stream:
            # Read at most what the directory declared: a lying header cannot make it longer.
            remaining = member.file_size
            while remaining > 0 and (chunk := stream.read(min(64 * 1024, remaining))):
                remaining -= len(chunk)
                parser.feed(chunk)
                for event, element in cast(
                    "Iterator[tuple[str, ElementTree.Element]]", parser.read_events()
                ):  # start and end events only: each carries its element
                    name = element.tag.rpartition("}")[2]
                    if event == "start":
                        stack.append(element)
                        if name == "dimension" and not strings:
                            self._dimension(element.get("ref", ""))
                        continue
                    stack.pop()
                    if name in ("c", "si"):
                        self.cells += 1
                        if self.cells > self.limits.max_cells:
                            self._refuse_cells()
                    elif name == "row":
                        rows += 1
                        if rows > self.limits.max_rows:
                            self._refuse_rows()
                    self.elements += 1
                    if self.elements > 5 * self.limits.max_cells + 10_000:
                        self._refuse_cells()  # merged ranges, validations … are objects too
                    if stack:
                        del stack[-1][-1]  # forget what was counted: memory stays flat

    def _dimension(self, ref: str) -> None:
        """The sheet's declared extent (A1:K50): refuse it before counting anything."""
        corner = _DIMENSION.match(ref.rpartition(":")[2].upper())
        if not corner:
            return
        letters, row = corner.groups()
        column = 0
        for letter in letters:
            column = column * 26 + ord(letter) - ord("A") + 1
        if int(row) > self.limits.max_rows:
            self._refuse_rows()
        if column > self.limits.max_columns:
            raise SpreadsheetError(
                _("シートの列が多すぎます（%(n)s 列、上限 %(max)s 列）。")
                % {"n": column, "max": self.limits.max_columns}
            )

    def _refuse_cells(self):
        raise SpreadsheetError(
            _(
                "セルが多すぎます（上限 %(max)s セル）。入力欄以外に値を入れていないか確認してください。"
            )
            % {"max": f"{self.limits.max_cells:,}"}
        )

    def _refuse_rows(self):
        raise SpreadsheetError(
            _("シートの行が多すぎます（上限 %(max)s 行）。") % {"max": f"{self.limits.max_rows:,}"}
        )


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
