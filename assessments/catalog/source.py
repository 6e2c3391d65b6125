"""Reading a guideline file (JSON, or the XLSX layout) into a plain structure that remembers
where each value came from, and writing that layout back (fixtures/guidelines/README.md).

Both readers produce the same structure: the JSON file's own tree (`measures` with `children`),
and `positions`, mapping a path into it (``("measures", 0, "children", 2, "title_ja")``) to a
place in the file ("line 57", or "sheet measures row 5 column D"), so that validation names the
place of every error whatever the format.
"""

import io
import json
import re
from bisect import bisect_left
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from django.utils.translation import gettext as _
from openpyxl import Workbook, load_workbook
from openpyxl.utils import get_column_letter

from assessments.spreadsheets import (
    FORMULA_PREFIXES,
    SpreadsheetError,
    XlsxLimits,
    check_xlsx,
    neutralize,
)

Path = tuple[str | int, ...]

MAX_BYTES = 2 * 1024 * 1024  # the larger shipped guideline is 150 KB
# A guideline of a few hundred headings fills a few thousand cells; ten times that, no more.
XLSX_LIMITS = XlsxLimits(
    max_bytes=MAX_BYTES, max_cells=100_000, max_rows=5_000, max_columns=40, max_members=60
)

GUIDELINE_SHEET, MEASURES_SHEET, NOTES_SHEET, CROSSWALK_SHEET = (
    "guideline",
    "measures",
    "notes",
    "crosswalk",
)
# A guideline's own values in a file (besides its measures and links), in the XLSX layout's
# order: those a correction of text may change, then the section depth. One list for the
# reader, the comparison (plan.py) and the loader.
GUIDELINE_TEXT_FIELDS = (
    "title_ja",
    "title_en",
    "issuer_ja",
    "issuer_en",
    "issued_on",
    "note_ja",
    "note_en",
)
GUIDELINE_FIELDS = (*GUIDELINE_TEXT_FIELDS, "section_depth")
GUIDELINE_KEYS = ("code", *GUIDELINE_FIELDS)
LEVEL_COLUMNS = tuple(f"level_{n}_{lang}" for lang in ("ja", "en") for n in range(5))
MEASURE_COLUMNS = (
    "ref",
    "parent_ref",
    "label",
    "title_ja",
    "title_en",
    "guidance_ja",
    "guidance_en",
    "scored",
    "weight",
    "weight_rationale_ja",
    "weight_rationale_en",
    "applies_to",
    *LEVEL_COLUMNS,
)
NOTE_COLUMNS = ("ref", "effective_from", "text_ja", "text_en", "source_ja", "source_en")
CROSSWALK_COLUMNS = ("from_guideline", "from_ref", "to_ref", "primary", "note_ja", "note_en")


class FileError(ValueError):
    """The file cannot be read at all (too large, not JSON, not an XLSX); nothing is checked."""


@dataclass
class Source:
    name: str
    data: Any
    positions: dict[Path, str] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)  # found while reading (XLSX layout)

    def where(self, path: Path) -> str:
        """The place of `path` in the file: its own, else its nearest recorded ancestor's."""
        while path:
            if path in self.positions:
                return f"{self.name}:{self.positions[path]}"
            path = path[:-1]
        return self.name


