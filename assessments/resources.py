"""django-import-export resources for the catalog and the registry, and an all-or-nothing import.

Every import goes through `run_import`: model validation on (check digits, lengths), a
transaction, and a rollback when any row is invalid, so a file with one bad row imports nothing.
"""

from dataclasses import dataclass, field

from django.core.exceptions import NON_FIELD_ERRORS
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from import_export import fields, resources, widgets

from assessments.models import Body, Guideline, LevelDescription, Measure
from assessments.spreadsheets import neutralize

# The spreadsheet row of the first data row: row 1 holds the column headers.
FIRST_DATA_ROW = 2


class SafeExportMixin(resources.Resource):
    """Neutralise formulas in every exported text cell, whichever format or caller."""

    def export_field(self, field, instance, **kwargs):
        return neutralize(super().export_field(field, instance, **kwargs))


class ChoiceWidget(widgets.Widget):
    """Accept a choice by its key (`town`) or its Japanese label (`町`); export the key."""

    def __init__(self, choices, **kwargs):
        self.by_label = {str(label): value for value, label in choices}
        self.values = {value for value, _label in choices}
        super().__init__(**kwargs)

    def clean(self, value, row=None, **kwargs):
        value = (value or "").strip()
        if value in self.values:
            return value
        if value in self.by_label:
            return self.by_label[value]
        raise ValueError(
            _("「%(value)s」は区分として使えません（使えるもの: %(allowed)s）。")
            % {"value": value, "allowed": "、".join(self.by_label)}
        )


class LookupWidget(widgets.ForeignKeyWidget):
    """A foreign key by natural key whose unknown value is a field error, not a crash."""

    def __init__(self, model, field, label, **kwargs):
        self.label = label
        super().__init__(model, field=field, **kwargs)

    def clean(self, value, row=None, **kwargs):
        try:
            return super().clean(value, row, **kwargs)
        except self.model.DoesNotExist:
            raise ValueError(
                _("%(label)s「%(value)s」は登録されていません。")
                % {"label": self.label, "value": value}
            ) from None


class FlagWidget(widgets.BooleanWidget):
    """A yes/no column where an empty cell means no (施行時特例市 is the exception)."""

    YES = (*widgets.BooleanWidget.TRUE_VALUES, "○", "〇")
    NO = (*widgets.BooleanWidget.FALSE_VALUES, *widgets.BooleanWidget.NULL_VALUES)

    def clean(self, value, row=None, **kwargs):
        value = value.strip() if isinstance(value, str) else value
        if value in self.YES:
            return True
        if value in self.NO:
            return False
        raise ValueError(
            _("「%(value)s」は 1（該当）か 0・空欄（非該当）で入力してください。")
            % {"value": value}
        )


class BodyResource(SafeExportMixin, resources.ModelResource):
    code = fields.Field(attribute="code", column_name="code", widget=widgets.CharWidget())
    kind = fields.Field(
        attribute="kind", column_name="kind", widget=ChoiceWidget(Body.Kind.choices)
    )
    prefecture = fields.Field(
        attribute="prefecture",
        column_name="prefecture_code",
        widget=LookupWidget(Body, "code", gettext_lazy("都道府県の団体コード")),
    )
    # Optional columns: a file without them (the shipped list) leaves them as they are.
    is_special_city = fields.Field(
        attribute="is_special_city", column_name="is_special_city", widget=FlagWidget()
    )
    valid_from = fields.Field(
        attribute="valid_from", column_name="valid_from", widget=widgets.DateWidget("%Y-%m-%d")
    )
    valid_until = fields.Field(
        attribute="valid_until", column_name="valid_until", widget=widgets.DateWidget("%Y-%m-%d")
    )

    class Meta:
        model = Body
        fields = (
            "code",
            "name",
            "name_kana",
            "name_en",
            "kind",
            "prefecture",
            "is_special_city",
            "valid_from",
            "valid_until",
        )
        export_order = fields
        import_id_fields = ("code",)
        clean_model_instances = True
        skip_unchanged = True
        report_skipped = True
        use_transactions = True

    def before_import_row(self, row, **kwargs):
        # Codes read from spreadsheets lose their leading zero (11002 for 011002).
        code = row.get("code")
        if isinstance(code, int | float):
            row["code"] = f"{int(code):06d}"
        prefecture_code = row.get("prefecture_code")
        if isinstance(prefecture_code, int | float):
            row["prefecture_code"] = f"{int(prefecture_code):06d}"
        if prefecture_code is None or prefecture_code == "":
            row["prefecture_code"] = None


