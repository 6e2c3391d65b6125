"""Upload: read a filled questionnaire, check it, list what it would change, and apply it."""

import datetime
import io
import json
from dataclasses import dataclass, field

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils.crypto import constant_time_compare
from django.utils.translation import gettext as _
from openpyxl import load_workbook
from openpyxl.workbook.workbook import Workbook

from assessments import answers, levels
from assessments import fiscal_year as fy
from assessments.levels import MAX_LEVEL
from assessments.limits import text_problem
from assessments.models import Answer, AnswerChange, Assessment, Measure, User
from assessments.questionnaire.layout import (
    ANSWER_COLUMNS,
    ANSWER_LABELS,
    FORMAT,
    LABEL_COLUMNS,
    MAX_LENGTHS,
    META_SHEET,
    SHEET,
    QuestionnaireError,
    answer_column,
    answer_values,
    display_value,
    sign,
)
from assessments.spreadsheets import FORMULA_PREFIXES, XlsxLimits, check_xlsx


class ConflictError(Exception):
    """An answer changed between the preview and the apply: nothing was saved."""


@dataclass
class FieldChange:
    key: str
    label: str
    old: object
    new: object
    conflict: bool  # the answer changed on the server since the file was made

    @property
    def old_display(self) -> str:
        return display_value(self.key, self.old)

    @property
    def new_display(self) -> str:
        return display_value(self.key, self.new)


@dataclass
class MeasureChange:
    measure: Measure
    row: int
    answer_id: int | None
    answer_version: int  # the version the preview was computed against (0: no answer yet)
    fields: list[FieldChange] = field(default_factory=list)

    @property
    def conflict(self) -> bool:
        return any(f.conflict for f in self.fields)

    def as_session(self) -> dict:
        return {
            "measure": self.measure.pk,
            "row": self.row,
            "answer": self.answer_id,
            "version": self.answer_version,
            "fields": [[f.key, f.old, f.new, f.conflict] for f in self.fields],
            "conflict": self.conflict,
        }


@dataclass
class UploadResult:
    changes: list[MeasureChange]
    errors: list[str]
    file_version: int
    stale: bool  # the assessment changed since the file was made

    @property
    def conflicts(self) -> list[MeasureChange]:
        return [c for c in self.changes if c.conflict]

    def as_session(self) -> dict:
        """The preview, kept between the upload and the apply (JSON: the session's format)."""
        return {
            "changes": [c.as_session() for c in self.changes],
            "file_version": self.file_version,
            "stale": self.stale,
        }

    @classmethod
    def from_session(cls, data: dict) -> "UploadResult":
        """The preview as it was shown at upload, to show it again (values are not re-read)."""
        measures = Measure.objects.in_bulk([c["measure"] for c in data["changes"]])
        return cls(
            changes=[
                MeasureChange(
                    measure=measures[c["measure"]],
                    row=c["row"],
                    answer_id=c["answer"],
                    answer_version=c["version"],
                    fields=[
                        FieldChange(
                            key=k, label=_(ANSWER_LABELS[k]), old=old, new=new, conflict=conflict
                        )
                        for k, old, new, conflict in c["fields"]
                    ],
                )
                for c in data["changes"]
            ],
            errors=[],
            file_version=data["file_version"],
            stale=data["stale"],
        )


def _unneutralize(value: str) -> str:
    """Undo neutralize() for text we wrote ourselves ('=1 back to =1)."""
    if value.startswith("'") and value[1:].startswith(FORMULA_PREFIXES):
        return value[1:]
    return value


# A questionnaire holds a cover, one row per measure (a guideline has a few dozen) and the signed
# metadata in 11 columns: cells and rows are ten times the largest one built (tested), far below
# what costs real memory.
QUESTIONNAIRE_LIMITS = dict(max_cells=20_000, max_rows=2_000, max_columns=30)


def _read_meta(workbook: Workbook) -> dict:
    """The signed metadata, verified (HMAC) before anything else of the file is read."""
    if META_SHEET not in workbook.sheetnames or SHEET not in workbook.sheetnames:
        raise QuestionnaireError(
            _("この画面からダウンロードした調査票ではありません（管理情報のシートがありません）。")
        )
    # Row 1: ("signature", HMAC); rows 2…: the JSON payload in chunks, in column A.
    rows = workbook[META_SHEET].iter_rows(min_col=1, max_col=2, values_only=True)
    first = next(rows, None) or (None, None)
    signature = (first[1] if len(first) > 1 else None) or ""
    chunks = []
    for row in rows:
        if not row or not isinstance(row[0], str):
            break
        chunks.append(row[0])
    payload = "".join(chunks)
    if not payload or not constant_time_compare(str(signature), sign(payload)):
        raise QuestionnaireError(
            _(
                "調査票の管理情報が改変されているため受け付けられません。"
                "もう一度ダウンロードした調査票に記入してください。"
            )
        )
    data = json.loads(payload)
    if data.get("format") != FORMAT:
        raise QuestionnaireError(_("この調査票の形式には対応していません。"))
    return data


