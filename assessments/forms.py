"""Every form of the app, each with its crispy FormHelper (templates render `{% crispy form %}`)
but AnswerForm, whose fields assessments/form_html.py writes (a section page holds 14).

Filling: one answer form per measure (a section page holds several), starting an assessment.
Review: a comment on a measure, return, approve. Dashboards: the filters. Rounds: opening one.
"""

import functools
from typing import cast

from allauth.account.forms import LoginForm as AllauthLoginForm
from crispy_forms.helper import FormHelper
from crispy_forms.layout import Column, Layout, Row
from django import forms
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.template.defaultfilters import filesizeformat
from django.utils.translation import get_language, gettext_lazy
from django.utils.translation import gettext as _

from assessments import fiscal_year as fy
from assessments import levels, rounds
from assessments.catalog.source import MAX_BYTES
from assessments.evidence import ALLOWED_EXTENSIONS, ALLOWED_LABEL, validate_evidence_file
from assessments.fiscal_year import MAX_FISCAL_YEAR, MIN_FISCAL_YEAR, current_fiscal_year
from assessments.levels import Level
from assessments.limits import (
    ANSWER_TEXT_MAX_LENGTHS,
    ANSWER_TEXT_MAX_LINES,
    EVIDENCE_URL_MAX_LENGTH,
    REVIEW_COMMENT_MAX_LENGTH,
    REVIEW_COMMENT_MAX_LINES,
    TOO_LONG,
    TRANSITION_COMMENT_MAX_LENGTH,
    TRANSITION_COMMENT_MAX_LINES,
    max_lines_validator,
)
from assessments.models import (
    AccountEvent,
    Answer,
    Assessment,
    Body,
    Guideline,
    Measure,
    SurveyRound,
    User,
)
from assessments.models.assessments import validate_reminder_days
from assessments.models.documents import DocumentSettings, header_for
from assessments.selectors.dashboards import Filters


def inner_helper(form: forms.BaseForm) -> FormHelper:
    """The crispy helper of every form here: fields only, inside the page's own <form> tag
    (which holds the CSRF token and the buttons)."""
    helper = FormHelper(form)
    helper.form_tag = False
    helper.disable_csrf = True
    return helper


def answer_prefix(measure: Measure) -> str:
    """Form field prefix of a measure, stable on the page and in autosave requests."""
    return f"m{measure.order}"


