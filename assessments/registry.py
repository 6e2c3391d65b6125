"""Loading the registry of bodies (fixtures/bodies.csv or a given CSV/XLSX file), and applying
MIC's list of code changes (「都道府県コード及び市区町村コード」改正一覧表) to it.

Municipalities name their prefecture by code (prefecture_code), so a file lists each prefecture
before its municipalities, as the shipped list (sorted by code) does; a municipality whose
prefecture is unknown is reported by row and column like any other error.

A change list is applied to a registry that holds the state before the changes (today's list
plus next year's mergers, or a past state built by a test); see CHANGE_LIST_HELP for its layout
and what each row does.
"""

import datetime
import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from assessments.codes import prefecture_code_of, validate_body_code
from assessments.models import Body, BodySuccession
from assessments.resources import (
    FIRST_DATA_ROW,
    BodyResource,
    ImportReport,
    RowError,
    run_import,
)
from assessments.spreadsheets import read_dataset

BODIES_FILE = settings.BASE_DIR / "fixtures" / "bodies.csv"


def import_bodies(data: bytes, filename: str, *, dry_run: bool, user=None) -> ImportReport:
    """Import bodies from CSV (UTF-8 or CP932) or XLSX bytes, all rows or none."""
    return run_import(BodyResource(), read_dataset(data, filename), dry_run=dry_run, user=user)


def load_bodies(path: Path = BODIES_FILE, *, dry_run: bool = False) -> ImportReport:
    path = Path(path)
    return import_bodies(path.read_bytes(), path.name, dry_run=dry_run)


# --- The change list (改正一覧表) ----------------------------------------------------------------

CHANGE_LIST_HELP = """\
改正一覧表（総務省「都道府県コード及び市区町村コード」の改正一覧の列構成）。1行目は見出し:
  改正年月日（施行日）  必須  2010-03-23 / 2010/3/23 / 20100323（Excelの日付も可）
  旧団体コード          必須  6桁（検査数字つき）
  旧都道府県名・旧市区町村名   任意  書かれていれば登録内容と照合
  新団体コード          必須  6桁。旧団体コードと同じなら同じ団体の変更（中核市移行・名称変更）
  新都道府県名          任意  書かれていれば新団体コードの都道府県と照合
  新市区町村名          新しい団体を設ける行・名称変更の行で必須
  新市区町村名カナ      新しい団体を設ける行で必須（ひらがなも可。列名「ふりがな」も可）
  新団体区分            任意  town / 町 など。空欄なら改正事由と名称の末尾から判断
  改正事由              必須  編入合併・新設合併・市制施行・町制施行・政令指定都市移行・
                              中核市移行・名称変更・コード変更・区分変更
  備考                  任意
各行: 旧団体は改正年月日の前日で廃止され、新団体（新設合併・コード変更では新しく設け、
編入合併では既存の団体）に引き継がれたものとして記録します。コードが変わらない行は、
その団体の区分・名称を改め、変更前の区分・名称を記録します。行は改正年月日の順に適用し、
一度適用した行は「変更なし」として数えます。1行でも誤りがあれば何も変更しません。"""

# Canonical column → the headers accepted for it (compared without spaces, NFKC-normalised).
CHANGE_COLUMNS: dict[str, tuple[str, ...]] = {
    "改正年月日": ("改正年月日", "施行日", "施行年月日"),
    "旧団体コード": ("旧団体コード", "旧市区町村コード", "旧コード"),
    "旧都道府県名": ("旧都道府県名",),
    "旧市区町村名": ("旧市区町村名", "旧団体名"),
    "新団体コード": ("新団体コード", "新市区町村コード", "新コード"),
    "新都道府県名": ("新都道府県名",),
    "新市区町村名": ("新市区町村名", "新団体名"),
    "新市区町村名カナ": ("新市区町村名カナ", "新市区町村名ふりがな", "新ふりがな", "ふりがな"),
    "新団体区分": ("新団体区分", "新区分"),
    "改正事由": ("改正事由", "事由"),
    "備考": ("備考",),
}
REQUIRED_CHANGE_COLUMNS = ("改正年月日", "旧団体コード", "新団体コード", "改正事由")