def read_source(name: str, content: bytes) -> Source:
    """Read a guideline file (or crosswalk.json): XLSX by its signature, else JSON."""
    if len(content) > MAX_BYTES:
        raise FileError(
            _("%(name)s: ファイルが大きすぎます（上限 %(mb)s MB）。")
            % {"name": name, "mb": MAX_BYTES // (1024 * 1024)}
        )
    if content[:4] == b"PK\x03\x04":
        return read_xlsx(name, content)
    return read_json(name, content)


# --- JSON ----------------------------------------------------------------------------------------

_TOKEN = re.compile(
    r'[ \t\r\n]*(?:("(?:[^"\\]|\\.)*")|([{}\[\]:,])|(-?[0-9][0-9.eE+-]*|true|false|null))', re.S
)


def read_json(name: str, content: bytes) -> Source:
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise FileError(_("%(name)s: UTF-8 で保存してください。") % {"name": name}) from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as error:
        raise FileError(
            _("%(name)s:%(line)s: JSON の構文エラーです（%(msg)s）。")
            % {"name": name, "line": error.lineno, "msg": error.msg}
        ) from None
    except RecursionError:
        raise FileError(_("%(name)s: 入れ子が深すぎます。") % {"name": name}) from None
    return Source(name, data, _json_positions(text))


def _json_positions(text: str) -> dict[Path, str]:
    """{path: "line N"} for every key and array item of a valid JSON text.

    json.loads (C, fast) has read the text already; this walks its tokens once more to learn the
    line of each key, which the standard parser does not report.
    """
    newlines = [m.start() for m in re.finditer("\n", text)]
    tokens = _tokens(text)
    positions: dict[Path, str] = {}

    def line(pos: int) -> str:
        return str(bisect_left(newlines, pos) + 1)

    def value(path: Path, token: tuple[str, int]) -> None:
        kind, pos = token
        positions.setdefault(path, line(pos))
        if kind == "{":
            token = next(tokens)
            while token[0] != "}":
                key = json.loads(token[0])
                positions[(*path, key)] = line(token[1])
                next(tokens)  # ':'
                value((*path, key), next(tokens))
                token = next(tokens)  # ',' or '}'
                if token[0] == ",":
                    token = next(tokens)
        elif kind == "[":
            token = next(tokens)
            index = 0
            while token[0] != "]":
                value((*path, index), token)
                index += 1
                token = next(tokens)
                if token[0] == ",":
                    token = next(tokens)

    value((), next(tokens))
    return positions


def _tokens(text: str) -> Iterator[tuple[str, int]]:
    pos = 0
    while True:
        match = _TOKEN.match(text, pos)
        if match is None or match.end() == pos:
            return
        start = match.start(match.lastindex or 0)
        yield match.group(match.lastindex or 0), start
        pos = match.end()


# --- XLSX ----------------------------------------------------------------------------------------


def _unneutralize(value: str) -> str:
    """Undo neutralize() for text we wrote ourselves ('=1 back to =1)."""
    if value.startswith("'") and value[1:].startswith(FORMULA_PREFIXES):
        return value[1:]
    return value


class _Sheet:
    """One sheet read as rows of {column name: value}, with the place of every cell."""

    def __init__(self, source: Source, sheet, name: str, columns: tuple[str, ...]):
        self.source, self.name = source, name
        rows = sheet.iter_rows(values_only=True)
        header = [str(c).strip() if c is not None else "" for c in next(rows, ())]
        self.index = {h: i for i, h in enumerate(header) if h}
        for h in self.index:
            if h not in columns:
                col = get_column_letter(self.index[h] + 1)
                source.problems.append(
                    _("%(name)s:シート %(sheet)s 1行目 %(col)s列: 列名 %(h)s は使えません。")
                    % {"name": source.name, "sheet": name, "col": col, "h": h}
                )
        self.rows = [(r, row) for r, row in enumerate(rows, start=2) if any(_cell(v) for v in row)]
        for r, row in self.rows:
            for i, value in enumerate(row):
                if isinstance(value, str) and value.startswith("="):
                    source.problems.append(_formula(source, name, r, get_column_letter(i + 1)))

    def place(self, r: int, column: str) -> str:
        col = get_column_letter(self.index[column] + 1) if column in self.index else "?"
        return _("シート %(sheet)s %(r)s行目 %(col)s列") % {"sheet": self.name, "r": r, "col": col}

    def get(self, row, column: str):
        i = self.index.get(column)
        if i is None or i >= len(row):
            return None
        return row[i]


def _formula(source: Source, sheet: str, r: int, col: str) -> str:
    return _(
        "%(name)s:シート %(sheet)s %(r)s行目 %(col)s列: 数式は使えません（値を入力してください）。"
    ) % {
        "name": source.name,
        "sheet": sheet,
        "r": r,
        "col": col,
    }


def _cell(value):
    if isinstance(value, str):
        value = _unneutralize(value.strip())
        return value
    return value


def read_xlsx(name: str, content: bytes) -> Source:
    """Convert the XLSX layout into the JSON file's structure (same validation follows)."""
    try:
        check_xlsx(content, XLSX_LIMITS)
        workbook = load_workbook(io.BytesIO(content), read_only=True, data_only=False)
    except SpreadsheetError as error:
        raise FileError(f"{name}: {error}") from None
    except Exception:
        raise FileError(
            _("%(name)s: Excel (xlsx) のファイルとして読み込めません。") % {"name": name}
        ) from None
    source = Source(name, {})
    try:
        for required in (GUIDELINE_SHEET, MEASURES_SHEET):
            if required not in workbook.sheetnames:
                raise FileError(
                    _("%(name)s: シート %(sheet)s がありません。")
                    % {"name": name, "sheet": required}
                )
        _read_guideline_sheet(source, workbook[GUIDELINE_SHEET])
        nodes = _read_measures_sheet(source, workbook[MEASURES_SHEET])
        if NOTES_SHEET in workbook.sheetnames:
            _read_notes_sheet(source, workbook[NOTES_SHEET], nodes)
        if CROSSWALK_SHEET in workbook.sheetnames:
            _read_crosswalk_sheet(source, workbook[CROSSWALK_SHEET])
    finally:
        workbook.close()
    return source


def _read_guideline_sheet(source: Source, sheet) -> None:
    for r, row in enumerate(sheet.iter_rows(max_col=2, values_only=True), start=1):
        key = _cell(row[0]) if row else None
        if r == 1 and key == "key" or not key:
            continue
        if len(row) > 1 and isinstance(row[1], str) and row[1].startswith("="):
            source.problems.append(_formula(source, GUIDELINE_SHEET, r, "B"))
        value = _cell(row[1]) if len(row) > 1 else None
        if key not in GUIDELINE_KEYS:
            source.problems.append(
                _("%(name)s:シート guideline %(r)s行目 A列: キー %(key)s は使えません。")
                % {"name": source.name, "r": r, "key": key}
            )
            continue
        if key == "issued_on" and value is not None and hasattr(value, "date"):
            value = value.date().isoformat()
        source.data[key] = "" if value is None else value
        source.positions[(key,)] = _("シート guideline %(r)s行目 B列") % {"r": r}


def _text(value) -> str:
    return "" if value is None else str(value) if not isinstance(value, str) else value


def _read_measures_sheet(source: Source, worksheet) -> dict[str, tuple[dict, Path]]:
    sheet = _Sheet(source, worksheet, MEASURES_SHEET, MEASURE_COLUMNS)
    top: list[dict] = []
    source.data["measures"] = top
    source.positions[("measures",)] = sheet.place(1, "ref")
    nodes: dict[str, tuple[dict, Path]] = {}
    for r, row in sheet.rows:
        ref = _text(_cell(sheet.get(row, "ref")))
        parent_ref = _text(_cell(sheet.get(row, "parent_ref")))
        node: dict[str, Any] = {"children": []}
        if parent_ref:
            if parent_ref not in nodes:
                source.problems.append(
                    f"{source.name}:{sheet.place(r, 'parent_ref')}: {ref} parent_ref: "
                    + _("上位項目 %(parent)s が前の行にありません。") % {"parent": parent_ref}
                )
                continue
            parent, parent_path = nodes[parent_ref]
            path: Path = (*parent_path, "children", len(parent["children"]))
            parent["children"].append(node)
        else:
            path = ("measures", len(top))
            top.append(node)
        source.positions[path] = sheet.place(r, "ref")
        for column in MEASURE_COLUMNS:
            if column == "parent_ref" or column in LEVEL_COLUMNS:
                continue
            value = _cell(sheet.get(row, column))
            if column == "scored":
                value = _boolean(value)
            elif column == "weight":
                value = 1 if value in (None, "") else _integer(value)
            elif column == "applies_to":
                value = value or "all"
            else:
                value = _text(value)
            node[column] = value
            source.positions[(*path, column)] = sheet.place(r, column)
        levels = {}
        for n in range(5):
            ja, en = (_text(_cell(sheet.get(row, f"level_{n}_{lang}"))) for lang in ("ja", "en"))
            if ja or en:
                levels[str(n)] = {"ja": ja, "en": en}
                for lang in ("ja", "en"):
                    where = sheet.place(r, f"level_{n}_{lang}")
                    source.positions[(*path, "levels", str(n), lang)] = where
        node["levels"] = levels or None
        source.positions[(*path, "levels")] = sheet.place(r, "level_0_ja")
        if ref:
            nodes[ref] = (node, path)
    return nodes


def _read_notes_sheet(source: Source, worksheet, nodes) -> None:
    sheet = _Sheet(source, worksheet, NOTES_SHEET, NOTE_COLUMNS)
    for r, row in sheet.rows:
        ref = _text(_cell(sheet.get(row, "ref")))
        if ref not in nodes:
            source.problems.append(
                f"{source.name}:{sheet.place(r, 'ref')}: {ref} ref: "
                + _("この参照番号の項目がありません。")
            )
            continue
        node, path = nodes[ref]
        notes = node.setdefault("notes", [])
        note_path: Path = (*path, "notes", len(notes))
        note = {}
        for column in NOTE_COLUMNS[1:]:
            value = _cell(sheet.get(row, column))
            if column == "effective_from" and hasattr(value, "date"):
                value = value.date().isoformat()
            note[column] = _text(value)
            source.positions[(*note_path, column)] = sheet.place(r, column)
        source.positions[note_path] = sheet.place(r, "ref")
        notes.append(note)


def _read_crosswalk_sheet(source: Source, worksheet) -> None:
    sheet = _Sheet(source, worksheet, CROSSWALK_SHEET, CROSSWALK_COLUMNS)
    links: list[dict] = []
    source.data["crosswalk"] = links
    for r, row in sheet.rows:
        path: Path = ("crosswalk", len(links))
        value = {c: _cell(sheet.get(row, c)) for c in CROSSWALK_COLUMNS}
        links.append(
            {
                "from": {
                    "guideline": _text(value["from_guideline"]),
                    "ref": _text(value["from_ref"]),
                },
                "to": {"ref": _text(value["to_ref"])},
                "primary": _boolean(value["primary"]),
                "note_ja": _text(value["note_ja"]),
                "note_en": _text(value["note_en"]),
            }
        )
        source.positions[path] = sheet.place(r, "from_ref")
        source.positions[(*path, "from", "guideline")] = sheet.place(r, "from_guideline")
        source.positions[(*path, "from", "ref")] = sheet.place(r, "from_ref")
        source.positions[(*path, "to", "ref")] = sheet.place(r, "to_ref")
        for column in ("primary", "note_ja", "note_en"):
            source.positions[(*path, column)] = sheet.place(r, column)


_TRUE = {"1", "true", "yes", "はい", "○", "◯"}
_FALSE = {"", "0", "false", "no", "いいえ", "×"}


def _boolean(value):
    if value is None or isinstance(value, bool):
        return bool(value)
    if isinstance(value, int | float):
        return bool(value)
    text = str(value).strip().lower()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    return value  # validation names it


def _integer(value):
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str) and value.strip().isdigit():
        return int(value.strip())
    return value  # validation names it