def answer_initial(answer: Answer | None) -> dict:
    if answer is None:
        return {"version": 0}
    initial = {name: getattr(answer, name) for name in AnswerForm.TEXT_FIELDS}
    initial.update(
        version=answer.version,
        level=answer.choice,
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

    # The fields after level, not_applicable_reason, note and department, grouped as on the page
    # (assessments/form_html.py writes the HTML: no crispy layout, see there why).
    FIELDSETS = (
        ("answer-evidence", gettext_lazy("根拠資料"), ("evidence_file", "evidence_url")),
        (
            "answer-plan",
            gettext_lazy("改善計画"),
            ("target_level", "target_fiscal_year", "improvement_plan"),
        ),
    )

    version = forms.IntegerField(widget=forms.HiddenInput, min_value=0)
    level = forms.ChoiceField(widget=forms.RadioSelect, required=False)
    not_applicable_reason = forms.CharField(
        label=gettext_lazy("該当なしの理由"),
        required=False,
        max_length=ANSWER_TEXT_MAX_LENGTHS["not_applicable_reason"],
        error_messages={"max_length": TOO_LONG},
        validators=[max_lines_validator(ANSWER_TEXT_MAX_LINES["not_applicable_reason"])],
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=gettext_lazy("「該当なし」を選んだときは必須です。"),
    )
    note = forms.CharField(
        label=gettext_lazy("備考"),
        required=False,
        max_length=ANSWER_TEXT_MAX_LENGTHS["note"],
        error_messages={"max_length": TOO_LONG},
        validators=[max_lines_validator(ANSWER_TEXT_MAX_LINES["note"])],
        widget=forms.Textarea(attrs={"rows": 2}),
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
        label=gettext_lazy("根拠資料（URL）"),
        required=False,
        max_length=EVIDENCE_URL_MAX_LENGTH,
        error_messages={"max_length": TOO_LONG},
        assume_scheme="https",
    )
    department = forms.CharField(
        label=gettext_lazy("担当部署"),
        required=False,
        max_length=ANSWER_TEXT_MAX_LENGTHS["department"],
        error_messages={"max_length": TOO_LONG},
    )
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
        label=gettext_lazy("改善計画"),
        required=False,
        max_length=ANSWER_TEXT_MAX_LENGTHS["improvement_plan"],
        error_messages={"max_length": TOO_LONG},
        validators=[max_lines_validator(ANSWER_TEXT_MAX_LINES["improvement_plan"])],
        widget=forms.Textarea(attrs={"rows": 3}),
    )

    def __init__(self, *args, measure: Measure, **kwargs):
        kwargs.setdefault("prefix", answer_prefix(measure))
        super().__init__(*args, **kwargs)
        self.measure = measure
        level = cast(forms.ChoiceField, self.fields["level"])
        level.label = _("%(ref)s の達成レベル") % {"ref": measure.ref}
        level.choices = _level_choices(
            get_language(),
            tuple((d.level, d.description) for d in measure.level_descriptions.all()),
        )
        self.fields["evidence_file"].help_text = _(
            "%(allowed)s、%(size)s まで。新しいファイルを選ぶと置き換えます。"
            "ファイルは「この章を保存」を押したときに保存されます。"
        ) % {"allowed": ALLOWED_LABEL, "size": _max_size_label()}

    def clean(self):
        cleaned = super().clean() or {}
        try:
            levels.validate_reason(cleaned.get("level"), cleaned.get("not_applicable_reason", ""))
        except ValidationError as refused:
            self.add_error(None, refused)
        level, target = (
            levels.fields_of(cleaned.get("level")).get("level"),
            cleaned.get("target_level"),
        )
        if level is not None and target is not None and target < level:
            self.add_error("target_level", _("目標レベルは現在のレベル以上を選んでください。"))
        year = cleaned.get("target_fiscal_year")
        if year is not None and year < current_fiscal_year():
            self.add_error(
                "target_fiscal_year",
                _("目標年度は今年度（%(year)s年度）以降にしてください。")
                % {"year": current_fiscal_year()},
            )
        return cleaned

    def answer_data(self) -> dict:
        """The cleaned values in the Answer's terms."""
        cleaned = self.cleaned_data
        data = {name: cleaned.get(name, "").strip() for name in self.TEXT_FIELDS}
        data.update(
            **levels.fields_of(cleaned.get("level")),
            target_level=cleaned.get("target_level"),
            target_fiscal_year=cleaned.get("target_fiscal_year"),
        )
        return data

    def error_links(self) -> list[tuple[str, object, object]]:
        """(anchor, field label, message) for the page's error summary."""
        links: list[tuple[str, object, object]] = []
        for name, errors in self.errors.items():
            bound = self[name] if name in self.fields else None
            anchor = bound.auto_id if bound is not None else f"measure-{self.measure.order}"
            if name == "level":
                anchor = f"{anchor}_0"
            label = bound.label if bound is not None else _("入力")
            links.extend((anchor, label, message) for message in errors)
        return links


@functools.lru_cache(maxsize=1024)
def _level_choices(language: str | None, descriptions: tuple[tuple[int, str], ...]) -> list:
    """The level radios' choices: each level's label with the measure's own text (made once per
    language and set of texts; a section page builds 14 of them per request)."""
    texts = dict(descriptions)
    return [
        (str(value), f"{label}: {texts[value]}" if value in texts else str(label))
        for value, label in Level.choices
    ] + [(levels.NOT_APPLICABLE, _("該当なし（理由を記入。点数の計算から除きます）"))]


def _max_size_label() -> str:
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

    def __init__(self, *args, started: frozenset[str] = frozenset(), **kwargs):
        """`started`: series of the guidelines the body already has a started assessment of this
        fiscal year; they are not offered again (their assessment is linked instead). Only the
        latest edition of a guideline is offered."""
        super().__init__(*args, **kwargs)
        # One query, whatever the template does with the choices.
        self.guidelines = {
            g.code: g
            for g in Guideline.objects.latest_editions().order_by("-issued_on")
            if g.series not in started
        }
        cast(forms.ChoiceField, self.fields["guideline"]).choices = [
            (c, f"{g.title}（{g.issued_on.year}）") for c, g in self.guidelines.items()
        ]
        self.helper = inner_helper(self)


