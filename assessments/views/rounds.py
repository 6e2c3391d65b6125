"""Survey rounds: the national administrator opens one and follows its progress by prefecture."""

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods

from assessments import rounds
from assessments.fiscal_year import MAX_FISCAL_YEAR, MIN_FISCAL_YEAR, current_fiscal_year
from assessments.models import Assessment, Guideline, SurveyRound


class OpenRoundForm(forms.Form):
    guideline = forms.ModelChoiceField(
        label=gettext_lazy("指針"),
        queryset=Guideline.objects.order_by("-issued_on"),
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

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for name, field in self.fields.items():
            select = isinstance(field.widget, forms.Select)
            field.widget.attrs["class"] = "form-select" if select else "form-control"
            if self.is_bound and name in self.errors:
                field.widget.attrs["aria-invalid"] = "true"
                field.widget.attrs["aria-describedby"] = f"id_{name}-error"

    def clean(self):
        data = super().clean()
        year, due = data.get("fiscal_year"), data.get("due_on")
        if year and due and not (year <= due.year <= year + 1):
            self.add_error("due_on", _("提出期限は対象年度の中の日付にしてください。"))
        return data


def _require_national_admin(user):
    if not user.is_national_admin:
        raise PermissionDenied


@login_required
@require_http_methods(["GET", "POST"])
def round_list(request):
    """The rounds opened so far, and the form to open the next one."""
    _require_national_admin(request.user)
    form = OpenRoundForm(request.POST or None, initial={"fiscal_year": current_fiscal_year()})
    if request.method == "POST" and form.is_valid():
        try:
            opened = rounds.survey_round_open(user=request.user, **form.cleaned_data)
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(
                request,
                _("調査回を開始しました（新規 %(created)s 件、既存 %(linked)s 件を紐付け）。")
                % {"created": opened.created, "linked": opened.linked},
            )
            return redirect(
                "round_progress",
                guideline_code=opened.survey_round.guideline.code,
                fiscal_year=opened.survey_round.fiscal_year,
            )
    survey_rounds = SurveyRound.objects.select_related("guideline", "opened_by")
    return render(
        request,
        "assessments/round_list.html",
        {"form": form, "survey_rounds": survey_rounds},
        status=400 if form.is_bound else 200,
    )


@login_required
@require_GET
def round_progress(request, guideline_code: str, fiscal_year: int):
    """Counts per status for each prefecture (itself and its municipalities)."""
    _require_national_admin(request.user)
    survey_round = get_object_or_404(
        SurveyRound.objects.select_related("guideline"),
        guideline__code=guideline_code,
        fiscal_year=fiscal_year,
    )
    progress = rounds.round_progress(survey_round)
    statuses = Assessment.Status.choices
    totals = [sum(p.counts[value] for p in progress) for value, _label in statuses]
    return render(
        request,
        "assessments/round_progress.html",
        {
            "survey_round": survey_round,
            "rows": [
                (p.prefecture, [p.counts[value] for value, _label in statuses], p.total, p.done)
                for p in progress
            ],
            "statuses": statuses,
            "totals": totals,
            "grand_total": sum(totals),
        },
    )
