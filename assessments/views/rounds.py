"""Survey rounds: the national administrator opens one and follows its progress by prefecture."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from assessments import access, rounds
from assessments.fiscal_year import current_fiscal_year
from assessments.forms import OpenRoundForm
from assessments.models import Assessment, SurveyRound


@login_required
@require_http_methods(["GET", "POST"])
def round_list(request):
    """The rounds opened so far, and the form to open the next one."""
    access.require_national_admin(request.user)
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
    access.require_national_admin(request.user)
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
