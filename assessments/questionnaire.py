"""The offline questionnaire: an XLSX to fill on a closed network, and its safe upload.

The workbook has a visible sheet (cover rows naming the body, year, guideline and version, then
one row per scored measure: locked label columns, unlocked answer columns with drop-downs) and a
very hidden metadata sheet: the assessment it was made from, each answer's version and the value
of every answer cell as written, signed with an HMAC of SECRET_KEY. On upload the signature, the
body, year and guideline are checked, and only the cells the user edited count as changes
(edited = differs from the signed original), so a file never reverts what others saved since.
An edited cell whose answer changed on the server after the file was made is a conflict that
the user must confirm measure by measure. Changes are applied all-or-nothing.
"""

import datetime
import io
import json
from dataclasses import dataclass, field

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone
from django.utils.crypto import constant_time_compare, salted_hmac
from django.utils.translation import gettext as _
from openpyxl import Workbook, load_workbook
from openpyxl.styles import Alignment, Font, PatternFill, Protection
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.datavalidation import DataValidation

from assessments import answers
from assessments import fiscal_year as fy
from assessments.models import (
    MAX_LEVEL,
    Answer,
    Assessment,
    Measure,
    User,
)
from assessments.spreadsheets import FORMULA_PREFIXES, SpreadsheetError, check_xlsx, neutralize

FORMAT = 1
SHEET = "回答"
META_SHEET = "_meta"
HMAC_SALT = "egov-assess.questionnaire"
FIRST_ROW = 10  # the header is on row 9; rows 1–8 are the cover
HEADER_ROW = FIRST_ROW - 1
META_CHUNK = 30_000  # a cell holds at most 32,767 characters
NOT_APPLICABLE = "該当なし"

# Answer fields in column order: (key, column label, width). Level and 該当なし share "level".
LABEL_COLUMNS = (("ref", "参照番号", 12), ("title", "項目", 34), ("guidance", "解説", 40),
                 ("descriptions", "レベルの説明", 48))  # fmt: skip
ANSWER_COLUMNS = (
    ("level", "レベル", 16),
    ("not_applicable_reason", "該当なしの理由", 24),
    ("note", "備考", 36),
    ("department", "担当部署", 16),
    ("target_level", "目標レベル", 16),
    ("target_fiscal_year", "目標年度", 10),
    ("improvement_plan", "改善計画", 40),
)
ANSWER_LABELS = {key: label for key, label, _w in ANSWER_COLUMNS}  # translated where shown
TEXT_FIELDS = ("not_applicable_reason", "note", "department", "improvement_plan")
MAX_LENGTHS = {"department": 100}


class QuestionnaireError(SpreadsheetError):
    """The file is refused as a whole (not ours, tampered, another body's, unreadable)."""


class ConflictError(Exception):
    """An answer changed between the preview and the apply: nothing was saved."""


def _column_labels():
    return [label for _key, label, _w in LABEL_COLUMNS + ANSWER_COLUMNS]


def _answer_column(key: str) -> int:
    keys = [k for k, _l, _w in LABEL_COLUMNS + ANSWER_COLUMNS]
    return keys.index(key) + 1


def answer_values(answer: Answer | None) -> dict:
    """The answer as the questionnaire shows it: level is 0–4, "na" or None."""
    if answer is None:
        return {
            "level": None,
            "not_applicable_reason": "",
            "note": "",
            "department": "",
            "target_level": None,
            "target_fiscal_year": None,
            "improvement_plan": "",
        }
    return {
        "level": answers.level_choice(answer),
        "not_applicable_reason": answer.not_applicable_reason,
        "note": answer.note,
        "department": answer.department,
        "target_level": answer.target_level,
        "target_fiscal_year": answer.target_fiscal_year,
        "improvement_plan": answer.improvement_plan,
    }


def display_value(key: str, value) -> str:
    """How a value reads in the preview (and in the cell)."""
    if value is None or value == "":
        return _("（空欄）") if key != "level" else _("未回答")
    if key == "level" and value == answers.NOT_APPLICABLE:
        return _(NOT_APPLICABLE)
    if key in ("level", "target_level"):
        return answers.level_label(value)
    return str(value)


def _sign(payload: str) -> str:
    return salted_hmac(HMAC_SALT, payload, algorithm="sha256").hexdigest()


# --- Download ----------------------------------------------------------------------------------


def _set_text(cell, value) -> None:
    """Write text that no spreadsheet evaluates: neutralised, and typed as a string."""
    if value is None or value == "":
        cell.value = None
        return
    cell.value = neutralize(str(value))
    cell.data_type = "s"