def _read_signed_meta(data: bytes) -> dict:
    """Open the file read-only (sheets stay unparsed until iterated) and verify its metadata."""
    try:
        workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=False)
    except Exception:
        raise QuestionnaireError(_("Excel (xlsx) のファイルとして読み込めません。")) from None
    try:
        return _read_meta(workbook)
    finally:
        workbook.close()


def _check_identity(meta: dict, assessment: Assessment) -> None:
    expected = {
        "body": (assessment.body.code, _("団体")),
        "fiscal_year": (assessment.fiscal_year, _("年度")),
        "guideline": (assessment.guideline.code, _("指針")),
    }
    for key, (value, label) in expected.items():
        if meta.get(key) != value:
            raise QuestionnaireError(
                _("この調査票は別の%(what)sのものです（調査票: %(file)s、この画面: %(here)s）。")
                % {"what": label, "file": meta.get(key), "here": value}
            )


def _parse_level(value, *, allow_na: bool):
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, bool):
        raise ValueError
    if isinstance(value, int | float):
        if float(value).is_integer() and 0 <= int(value) <= MAX_LEVEL:
            return int(value)
        raise ValueError
    text = str(value).strip()
    if allow_na and levels.is_not_applicable_text(text):
        return levels.NOT_APPLICABLE
    head = text[:1].translate(str.maketrans("０１２３４", "01234"))
    if head.isdigit() and int(head) <= MAX_LEVEL and (len(text) == 1 or not text[1].isdigit()):
        return int(head)
    raise ValueError


def _parse_year(value):
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, bool):
        raise ValueError
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, str):
        value = value.strip().translate(str.maketrans("０１２３４５６７８９", "0123456789"))
        if value.endswith("年度"):
            value = value[:-2]
        if not value.isdigit():
            raise ValueError
        value = int(value)
    if not isinstance(value, int) or not fy.MIN_FISCAL_YEAR <= value <= fy.MAX_FISCAL_YEAR:
        raise ValueError
    return value


def _parse_row(sheet, r: int, errors: list[str]) -> dict:
    def error(key: str, message: str) -> None:
        label = dict((k, lbl) for k, lbl, _w in LABEL_COLUMNS + ANSWER_COLUMNS)[key]
        errors.append(
            _("%(row)s行目・列「%(column)s」: %(message)s")
            % {"row": r, "column": _(label), "message": message}
        )

    values = {}
    for key, _label, _w in ANSWER_COLUMNS:
        cell = sheet.cell(row=r, column=answer_column(key))
        raw = cell.value
        if cell.data_type == "f" or (isinstance(raw, str) and raw.startswith("=")):
            error(key, _("数式は使えません。値を直接入力してください。"))
            continue
        if isinstance(raw, datetime.datetime | datetime.date | datetime.time):
            error(key, _("日付ではなく文字または数値で入力してください。"))
            continue
        try:
            if key == "level":
                values[key] = _parse_level(raw, allow_na=True)
            elif key == "target_level":
                values[key] = _parse_level(raw, allow_na=False)
            elif key == "target_fiscal_year":
                values[key] = _parse_year(raw)
            else:
                text = "" if raw is None else _unneutralize(str(raw)).strip()
                problem = text_problem(key, text) if key in MAX_LENGTHS else None
                if problem:
                    error(key, problem)
                    continue
                values[key] = text
        except ValueError:
            messages = {
                "level": _("「0 未着手」〜「4 評価・改善」または「該当なし」を選んでください。"),
                "target_level": _("「0 未着手」〜「4 評価・改善」から選んでください。"),
                "target_fiscal_year": _("%(min)s〜%(max)sの西暦の年度を入力してください。")
                % {"min": fy.MIN_FISCAL_YEAR, "max": fy.MAX_FISCAL_YEAR},
            }
            error(key, messages[key] + _("（入力値: %(value)s）") % {"value": str(raw)[:30]})
    try:
        levels.validate_reason(values.get("level"), values.get("not_applicable_reason", ""))
    except ValidationError as refused:
        error("not_applicable_reason", refused.message_dict["not_applicable_reason"][0])
    return values


