"""Forms: one answer form per measure (a section page holds several), and starting an assessment."""

from crispy_forms.helper import FormHelper
from crispy_forms.layout import Div, Field, Fieldset, Layout
from django import forms
from django.core.validators import MaxValueValidator, MinValueValidator
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from assessments import fiscal_year as fy
from assessments.answers import NOT_APPLICABLE, level_choice, level_fields
from assessments.evidence import ALLOWED_EXTENSIONS, ALLOWED_LABEL, validate_evidence_file
from assessments.models import Answer, Guideline, Level, Measure


def answer_prefix(measure: Measure) -> str:
    """Form field prefix of a measure, stable on the page and in autosave requests."""
    return f"m{measure.order}"


def answer_initial(answer: Answer | None) -> dict:
    if answer is None:
        return {"version": 0}
    initial = {name: getattr(answer, name) for name in AnswerForm.TEXT_FIELDS}
    initial.update(
        version=answer.version,
        level=level_choice(answer),
        target_level=answer.target_level,
        target_fiscal_year=answer.target_fiscal_year,
    )
    return initial


class AnswerForm(forms.Form):
    """The answer to one measure: level (described by the measure's own level texts) or 該当なし."""

    TEXT_FIELDS = (
        "not_applicable_reason",
        "note",
        "evidence_url",
        "department",
        "improvement_plan",
    )

    version = forms.IntegerField(widget=forms.HiddenInput, min_value=0)
    level = forms.ChoiceField(widget=forms.RadioSelect, required=False)
    not_applicable_reason = forms.CharField(
        label=gettext_lazy("該当なしの理由"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=gettext_lazy("「該当なし」を選んだときは必須です。"),
    )
    note = forms.CharField(
        label=gettext_lazy("備考"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )
    evidence_file = forms.FileField(
        label=gettext_lazy("根拠資料（ファイル）"),
        required=False,
        validators=[validate_evidence_file],
        widget=forms.ClearableFileInput(
            attrs={"accept": ",".join(f".{ext}" for ext in ALLOWED_EXTENSIONS)}
        ),
    )
    evidence_url = forms.URLField(
        label=gettext_lazy("根拠資料（URL）"), required=False, max_length=500, assume_scheme="https"
    )
    department = forms.CharField(label=gettext_lazy("担当部署"), required=False, max_length=100)
    target_level = forms.TypedChoiceField(
        label=gettext_lazy("目標レベル"),
        required=False,
        coerce=int,
        empty_value=None,
        choices=[("", gettext_lazy("（未設定）")), *Level.choices],
    )
    target_fiscal_year = forms.IntegerField(
        label=gettext_lazy("目標年度（西暦）"),
        required=False,
        validators=[MinValueValidator(fy.MIN_FISCAL_YEAR), MaxValueValidator(fy.MAX_FISCAL_YEAR)],
    )
    improvement_plan = forms.CharField(
        label=gettext_lazy("改善計画"), required=False, widget=forms.Textarea(attrs={"rows": 3})
    )

    def __init__(self, *args, measure: Measure, **kwargs):
        kwargs.setdefault("prefix", answer_prefix(measure))
        super().__init__(*args, **kwargs)
        self.measure = measure
        descriptions = {d.level: d.description for d in measure.level_descriptions.all()}
        level = self.fields["level"]
        level.label = _("%(ref)s の達成レベル") % {"ref": measure.ref}
        level.choices = [
            (str(value), f"{label}: {descriptions[value]}" if value in descriptions else label)
            for value, label in Level.choices
        ] + [(NOT_APPLICABLE, _("該当なし（理由を記入。点数の計算から除きます）"))]
        self.fields["evidence_file"].help_text = _(
            "%(allowed)s、%(size)s まで。新しいファイルを選ぶと置き換えます。"
            "ファイルは「この章を保存」を押したときに保存されます。"
        ) % {"allowed": ALLOWED_LABEL, "size": _max_size_label()}
        self.helper = FormHelper(self)
        self.helper.form_tag = False
        self.helper.disable_csrf = True
        self.helper.layout = Layout(
            "version",
            Field("level", wrapper_class="level-choice"),
            "not_applicable_reason",
            Div("note", "department", css_class="answer-details"),
            Fieldset(_("根拠資料"), "evidence_file", "evidence_url", css_class="answer-evidence"),
            Fieldset(
                _("改善計画"),
                "target_level",
                "target_fiscal_year",
                "improvement_plan",
                css_class="answer-plan",
            ),
        )

    def clean(self):
        cleaned = super().clean()
        if (
            cleaned.get("level") == NOT_APPLICABLE
            and not cleaned.get("not_applicable_reason", "").strip()
        ):
            self.add_error(
                "not_applicable_reason",
                _("「該当なし」を選んだときは、その理由を入力してください。"),
            )
        return cleaned

    def answer_data(self) -> dict:
        """The cleaned values in the Answer's terms."""
        cleaned = self.cleaned_data
        data = {name: cleaned.get(name, "").strip() for name in self.TEXT_FIELDS}
        data.update(
            **level_fields(cleaned.get("level")),
            target_level=cleaned.get("target_level"),
            target_fiscal_year=cleaned.get("target_fiscal_year"),
        )
        return data

    def error_links(self) -> list[tuple[str, str, str]]:
        """(anchor, field label, message) for the page's error summary."""
        links = []
        for name, errors in self.errors.items():
            bound = self[name] if name in self.fields else None
            anchor = bound.auto_id if bound is not None else f"measure-{self.measure.order}"
            if name == "level":
                anchor = f"{anchor}_0"
            label = bound.label if bound is not None else _("入力")
            links.extend((anchor, label, message) for message in errors)
        return links


def _max_size_label() -> str:
    from django.conf import settings
    from django.template.defaultfilters import filesizeformat

    return filesizeformat(settings.EVIDENCE_MAX_BYTES)


class StartAssessmentForm(forms.Form):
    """Start the current fiscal year's assessment of a guideline, empty or pre-filled."""

    def clean_guideline(self):
        return self.guidelines[self.cleaned_data["guideline"]]

    PREFILL = [
        ("none", gettext_lazy("空の状態から始める")),
        ("previous_year", gettext_lazy("前年度の回答を引き継ぐ（同じ指針）")),
        ("crosswalk", gettext_lazy("旧指針（2000年指針）の回答を対応表で引き継ぐ")),
    ]

    guideline = forms.ChoiceField(label=gettext_lazy("指針"))
    prefill = forms.ChoiceField(
        label=gettext_lazy("回答の初期値"),
        choices=PREFILL,
        initial="none",
        widget=forms.RadioSelect,
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # One query, whatever the template does with the choices.
        self.guidelines = {g.code: g for g in Guideline.objects.order_by("-issued_on")}
        self.fields["guideline"].choices = [
            (c, f"{g.title}（{g.issued_on.year}）") for c, g in self.guidelines.items()
        ]
        self.helper = FormHelper(self)
        self.helper.form_tag = False
        self.helper.disable_csrf = True