def questionnaire_rows(assessment: Assessment) -> list[tuple[Measure, Answer | None]]:
    """Scored measures with their answers (3 queries: measures, level descriptions, answers)."""
    measures = list(
        Measure.objects.filter(guideline_id=assessment.guideline_id, is_scored=True)
        .prefetch_related("level_descriptions")
        .order_by("order")
    )
    by_measure = {a.measure_id: a for a in Answer.objects.filter(assessment=assessment)}
    return [(m, by_measure.get(m.pk)) for m in measures]


def build_questionnaire(assessment: Assessment) -> bytes:
    """The XLSX questionnaire of `assessment` as it is now."""
    rows = questionnaire_rows(assessment)
    made_at = timezone.localtime()
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = SHEET
    bold = Font(bold=True)
    locked_fill = PatternFill("solid", fgColor="EEF3F8")
    answer_fill = PatternFill("solid", fgColor="FFFFFF")
    wrap = Alignment(wrap_text=True, vertical="top")

    cover = [
        (_("電子自治体 自己評価 調査票"), ""),
        (_("団体"), f"{assessment.body.name}（{assessment.body.code}）"),
        (_("年度"), fy.label(assessment.fiscal_year)),
        (_("指針"), f"{assessment.guideline.title}（{assessment.guideline.code}）"),
        (
            _("作成元の版"),
            _("第%(version)s版（%(at)s 作成）")
            % {"version": assessment.version, "at": made_at.strftime("%Y-%m-%d %H:%M")},
        ),
        (
            _("記入方法"),
            _(
                "白い列（レベル〜改善計画）だけに記入してください。レベルは一覧から選びます。"
                "「該当なし」を選んだら理由を必ず書いてください。記入後、自己評価の画面の「記入した"
                "調査票をアップロード」から取り込むと、変更点を確認してから反映できます。"
            ),
        ),
        (_("注意"), _("行や列を追加・削除・並べ替えしないでください。数式は使えません。")),
    ]
    for r, (key, value) in enumerate(cover, start=1):
        _set_text(sheet.cell(row=r, column=1), key)
        _set_text(sheet.cell(row=r, column=2), value)
        sheet.cell(row=r, column=1).font = bold
        sheet.merge_cells(start_row=r, start_column=2, end_row=r, end_column=8)
        sheet.cell(row=r, column=2).alignment = Alignment(wrap_text=True, vertical="top")
    sheet.cell(row=1, column=1).font = Font(bold=True, size=14)
    sheet.row_dimensions[6].height = 45

    for c, label in enumerate(_column_labels(), start=1):
        cell = sheet.cell(row=HEADER_ROW, column=c)
        _set_text(cell, _(label))
        cell.font = bold
        cell.fill = locked_fill
    for c, (_k, _l, width) in enumerate(LABEL_COLUMNS + ANSWER_COLUMNS, start=1):
        sheet.column_dimensions[get_column_letter(c)].width = width

    meta_rows = []
    for i, (measure, answer) in enumerate(rows):
        r = FIRST_ROW + i
        values = answer_values(answer)
        descriptions = "\n".join(
            f"{d.level}: {d.description}" for d in measure.level_descriptions.all()
        )
        label_values = [measure.ref, measure.title, measure.guidance, descriptions]
        for c, value in enumerate(label_values, start=1):
            cell = sheet.cell(row=r, column=c)
            _set_text(cell, value)
            cell.fill = locked_fill
            cell.alignment = wrap
        for key, _label, _w in ANSWER_COLUMNS:
            cell = sheet.cell(row=r, column=_answer_column(key))
            value = values[key]
            if key == "target_fiscal_year" and value is not None:
                cell.value = int(value)
            elif key in ("level", "target_level") and value is not None:
                _set_text(cell, display_value(key, value))
            else:
                _set_text(cell, value)
            cell.protection = Protection(locked=False)
            cell.fill = answer_fill
            cell.alignment = wrap
        meta_rows.append(
            {
                "ref": measure.ref,
                "measure": measure.pk,
                "version": answer.version if answer else 0,
                "orig": values,
            }
        )
    last = FIRST_ROW + len(rows) - 1
    if rows:
        _add_validations(sheet, last)
    sheet.freeze_panes = sheet.cell(row=FIRST_ROW, column=3)
    sheet.protection.sheet = True
    sheet.protection.formatRows = False  # row heights may be changed to read long text
    sheet.protection.formatColumns = False

    payload = json.dumps(
        {
            "format": FORMAT,
            "body": assessment.body.code,
            "fiscal_year": assessment.fiscal_year,
            "guideline": assessment.guideline.code,
            "assessment_version": assessment.version,
            "made_at": made_at.isoformat(),
            "first_row": FIRST_ROW,
            "rows": meta_rows,
        },
        ensure_ascii=False,
        sort_keys=True,
    )
    meta = workbook.create_sheet(META_SHEET)
    meta.sheet_state = "veryHidden"
    _set_text(meta.cell(row=1, column=1), "signature")
    _set_text(meta.cell(row=1, column=2), _sign(payload))
    for i in range(0, len(payload), META_CHUNK):
        cell = meta.cell(row=2 + i // META_CHUNK, column=1)
        cell.value = payload[i : i + META_CHUNK]
        cell.data_type = "s"
    meta.protection.sheet = True

    output = io.BytesIO()
    workbook.save(output)
    return output.getvalue()


def _add_validations(sheet, last: int) -> None:
    def rng(key: str) -> str:
        letter = get_column_letter(_answer_column(key))
        return f"{letter}{FIRST_ROW}:{letter}{last}"

    def listing(options: list[str]) -> str:
        return '"' + ",".join(o.replace('"', "") for o in options) + '"'

    level = DataValidation(
        type="list",
        formula1=listing(answers.level_labels(with_not_applicable=True)),
        allow_blank=True,
        showErrorMessage=True,
        errorTitle=_("レベル"),
        error=_("一覧から選んでください。"),
        promptTitle=_("レベル"),
        prompt=_("0 未着手 〜 4 評価・改善、または該当なし"),
    )
    level.add(rng("level"))
    target = DataValidation(
        type="list",
        formula1=listing(answers.level_labels(with_not_applicable=False)),
        allow_blank=True,
        showErrorMessage=True,
        errorTitle=_("目標レベル"),
        error=_("一覧から選んでください。"),
    )
    target.add(rng("target_level"))
    year = DataValidation(
        type="whole",
        operator="between",
        formula1=str(fy.MIN_FISCAL_YEAR),
        formula2=str(fy.MAX_FISCAL_YEAR),
        allow_blank=True,
        showErrorMessage=True,
        errorTitle=_("目標年度"),
        error=_("西暦の年度（例: 2028）を入力してください。"),
    )
    year.add(rng("target_fiscal_year"))
    for validation in (level, target, year):
        sheet.add_data_validation(validation)


# --- Upload: read, check, compare --------------------------------------------------------------


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


def _read_meta(workbook) -> dict:
    if META_SHEET not in workbook.sheetnames or SHEET not in workbook.sheetnames:
        raise QuestionnaireError(
            _("この画面からダウンロードした調査票ではありません（管理情報のシートがありません）。")
        )
    meta = workbook[META_SHEET]
    signature = meta.cell(row=1, column=2).value or ""
    chunks = []
    row = 2
    while isinstance(meta.cell(row=row, column=1).value, str):
        chunks.append(meta.cell(row=row, column=1).value)
        row += 1
    payload = "".join(chunks)
    if not payload or not constant_time_compare(str(signature), _sign(payload)):
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
    if allow_na and text in (NOT_APPLICABLE, _(NOT_APPLICABLE)):
        return answers.NOT_APPLICABLE
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
        cell = sheet.cell(row=r, column=_answer_column(key))
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
                if key in MAX_LENGTHS and len(text) > MAX_LENGTHS[key]:
                    error(
                        key,
                        _("%(max)s文字以内で入力してください（%(n)s文字）。")
                        % {"max": MAX_LENGTHS[key], "n": len(text)},
                    )
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
    if values.get("level") == answers.NOT_APPLICABLE and not values.get("not_applicable_reason"):
        error("not_applicable_reason", _("「該当なし」を選んだときは理由を書いてください。"))
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
    check_xlsx(data)
    try:
        workbook = load_workbook(io.BytesIO(data), data_only=False)
    except Exception:
        raise QuestionnaireError(_("Excel (xlsx) のファイルとして読み込めません。")) from None
    meta = _read_meta(workbook)
    _check_identity(meta, assessment)
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
        data.update(answers.level_fields(values["level"]))
    return data


def questionnaire_apply(*, assessment: Assessment, user: User, changes: list[dict]) -> list[Answer]:
    """Save the changes of a previewed questionnaire through the answer service, all or nothing.

    Each answer is written only if it still has the version the preview saw (conflicts were
    confirmed against that version); if any has moved on, ConflictError and nothing is saved.
    History (source "xlsx"), versions and starting a 未着手 assessment are answers_save's.
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
            assessment=assessment, user=user, inputs=inputs, source="xlsx", all_or_nothing=True
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


def validation_messages(exc: ValidationError) -> list[str]:
    return [str(m) for m in exc.messages]