Kind = BodySuccession.Kind
# Words of 改正事由, most specific first (a cell may be a sentence: 「○○町を編入合併」).
_REASON_WORDS: tuple[tuple[str, str], ...] = (
    ("編入", Kind.ABSORPTION),
    ("新設合併", Kind.NEW_MERGER),
    ("政令指定都市", Kind.DESIGNATED_CITY),
    ("指定都市", Kind.DESIGNATED_CITY),
    ("中核市", Kind.CORE_CITY),
    ("市制", Kind.CITY_STATUS),
    ("町制", Kind.TOWN_STATUS),
    ("名称変更", Kind.RENAME),
    ("コード変更", Kind.CODE_CHANGE),
    ("区分変更", Kind.KIND_CHANGE),
)
# The kind a body has after a change of this reason, whatever its name says.
_KIND_AFTER: dict[str, str] = {
    Kind.DESIGNATED_CITY: Body.Kind.DESIGNATED_CITY,
    Kind.CORE_CITY: Body.Kind.CORE_CITY,
    Kind.CITY_STATUS: Body.Kind.CITY,
    Kind.TOWN_STATUS: Body.Kind.TOWN,
}
_KIND_OF_SUFFIX: dict[str, str] = {
    "市": Body.Kind.CITY,
    "町": Body.Kind.TOWN,
    "村": Body.Kind.VILLAGE,
    "区": Body.Kind.SPECIAL_WARD,
}
_DATE = re.compile(r"^(\d{4})[-/.年](\d{1,2})[-/.月](\d{1,2})日?$")


def _normalise_header(header) -> str:
    return re.sub(r"\s", "", unicodedata.normalize("NFKC", str(header or "")))


def _text(value) -> str:
    if value is None:
        return ""
    return unicodedata.normalize("NFKC", str(value)).strip()


def _katakana(text: str) -> str:
    """ふりがな in hiragana (as MIC lists give it) in katakana, as the registry keeps kana."""
    return "".join(chr(ord(c) + 0x60) if "ぁ" <= c <= "ゖ" else c for c in text)


@dataclass
class Change:
    """One row of the change list, parsed."""

    row: int
    on: datetime.date
    old_code: str
    old_prefecture: str
    old_name: str
    new_code: str
    new_prefecture: str
    new_name: str
    new_kana: str
    new_kind: str
    reason: str
    note: str


class _RowErrors:
    def __init__(self) -> None:
        self.errors: list[RowError] = []

    def add(self, row: int, column: str, message: str) -> None:
        self.errors.append(RowError(row, column, message))


def _parse_date(value) -> datetime.date:
    if isinstance(value, datetime.datetime):
        return value.date()
    if isinstance(value, datetime.date):
        return value
    text = _text(value)
    match = _DATE.match(text) or (
        re.match(r"^(\d{4})(\d{2})(\d{2})$", text) if len(text) == 8 else None
    )
    if not match:
        raise ValueError(
            _("「%(value)s」は日付として読めません（例: 2010-03-23）。") % {"value": text}
        )
    try:
        return datetime.date(*(int(part) for part in match.groups()))
    except ValueError:
        raise ValueError(_("「%(value)s」という日付はありません。") % {"value": text}) from None


def _parse_code(value) -> str:
    if isinstance(value, int | float) and not isinstance(value, bool):
        code = f"{int(value):06d}"  # a spreadsheet drops the leading zero (11002 for 011002)
    else:
        code = _text(value)
    if not code:
        raise ValueError(_("団体コードを入力してください。"))
    try:
        validate_body_code(code)
    except ValidationError as error:
        raise ValueError(" ".join(error.messages)) from None
    return code


def _parse_reason(value) -> str:
    text = _text(value)
    for choice, label in Kind.choices:
        if text in (choice, str(label)):
            return choice
    for word, choice in _REASON_WORDS:
        if word in text:
            return choice
    raise ValueError(
        _("「%(value)s」は改正事由として使えません（使えるもの: %(allowed)s）。")
        % {"value": text, "allowed": "、".join(str(label) for _choice, label in Kind.choices)}
    )


def _parse_kind(value) -> str:
    text = _text(value)
    if not text:
        return ""
    for choice, label in Body.Kind.choices:
        if text in (choice, str(label)):
            return choice
    raise ValueError(
        _("「%(value)s」は区分として使えません（使えるもの: %(allowed)s）。")
        % {"value": text, "allowed": "、".join(str(label) for _c, label in Body.Kind.choices)}
    )