# --- Review ------------------------------------------------------------------------------------


class ReviewCommentForm(forms.Form):
    """A reviewer's comment on one measure; the page holds one per measure (ids kept apart)."""

    measure = forms.CharField(widget=forms.HiddenInput)  # the measure's ref, e.g. II.1.(2)②
    body = forms.CharField(
        label=gettext_lazy("コメント"),
        max_length=REVIEW_COMMENT_MAX_LENGTH,
        validators=[max_lines_validator(REVIEW_COMMENT_MAX_LINES)],
        widget=forms.Textarea(attrs={"rows": 2}),
        error_messages={
            "required": gettext_lazy("コメントを入力してください。"),
            "max_length": TOO_LONG,
        },
    )
    needs_fix = forms.BooleanField(label=gettext_lazy("要修正"), required=False)

    def __init__(self, *args, assessment: Assessment, measure: Measure | None = None, **kwargs):
        if measure is not None:
            kwargs.setdefault("auto_id", f"comment-{measure.pk}-%s")
            kwargs.setdefault("initial", {"measure": measure.ref})
        super().__init__(*args, **kwargs)
        self.assessment = assessment
        if measure is not None:
            self.fields["body"].label = _("%(ref)s へのコメント") % {"ref": measure.ref}
        self.helper = inner_helper(self)

    def clean_measure(self) -> Measure:
        try:
            return Measure.objects.to_answer(self.assessment).get(ref=self.cleaned_data["measure"])
        except Measure.DoesNotExist:
            raise ValidationError(_("項目が見つかりません。")) from None


class DecisionForm(forms.Form):
    """A reviewer's decision with its comment; ids start with `id_prefix` (one page shows several)."""

    id_prefix = "decision"

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("auto_id", f"{self.id_prefix}-%s")
        super().__init__(*args, **kwargs)
        self.helper = inner_helper(self)


class ReturnForm(DecisionForm):
    comment = forms.CharField(
        label=gettext_lazy("差戻しの理由"),
        max_length=TRANSITION_COMMENT_MAX_LENGTH,
        validators=[max_lines_validator(TRANSITION_COMMENT_MAX_LINES)],
        widget=forms.Textarea(attrs={"rows": 3}),
        error_messages={
            "required": gettext_lazy("差戻しの理由を入力してください。"),
            "max_length": TOO_LONG,
        },
    )

    id_prefix = "return"


class ReopenForm(DecisionForm):
    """Reopen an approved assessment (back to 差戻し) with the reason."""

    comment = forms.CharField(
        label=gettext_lazy("再開の理由"),
        max_length=TRANSITION_COMMENT_MAX_LENGTH,
        validators=[max_lines_validator(TRANSITION_COMMENT_MAX_LINES)],
        widget=forms.Textarea(attrs={"rows": 3}),
        error_messages={
            "required": gettext_lazy("再開の理由を入力してください。"),
            "max_length": TOO_LONG,
        },
    )

    id_prefix = "reopen"


class ApproveForm(DecisionForm):
    comment = forms.CharField(
        label=gettext_lazy("承認コメント（任意）"),
        max_length=TRANSITION_COMMENT_MAX_LENGTH,
        validators=[max_lines_validator(TRANSITION_COMMENT_MAX_LINES)],
        error_messages={"max_length": TOO_LONG},
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
    )

    id_prefix = "approve"


# --- Dashboards --------------------------------------------------------------------------------

DEFAULT_GUIDELINE = "egov-2003"
SORT_CHOICES = [
    ("code", gettext_lazy("団体コード順")),
    ("name", gettext_lazy("団体名（かな）順")),
    ("status", gettext_lazy("状態順")),
    ("-score", gettext_lazy("総合点の高い順")),
    ("score", gettext_lazy("総合点の低い順")),
    ("due", gettext_lazy("提出期限の早い順")),
]


