"""Download: the XLSX questionnaire of an assessment as it is now, signed."""

import io
import json

from django.utils import timezone
from django.utils.translation import gettext as _
from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill, Protection
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.datavalidation import DataValidation

from assessments import fiscal_year as fy
from assessments import levels
from assessments.models import Answer, Assessment, Measure
from assessments.questionnaire.layout import (
    ANSWER_COLUMNS,
    FIRST_ROW,
    FORMAT,
    HEADER_ROW,
    LABEL_COLUMNS,
    META_CHUNK,
    META_SHEET,
    SHEET,
    answer_column,
    answer_values,
    column_labels,
    display_value,
    sign,
)
from assessments.spreadsheets import neutralize


def _set_text(cell, value) -> None:
    """Write text that no spreadsheet evaluates: neutralised, and typed as a string."""
    if value is None or value == "":
        cell.value = None
        return
    cell.value = neutralize(str(value))
    cell.data_type = "s"


def questionnaire_rows(assessment: Assessment) -> list[tuple[Measure, Answer | None]]:
    """Scored measures with their answers (3 queries: measures, level descriptions, answers)."""
    measures = list(Measure.objects.to_answer(assessment).prefetch_related("level_descriptions"))
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
        (_("総合点"), str(Assessment.objects.with_scores().get(pk=assessment.pk).score)),
    ]
    for r, (key, value) in enumerate(cover, start=1):
        _set_text(sheet.cell(row=r, column=1), key)
        _set_text(sheet.cell(row=r, column=2), value)
        sheet.cell(row=r, column=1).font = bold
        sheet.merge_cells(start_row=r, start_column=2, end_row=r, end_column=8)
        sheet.cell(row=r, column=2).alignment = Alignment(wrap_text=True, vertical="top")
    sheet.cell(row=1, column=1).font = Font(bold=True, size=14)
    sheet.row_dimensions[6].height = 45

    for c, label in enumerate(column_labels(), start=1):
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
            cell = sheet.cell(row=r, column=answer_column(key))
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
    _set_text(meta.cell(row=1, column=2), sign(payload))
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
        letter = get_column_letter(answer_column(key))
        return f"{letter}{FIRST_ROW}:{letter}{last}"

    def listing(options: list[str]) -> str:
        return '"' + ",".join(o.replace('"', "") for o in options) + '"'

    level = DataValidation(
        type="list",
        formula1=listing(levels.level_labels(with_not_applicable=True)),
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
        formula1=listing(levels.level_labels(with_not_applicable=False)),
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