def parse_change_list(dataset) -> tuple[list[Change], list[RowError]]:
    """The rows of a change list, or the errors of its cells (row and column named)."""
    errors = _RowErrors()
    accepted = {
        _normalise_header(alias): column
        for column, aliases in CHANGE_COLUMNS.items()
        for alias in aliases
    }
    positions: dict[str, int] = {}
    for index, header in enumerate(dataset.headers or []):
        column = accepted.get(_normalise_header(header))
        if column and column not in positions:
            positions[column] = index
    for column in REQUIRED_CHANGE_COLUMNS:
        if column not in positions:
            errors.add(1, column, _("この列がありません。"))
    if errors.errors:
        return [], errors.errors

    changes = []
    for offset, values in enumerate(dataset):
        row = offset + FIRST_DATA_ROW

        def cell(column: str, values=values):
            index = positions.get(column)
            return values[index] if index is not None and index < len(values) else None

        if all(_text(v) == "" for v in values):
            continue
        parsed: dict[str, Any] = {}
        parsers: tuple[tuple[str, Callable[[Any], Any]], ...] = (
            ("改正年月日", _parse_date),
            ("旧団体コード", _parse_code),
            ("新団体コード", _parse_code),
            ("改正事由", _parse_reason),
            ("新団体区分", _parse_kind),
        )
        for column, parser in parsers:
            try:
                parsed[column] = parser(cell(column))
            except ValueError as error:
                errors.add(row, column, str(error))
        if len(parsed) < 5:
            continue
        changes.append(
            Change(
                row=row,
                on=parsed["改正年月日"],
                old_code=parsed["旧団体コード"],
                old_prefecture=_text(cell("旧都道府県名")),
                old_name=_text(cell("旧市区町村名")),
                new_code=parsed["新団体コード"],
                new_prefecture=_text(cell("新都道府県名")),
                new_name=_text(cell("新市区町村名")),
                new_kana=_katakana(_text(cell("新市区町村名カナ"))),
                new_kind=parsed["新団体区分"],
                reason=parsed["改正事由"],
                note=_text(cell("備考")),
            )
        )
    return changes, errors.errors


# Body's fields → the change list's columns, to name the cell of a model validation error.
_COLUMN_OF_FIELD = {
    "code": "新団体コード",
    "name": "新市区町村名",
    "name_kana": "新市区町村名カナ",
    "kind": "新団体区分",
    "prefecture": "新団体コード",
}