class FilterForm(forms.Form):
    """The dashboards' GET filters; an invalid field falls back to its default (the page says
    so once, the fields show no error: `quiet_errors`, assessments/form_html.py)."""

    quiet_errors = True

    guideline = forms.ModelChoiceField(
        label=gettext_lazy("指針"),
        queryset=Guideline.objects.order_by("-issued_on", "-edition"),
        to_field_name="code",
        required=False,
        empty_label=None,
    )
    fiscal_year = forms.TypedChoiceField(label=gettext_lazy("年度"), coerce=int, required=False)
    prefecture = forms.ModelChoiceField(
        label=gettext_lazy("都道府県"),
        queryset=Body.objects.prefectures().order_by("code"),
        to_field_name="code",
        required=False,
        empty_label=gettext_lazy("すべて"),
    )
    kind = forms.ChoiceField(
        label=gettext_lazy("区分"),
        choices=[("", gettext_lazy("すべて")), *Body.Kind.choices],
        required=False,
    )
    status = forms.ChoiceField(
        label=gettext_lazy("状態"),
        choices=[("", gettext_lazy("すべて")), *Assessment.Status.choices],
        required=False,
    )
    sort = forms.ChoiceField(label=gettext_lazy("並び順"), choices=SORT_CHOICES, required=False)
    include_drafts = forms.BooleanField(
        label=gettext_lazy("作成中・差戻しも順位と平均に含める（暫定）"), required=False
    )
    overdue = forms.BooleanField(label=gettext_lazy("期限超過のみ"), required=False)

    def __init__(self, data=None, *args, user, **kwargs):
        this_year = current_fiscal_year()
        if data is not None:
            # A filter left out of the address shows its default, as the numbers below do.
            data = data.copy()
            data.setdefault("guideline", DEFAULT_GUIDELINE)
            data.setdefault("fiscal_year", str(this_year))
        super().__init__(data, *args, **kwargs)
        cast(forms.ChoiceField, self.fields["fiscal_year"]).choices = [
            (year, _("%(year)s年度") % {"year": year}) for year in range(this_year + 1, 2002, -1)
        ]
        self.fields["fiscal_year"].initial = this_year
        self.fields["guideline"].initial = DEFAULT_GUIDELINE
        if not user.is_national_admin:
            del self.fields["prefecture"]  # a reviewer's scope is their prefecture
        # Written by form_html.render_filter_fields (a column each, errors not shown: invalid
        # filters fall back to their defaults and the page says so), not through crispy.

    def filters(self) -> Filters:
        """The filters to apply: the valid fields, defaults for the rest."""
        data = {}
        if self.is_bound:
            self.is_valid()
            data = {k: v for k, v in self.cleaned_data.items() if k not in self.errors}
        guideline = data.get("guideline") or Guideline.objects.get(code=DEFAULT_GUIDELINE)
        return Filters(
            guideline=guideline,
            fiscal_year=data.get("fiscal_year") or current_fiscal_year(),
            prefecture=data.get("prefecture"),
            kind=data.get("kind") or "",
            status=data.get("status") or "",
            sort=data.get("sort") or "code",
            include_drafts=bool(data.get("include_drafts")),
            overdue=bool(data.get("overdue")),
        )


# --- Survey rounds -----------------------------------------------------------------------------