# The catalog's resources export only (the Django admin shows the catalog read-only); guidelines
# are imported through assessments/catalog/, which applies the file check and the edition rule.


class GuidelineResource(SafeExportMixin, resources.ModelResource):
    class Meta:
        model = Guideline
        fields = (
            "code",
            "title_ja",
            "title_en",
            "issuer_ja",
            "issuer_en",
            "issued_on",
            "note_ja",
            "note_en",
            "section_depth",
        )


class MeasureResource(SafeExportMixin, resources.ModelResource):
    """Titles, guidance, weights and applicability of the measures."""

    guideline = fields.Field(
        attribute="guideline",
        column_name="guideline",
        widget=LookupWidget(Guideline, "code", gettext_lazy("指針コード")),
    )

    class Meta:
        model = Measure
        fields = (
            "guideline",
            "ref",
            "label",
            "title_ja",
            "title_en",
            "guidance_ja",
            "guidance_en",
            "is_scored",
            "applies_to",
            "weight",
            "weight_rationale_ja",
            "weight_rationale_en",
        )


class LevelDescriptionResource(SafeExportMixin, resources.ModelResource):
    guideline = fields.Field(
        attribute="measure__guideline__code", column_name="guideline", readonly=True
    )
    measure = fields.Field(
        attribute="measure",
        column_name="measure_ref",
        widget=LookupWidget(Measure, "ref", gettext_lazy("項目の参照番号")),
    )

    class Meta:
        model = LevelDescription
        fields = ("guideline", "measure", "level", "description_ja", "description_en")

    def get_queryset(self):
        return super().get_queryset().select_related("measure__guideline")


@dataclass
class RowError:
    row: int  # spreadsheet row number (headers are row 1)
    column: str  # column header, or "" when the error concerns the whole row
    message: str

    def __str__(self) -> str:
        where = _("%(row)s行目") % {"row": self.row}
        if self.column:
            where += _("・列「%(column)s」") % {"column": self.column}
        return f"{where}: {self.message}"


@dataclass
class ImportReport:
    dry_run: bool
    new: int = 0
    updated: int = 0
    unchanged: int = 0
    errors: list[RowError] = field(default_factory=list)
    # The rows a clean dry run would import, as shown to the user (imports that fill it).
    preview: list[tuple] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors

    @property
    def committed(self) -> bool:
        return self.ok and not self.dry_run


def _column_of(resource, field_name: str) -> str:
    for res_field in resource.get_import_fields():
        if res_field.attribute == field_name or res_field.column_name == field_name:
            return res_field.column_name
    return field_name


def run_import(resource, dataset, *, dry_run: bool, **kwargs) -> ImportReport:
    """Import `dataset` with `resource`, all or nothing, and report each bad row and column."""
    result = resource.import_data(
        dataset,
        dry_run=dry_run,
        raise_errors=False,
        use_transactions=True,
        rollback_on_validation_errors=True,
        collect_failed_rows=True,
        **kwargs,
    )
    report = ImportReport(dry_run=dry_run)
    for invalid in result.invalid_rows:
        for name, messages in invalid.error_dict.items():
            column = "" if name == NON_FIELD_ERRORS else _column_of(resource, name)
            for message in messages:
                report.errors.append(RowError(invalid.number + FIRST_DATA_ROW - 1, column, message))
    for number, errors in result.row_errors():
        for error in errors:
            report.errors.append(RowError(number + FIRST_DATA_ROW - 1, "", str(error.error)))
    for error in result.base_errors:
        report.errors.append(RowError(0, "", str(error.error)))
    report.errors.sort(key=lambda e: (e.row, e.column))
    if report.ok:
        totals = result.totals
        report.new, report.updated, report.unchanged = (
            totals["new"],
            totals["update"],
            totals["skip"],
        )
    return report