class _Applier:
    """Applies parsed rows in date order to the registry, recording errors and counts."""

    def __init__(self, report: ImportReport) -> None:
        self.report = report
        self.errors = _RowErrors()
        self.prefecture_names = dict(Body.objects.prefectures().values_list("code", "name"))

    def apply(self, change: Change) -> None:
        old = Body.objects.select_related("prefecture").filter(code=change.old_code).first()
        if old is None:
            self.errors.add(
                change.row,
                "旧団体コード",
                _("団体コード「%(code)s」は登録されていません。") % {"code": change.old_code},
            )
            return
        if BodySuccession.objects.filter(
            predecessor=old, successor__code=change.new_code, on=change.on, kind=change.reason
        ).exists():
            self.report.unchanged += 1  # applied before: a list can be loaded again
            return
        if not self._names_match(change, old):
            return
        if change.old_code == change.new_code:
            self._change_in_place(change, old)
        else:
            self._succeed(change, old)

    def _names_match(self, change: Change, old: Body) -> bool:
        ok = True
        prefecture = old.prefecture.name if old.prefecture else old.name
        if change.old_prefecture and change.old_prefecture != prefecture:
            self.errors.add(
                change.row,
                "旧都道府県名",
                _("旧団体コードの都道府県は「%(name)s」です。") % {"name": prefecture},
            )
            ok = False
        if change.old_name and change.old_name != old.name:
            self.errors.add(
                change.row,
                "旧市区町村名",
                _("旧団体コード「%(code)s」の団体名は「%(name)s」です。")
                % {"code": old.code, "name": old.name},
            )
            ok = False
        new_prefecture = self.prefecture_names.get(prefecture_code_of(change.new_code), "")
        if change.new_prefecture and change.new_prefecture != new_prefecture:
            self.errors.add(
                change.row,
                "新都道府県名",
                _("新団体コードの都道府県は「%(name)s」です。") % {"name": new_prefecture},
            )
            ok = False
        return ok

    def _require_existing(self, change: Change, body: Body, column: str, day) -> bool:
        if body.exists_on(day):
            return True
        self.errors.add(
            change.row,
            column,
            _("「%(body)s」は %(day)s に存在しません（存続期間 %(from)s ～ %(until)s）。")
            % {
                "body": body.name,
                "day": day.isoformat(),
                "from": body.valid_from or "",
                "until": body.valid_until or "",
            },
        )
        return False

    def _succeed(self, change: Change, old: Body) -> None:
        last_day = change.on - datetime.timedelta(days=1)
        ended_today = old.valid_until == last_day  # one body split between several successors
        if not ended_today and not self._require_existing(change, old, "旧団体コード", change.on):
            return
        if old.valid_from is not None and old.valid_from > last_day:
            self._require_existing(change, old, "旧団体コード", last_day)
            return
        new = Body.objects.filter(code=change.new_code).first()
        if new is None:
            new = self._create(change)
            if new is None:
                return
        elif change.reason == Kind.NEW_MERGER and new.valid_from != change.on:
            self.errors.add(
                change.row,
                "新団体コード",
                _("新設合併の新団体コード「%(code)s」はすでに使われています（%(name)s）。")
                % {"code": new.code, "name": new.name},
            )
            return
        elif not self._require_existing(change, new, "新団体コード", change.on):
            return
        if not ended_today:
            old.valid_until = last_day
            old.save(update_fields=["valid_until"])
            self.report.updated += 1
        self._record(change, predecessor=old, successor=new)

    def _create(self, change: Change) -> Body | None:
        if change.reason == Kind.ABSORPTION:
            self.errors.add(
                change.row,
                "新団体コード",
                _("編入先の団体コード「%(code)s」は登録されていません。")
                % {"code": change.new_code},
            )
            return None
        kind = change.new_kind or _KIND_AFTER.get(change.reason, "")
        kind = kind or _KIND_OF_SUFFIX.get(change.new_name[-1:], "")
        missing = False
        for column, value in (
            ("新市区町村名", change.new_name),
            ("新市区町村名カナ", change.new_kana),
        ):
            if not value:
                self.errors.add(change.row, column, _("新しい団体を設ける行では必須です。"))
                missing = True
        if not kind and change.new_name:
            self.errors.add(
                change.row,
                "新団体区分",
                _("団体名から区分を判別できません。新団体区分の列で指定してください。"),
            )
            missing = True
        if missing:
            return None
        prefecture_code = prefecture_code_of(change.new_code)
        new = Body(
            code=change.new_code,
            name=change.new_name,
            name_kana=change.new_kana,
            kind=kind,
            prefecture=(
                None
                if kind == Body.Kind.PREFECTURE
                else Body.objects.filter(code=prefecture_code, kind=Body.Kind.PREFECTURE).first()
            ),
            valid_from=change.on,
        )
        if not self._valid(change, new):
            return None
        new.save()
        self.report.new += 1
        return new

    def _change_in_place(self, change: Change, body: Body) -> None:
        if change.reason in (Kind.ABSORPTION, Kind.NEW_MERGER):
            # The absorbing (or continuing) body's own row: it goes on as it is.
            self._require_existing(change, body, "新団体コード", change.on)
            return
        if not self._require_existing(change, body, "旧団体コード", change.on):
            return
        kind = change.new_kind or _KIND_AFTER.get(change.reason, body.kind)
        name = change.new_name or body.name
        if change.reason == Kind.RENAME and name == body.name:
            self.errors.add(
                change.row, "新市区町村名", _("名称変更の行には新しい団体名を入力してください。")
            )
            return
        previous_kind, previous_name = body.kind, body.name
        body.kind, body.name = kind, name
        if kind != Body.Kind.CITY:
            body.is_special_city = False  # a 施行時特例市 that became a 中核市 is one no more
        if not self._valid(change, body):
            return
        body.save()
        self.report.updated += 1
        self._record(
            change,
            predecessor=body,
            successor=body,
            previous_kind=previous_kind if previous_kind != kind else "",
            previous_name=previous_name if previous_name != name else "",
        )

    def _valid(self, change: Change, body: Body) -> bool:
        try:
            body.full_clean()
        except ValidationError as error:
            for name, messages in error.message_dict.items():
                for message in messages:
                    self.errors.add(change.row, _COLUMN_OF_FIELD.get(name, ""), message)
            return False
        return True

    def _record(self, change: Change, **links) -> None:
        succession = BodySuccession(on=change.on, kind=change.reason, note=change.note, **links)
        try:
            succession.full_clean()
        except ValidationError as error:
            for message in error.messages:
                self.errors.add(change.row, "改正事由", message)
            return
        succession.save()
        self.report.preview.append(
            (
                change.row,
                change.on.isoformat(),
                succession.get_kind_display(),
                str(succession.predecessor),
                str(succession.successor),
            )
        )


def import_body_changes(data: bytes, filename: str, *, dry_run: bool) -> ImportReport:
    """Apply a change list (CSV in UTF-8 or CP932, or XLSX) to the registry, all rows or none.

    `new` counts bodies set up, `updated` bodies ended or changed, `unchanged` rows applied
    before; `preview` lists each succession recorded (row, date, 改正事由, old, new).
    """
    report = ImportReport(dry_run=dry_run)
    dataset = read_dataset(data, filename)
    changes, errors = parse_change_list(dataset)
    if errors and not changes:
        report.errors = sorted(errors, key=lambda e: (e.row, e.column))
        return report
    # The readable rows are applied even when others are not, so that one pass reports the
    # errors of both kinds; any error rolls everything back.
    with transaction.atomic():
        applier = _Applier(report)
        for change in sorted(changes, key=lambda c: (c.on, c.row)):
            applier.apply(change)
        errors += applier.errors.errors
        report.errors = sorted(errors, key=lambda e: (e.row, e.column))
        if report.errors or dry_run:
            transaction.set_rollback(True)
    if report.errors:
        report.new = report.updated = report.unchanged = 0
        report.preview = []
    return report


def load_body_changes(path: Path, *, dry_run: bool = False) -> ImportReport:
    path = Path(path)
    return import_body_changes(path.read_bytes(), path.name, dry_run=dry_run)