# --- Writing the XLSX layout ----------------------------------------------------------------------


def write_xlsx(guideline: dict) -> bytes:
    """The XLSX layout of a normalized guideline (catalog.plan.guideline_data): every text cell
    neutralized, so no cell is ever a formula; reading it back gives the same guideline."""
    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.title = GUIDELINE_SHEET
    sheet.append(["key", "value"])
    for key in GUIDELINE_KEYS:
        value = guideline[key]
        sheet.append([key, value if isinstance(value, int) else neutralize(str(value))])
    measures = workbook.create_sheet(MEASURES_SHEET)
    measures.append(list(MEASURE_COLUMNS))
    notes = workbook.create_sheet(NOTES_SHEET)
    notes.append(list(NOTE_COLUMNS))
    for m in guideline["measures"]:
        levels = m["levels"]
        row = [
            m["ref"],
            m["parent_ref"],
            m["label"],
            m["title_ja"],
            m["title_en"],
            m["guidance_ja"],
            m["guidance_en"],
            1 if m["is_scored"] else 0,
            m["weight"],
            m["weight_rationale_ja"],
            m["weight_rationale_en"],
            m["applies_to"],
            *[levels.get(n, ("", ""))[0] for n in range(5)],
            *[levels.get(n, ("", ""))[1] for n in range(5)],
        ]
        measures.append([neutralize(v) for v in row])
        for day, texts in sorted(m["notes"].items()):
            notes.append([neutralize(v) for v in (m["ref"], day.isoformat(), *texts)])
    links = workbook.create_sheet(CROSSWALK_SHEET)
    links.append(list(CROSSWALK_COLUMNS))
    for (from_series, from_ref, to_ref), (note_ja, note_en, primary) in sorted(
        (guideline.get("crosswalk") or {}).items()
    ):
        row = [from_series, from_ref, to_ref, 1 if primary else 0, note_ja, note_en]
        links.append([neutralize(v) for v in row])
    for ws in workbook.worksheets:
        for cell in ws[1]:
            cell.style = "Headline 4"
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()