def read_questionnaire(data: bytes, assessment: Assessment) -> UploadResult:
    """Check an uploaded questionnaire and list what it would change (nothing is saved).

    Raises QuestionnaireError when the file is refused as a whole; cell problems are returned
    as `errors` naming row and column.
    """
    if len(data) > settings.QUESTIONNAIRE_MAX_BYTES:
        raise QuestionnaireError(
            _("ファイルが大きすぎます（上限 %(mb)sMB）。")
            % {"mb": round(settings.QUESTIONNAIRE_MAX_BYTES / 1024 / 1024, 1)}
        )
    # 1. Its size, cell count and dimensions, by a streaming read (nothing is loaded yet).
    check_xlsx(data, XlsxLimits(max_bytes=settings.QUESTIONNAIRE_MAX_BYTES, **QUESTIONNAIRE_LIMITS))
    # 2. Its signature and whose it is, from the metadata sheet alone.
    meta = _read_signed_meta(data)
    _check_identity(meta, assessment)
    # 3. Only a file of ours, for this assessment, is parsed in full.
    try:
        workbook = load_workbook(io.BytesIO(data), data_only=False)
    except Exception:
        raise QuestionnaireError(_("Excel (xlsx) のファイルとして読み込めません。")) from None
    sheet = workbook[SHEET]
    measures = Measure.objects.in_bulk([row["measure"] for row in meta["rows"]])
    current = {a.measure_id: a for a in Answer.objects.filter(assessment=assessment)}
    errors: list[str] = []
    changes: list[MeasureChange] = []
    for i, row_meta in enumerate(meta["rows"]):
        r = meta["first_row"] + i
        measure = measures.get(row_meta["measure"])
        ref_cell = sheet.cell(row=r, column=1).value
        if measure is None or measure.guideline_id != assessment.guideline_id:
            raise QuestionnaireError(_("調査票の項目がこの指針にありません。"))
        if not (measure.is_scored and measure.applies_to_kind(assessment.body.kind)):
            # The catalog changed since the file was made (the measure is no longer scored).
            raise QuestionnaireError(
                _("調査票の「%(ref)s」は採点対象ではなくなりました。調査票を作り直してください。")
                % {"ref": measure.ref}
            )
        if str(ref_cell or "") != row_meta["ref"]:
            errors.append(
                _(
                    "%(row)s行目・列「参照番号」: 「%(ref)s」のはずの行です。行を並べ替えたり削除したりしないでください。"
                )
                % {"row": r, "ref": row_meta["ref"]}
            )
            continue
        values = _parse_row(sheet, r, errors)
        answer = current.get(measure.pk)
        now = answer_values(answer)
        changed_since = (answer.version if answer else 0) != row_meta["version"]
        change = MeasureChange(
            measure=measure,
            row=r,
            answer_id=answer.pk if answer else None,
            answer_version=answer.version if answer else 0,
        )
        for key, new in values.items():
            if new == row_meta["orig"].get(key) or new == now[key]:
                continue  # not edited in the file, or already so on the server
            change.fields.append(
                FieldChange(
                    key=key,
                    label=_(ANSWER_LABELS[key]),
                    old=now[key],
                    new=new,
                    conflict=changed_since and now[key] != row_meta["orig"].get(key),
                )
            )
        if change.fields:
            changes.append(change)
    extra = sheet.cell(row=meta["first_row"] + len(meta["rows"]), column=1).value
    if extra not in (None, ""):
        errors.append(
            _("%(row)s行目: 調査票にない行が追加されています。行を追加しないでください。")
            % {"row": meta["first_row"] + len(meta["rows"])}
        )
    return UploadResult(
        changes=changes,
        errors=errors,
        file_version=meta["assessment_version"],
        stale=meta["assessment_version"] < assessment.version,
    )


# --- Apply -------------------------------------------------------------------------------------


def _answer_data(fields: list) -> dict:
    """A previewed change's new values as Answer fields (its level choice may be 該当なし)."""
    values = {key: new for key, _old, new, _conflict in fields}
    data = {k: v for k, v in values.items() if k != "level"}
    if "level" in values:
        data.update(levels.fields_of(values["level"]))
    return data


def questionnaire_apply(*, assessment: Assessment, user: User, changes: list[dict]) -> list[Answer]:
    """Save the changes of a previewed questionnaire through the answer service, all or nothing.

    Each answer is written only if it still has the version the preview saw (conflicts were
    confirmed against that version); if any has moved on, ConflictError and nothing is saved.
    History (source "questionnaire"), versions and starting a 未着手 assessment are answers_save's.
    """
    measures = Measure.objects.filter(guideline_id=assessment.guideline_id).in_bulk(
        [c["measure"] for c in changes]
    )
    inputs = [
        answers.AnswerInput(measures[c["measure"]], _answer_data(c["fields"]), c["version"])
        for c in changes
    ]
    try:
        result = answers.answers_save(
            assessment=assessment,
            user=user,
            inputs=inputs,
            source=AnswerChange.Source.QUESTIONNAIRE,
            all_or_nothing=True,
        )
    except answers.StaleAnswer as exc:
        raise ConflictError(
            _("取り込みの確認中に、ほかの人が「%(ref)s」を変更しました。")
            % {"ref": exc.measure.ref}
        ) from None
    except PermissionDenied:
        raise ConflictError(_("この自己評価は編集できない状態です。")) from None
    assessment.refresh_from_db()
    return [result.saved[c["measure"]] for c in changes if c["measure"] in result.saved]