class OpenRoundForm(forms.Form):
    guideline = forms.ModelChoiceField(
        label=gettext_lazy("指針"),
        # A new round starts on the latest edition of a guideline (catalog.plan).
        queryset=Guideline.objects.latest_editions().order_by("-issued_on"),
        to_field_name="code",
        empty_label=None,
    )
    fiscal_year = forms.IntegerField(
        label=gettext_lazy("年度（西暦）"), min_value=MIN_FISCAL_YEAR, max_value=MAX_FISCAL_YEAR
    )
    due_on = forms.DateField(
        label=gettext_lazy("提出期限"), widget=forms.DateInput(attrs={"type": "date"})
    )
    scope = forms.ChoiceField(
        label=gettext_lazy("対象"), choices=rounds.Scope.CHOICES, initial=rounds.Scope.ALL
    )
    reminder_days = forms.CharField(
        label=gettext_lazy("期限前の督促（何日前、カンマ区切り）"),
        initial="14,3",
        max_length=50,
        required=False,
        validators=[validate_reminder_days],
    )
    overdue_every_days = forms.IntegerField(
        label=gettext_lazy("期限超過後の督促の間隔（日）"),
        initial=7,
        min_value=1,
        max_value=90,
        required=False,
        help_text=gettext_lazy("期限の翌日に督促し、その後この間隔で繰り返します。"),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.helper = inner_helper(self)

    def clean(self):
        data = super().clean() or {}
        year, due = data.get("fiscal_year"), data.get("due_on")
        if year and due and not (year <= due.year <= year + 1):
            self.add_error("due_on", _("提出期限は対象年度の中の日付にしてください。"))
        # Left empty: the default schedule (14 and 3 days before, then weekly).
        data["reminder_days"] = data.get("reminder_days") or "14,3"
        data["overdue_every_days"] = data.get("overdue_every_days") or 7
        return data


class BodyCodeField(forms.CharField):
    """A body by its 6-digit code, limited to the bodies the acting user may manage."""

    def __init__(self, *, bodies=None, **kwargs):
        self.bodies = bodies if bodies is not None else Body.objects.all()
        kwargs.setdefault("max_length", 6)
        super().__init__(**kwargs)

    def clean(self, value):
        value = super().clean(value)
        if not value:
            return None
        body = self.bodies.filter(code=value.strip()).first()
        if body is None:
            raise ValidationError(
                _("団体コード「%(code)s」は管轄外か、登録されていません。") % {"code": value}
            )
        return body


class RoundReasonForm(forms.Form):
    """A reason (or note) for a step of a round: extension, excusal, sign-off, decision, close."""

    reason_label = gettext_lazy("理由")
    reason_required = True

    reason = forms.CharField(
        max_length=TRANSITION_COMMENT_MAX_LENGTH,
        validators=[max_lines_validator(TRANSITION_COMMENT_MAX_LINES)],
        widget=forms.Textarea(attrs={"rows": 2}),
        error_messages={"max_length": TOO_LONG},
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        field = self.fields["reason"]
        field.label = self.reason_label
        field.required = self.reason_required
        field.error_messages["required"] = _("%(label)sを入力してください。") % {
            "label": self.reason_label
        }
        self.helper = inner_helper(self)


class ExtendForm(RoundReasonForm):
    """Extend the round's due date, or one body's (by its code)."""

    reason_label = gettext_lazy("延長の理由")

    body = BodyCodeField(
        label=gettext_lazy("団体コード（1団体だけ延長するとき）"),
        required=False,
        help_text=gettext_lazy("空のときは調査回全体の期限を変更します。"),
    )
    due_on = forms.DateField(
        label=gettext_lazy("新しい提出期限"), widget=forms.DateInput(attrs={"type": "date"})
    )
    field_order = ["body", "due_on", "reason"]


class ExcuseForm(RoundReasonForm):
    reason_label = gettext_lazy("免除の理由")


class SignOffForm(RoundReasonForm):
    reason_label = gettext_lazy("国への連絡事項（任意）")
    reason_required = False


class SignOffDecisionForm(RoundReasonForm):
    """Accept a prefecture's sign-off, or return it with a reason."""

    reason_label = gettext_lazy("理由・コメント（差戻しでは必須）")
    reason_required = False

    action = forms.ChoiceField(
        label=gettext_lazy("判断"),
        choices=[("accept", gettext_lazy("受理する")), ("return", gettext_lazy("差し戻す"))],
        widget=forms.RadioSelect,
    )
    field_order = ["action", "reason"]

    def clean(self):
        data = super().clean() or {}
        if data.get("action") == "return" and not (data.get("reason") or "").strip():
            self.add_error("reason", _("差戻しの理由を入力してください。"))
        return data


class CloseRoundForm(RoundReasonForm):
    reason_label = gettext_lazy("締切の理由（受理されていない都道府県があるときは必須）")
    reason_required = False


FOLLOW_UP_STATUS_CHOICES = [("", gettext_lazy("すべて")), *Assessment.Status.choices]


class FollowUpFilterForm(forms.Form):
    """The follow-up list's filters; an invalid value falls back to "all"."""

    prefecture = forms.ModelChoiceField(
        label=gettext_lazy("都道府県"),
        queryset=Body.objects.prefectures().order_by("code"),
        to_field_name="code",
        required=False,
        empty_label=gettext_lazy("すべて"),
    )
    status = forms.ChoiceField(
        label=gettext_lazy("状態"), choices=FOLLOW_UP_STATUS_CHOICES, required=False
    )
    overdue = forms.BooleanField(label=gettext_lazy("期限超過のみ"), required=False)

    def __init__(self, data=None, *args, user, **kwargs):
        super().__init__(data, *args, **kwargs)
        if not user.is_national_admin:
            del self.fields["prefecture"]  # a reviewer's list is its prefecture
        self.helper = inner_helper(self)
        self.helper.form_show_errors = False
        self.helper.layout = Layout(
            Row(
                *[Column(name, css_class="col-md-auto") for name in self.fields],
                css_class="g-2 align-items-end",
            )
        )

    def values(self) -> dict:
        if not self.is_bound:
            return {}
        self.is_valid()
        return {k: v for k, v in self.cleaned_data.items() if k not in self.errors}


# --- Accounts ------------------------------------------------------------------------------------


def assignable_roles(user) -> list[tuple[str, str]]:
    if user.is_national_admin:
        return [(v, str(label)) for v, label in User.Role.choices]
    return [(v, str(label)) for v, label in User.Role.choices if v != User.Role.NATIONAL_ADMIN]


class InviteForm(forms.Form):
    name = forms.CharField(label=gettext_lazy("氏名"), max_length=150)
    email = forms.EmailField(label=gettext_lazy("メールアドレス"))
    body = BodyCodeField(
        label=gettext_lazy("団体コード"),
        required=False,
        help_text=gettext_lazy("6桁の全国地方公共団体コード（国の管理者は空欄）"),
    )
    role = forms.ChoiceField(label=gettext_lazy("役割"))

    def __init__(self, *args, actor, **kwargs):
        super().__init__(*args, **kwargs)
        cast(BodyCodeField, self.fields["body"]).bodies = Body.objects.visible_to(actor)
        cast(forms.ChoiceField, self.fields["role"]).choices = assignable_roles(actor)
        self.helper = inner_helper(self)


class AccountChangeForm(forms.Form):
    body = BodyCodeField(label=gettext_lazy("団体コード"), required=False)
    role = forms.ChoiceField(label=gettext_lazy("役割"))

    def __init__(self, *args, actor, **kwargs):
        super().__init__(*args, **kwargs)
        cast(BodyCodeField, self.fields["body"]).bodies = Body.objects.visible_to(actor)
        cast(forms.ChoiceField, self.fields["role"]).choices = assignable_roles(actor)
        self.helper = inner_helper(self)


class AccountFilterForm(forms.Form):
    STATES = [
        ("", gettext_lazy("すべて")),
        ("active", gettext_lazy("利用中")),
        ("invited", gettext_lazy("招待中")),
        ("inactive", gettext_lazy("利用停止")),
    ]
    q = forms.CharField(label=gettext_lazy("検索（氏名・メール・ユーザー名）"), required=False)
    body = forms.CharField(label=gettext_lazy("団体コード"), required=False, max_length=6)
    role = forms.ChoiceField(label=gettext_lazy("役割"), required=False)
    state = forms.ChoiceField(label=gettext_lazy("状態"), required=False, choices=STATES)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        cast(forms.ChoiceField, self.fields["role"]).choices = [
            ("", _("すべて")),
            *User.Role.choices,
        ]
        self.helper = inner_helper(self)
        self.helper.wrapper_class = "col-sm-6 col-lg-3"  # one row of filters on a wide screen


class AccountImportForm(forms.Form):
    file = forms.FileField(
        label=gettext_lazy("ファイル（CSV または Excel）"),
        help_text=gettext_lazy(
            "列: 団体コード, 氏名, メールアドレス, 役割（UTF-8 または Shift_JIS の CSV、または xlsx）"
        ),
    )

    MAX_BYTES = 2 * 1024 * 1024

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.helper = inner_helper(self)

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if upload.size > self.MAX_BYTES:
            raise ValidationError(_("ファイルが大きすぎます（上限 2MB）。"))
        return upload


class AuditFilterForm(forms.Form):
    kind = forms.ChoiceField(label=gettext_lazy("種類"), required=False)
    q = forms.CharField(label=gettext_lazy("ユーザー名"), required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        cast(forms.ChoiceField, self.fields["kind"]).choices = [
            ("", _("すべて")),
            *AccountEvent.Kind.choices,
        ]
        self.helper = inner_helper(self)
        self.helper.wrapper_class = "col-sm-6 col-lg-4"


class InvitationAcceptForm(forms.Form):
    new_password1 = forms.CharField(
        label=gettext_lazy("新しいパスワード"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )
    new_password2 = forms.CharField(
        label=gettext_lazy("新しいパスワード（確認）"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.helper = inner_helper(self)

    def clean(self):
        data = super().clean() or {}
        if data.get("new_password1") != data.get("new_password2"):
            self.add_error("new_password2", _("確認のパスワードが一致しません。"))
        return data


class LoginForm(AllauthLoginForm):
    """allauth's login form, also accepting the field name `username` (the admin's, old links)."""

    def __init__(self, *args, **kwargs):
        data = kwargs.get("data")
        if data is not None and "login" not in data and "username" in data:
            data = data.copy()
            data["login"] = data["username"]
            kwargs["data"] = data
        super().__init__(*args, **kwargs)
        self.helper = inner_helper(self)


class DocumentSettingsForm(forms.ModelForm):
    """The header of a body's documents; each blank field shows its default as a placeholder."""

    class Meta:
        model = DocumentSettings
        fields = [
            "number_pattern",
            "addressee",
            "sender",
            "department",
            "contact_person",
            "phone",
            "email",
            "approval_columns",
        ]

    def __init__(self, *args, body: Body, fiscal_year: int, **kwargs):
        super().__init__(*args, **kwargs)
        defaults = header_for(body, fiscal_year, None)
        placeholders = {
            "number_pattern": _("例: 札デ第{番号}号"),
            "addressee": defaults.addressee,
            "sender": defaults.sender,
            "approval_columns": "、".join(defaults.approval_columns),
        }
        for name, field in self.fields.items():
            field.error_messages["max_length"] = TOO_LONG
            if name in placeholders:
                field.widget.attrs["placeholder"] = placeholders[name]
        self.fields["phone"].widget.attrs.update({"inputmode": "tel", "autocomplete": "tel"})
        self.fields["email"].widget.attrs["autocomplete"] = "email"
        self.helper = inner_helper(self)


# --- Published statistics --------------------------------------------------------------------


class ClosedRoundField(forms.ModelChoiceField):
    def label_from_instance(self, obj) -> str:
        return f"{fy.label(obj.fiscal_year)} {obj.guideline.title}"


class PublishStatisticsForm(forms.Form):
    """Publish a closed round's statistics (a correction needs its reason, checked on publish)."""

    survey_round = ClosedRoundField(
        label=gettext_lazy("調査回（締切済み）"),
        queryset=SurveyRound.objects.filter(closed_at__isnull=False).select_related("guideline"),
        empty_label=None,
    )
    note = forms.CharField(
        label=gettext_lazy("備考・修正の理由（2回目以降の公表では必須）"),
        required=False,
        max_length=TRANSITION_COMMENT_MAX_LENGTH,
        validators=[max_lines_validator(TRANSITION_COMMENT_MAX_LINES)],
        widget=forms.Textarea(attrs={"rows": 2}),
        error_messages={"max_length": TOO_LONG},
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.helper = inner_helper(self)


class CorrectionReopenForm(RoundReasonForm):
    """Reopen one approved assessment of a closed round for correction."""

    reason_label = gettext_lazy("修正のため再開する理由")

    survey_round = forms.ModelChoiceField(
        queryset=SurveyRound.objects.filter(closed_at__isnull=False), widget=forms.HiddenInput
    )
    body = BodyCodeField(label=gettext_lazy("団体コード"))
    field_order = ["survey_round", "body", "reason"]


# --- Guideline files (national administrators) -------------------------------------------------


class GuidelineUploadForm(forms.Form):
    file = forms.FileField(
        label=gettext_lazy("指針ファイル（JSON または Excel）"),
        help_text=gettext_lazy("2 MB まで。形式は fixtures/guidelines/README.md のとおりです。"),
        widget=forms.ClearableFileInput(attrs={"accept": ".json,.xlsx"}),
    )

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if upload.size > MAX_BYTES:
            raise ValidationError(_("ファイルが大きすぎます（上限 2 MB）。"))
        return upload
