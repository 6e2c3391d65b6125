"""Home: the user's body and its assessments by fiscal year, and starting this year's."""

from django.contrib.auth.decorators import login_required
from django.shortcuts import render
from django.views.decorators.http import require_GET

from assessments import rounds
from assessments.fiscal_year import current_fiscal_year
from assessments.forms import StartAssessmentForm
from assessments.models import Assessment
from assessments.scoring import FORMULA


@login_required
@require_GET
def home(request):
    """The user's body (or prefecture) and its assessments, newest fiscal year first."""
    user = request.user
    assessments = list(
        Assessment.objects.visible_to(user)
        .filter(body_id=user.body_id)
        .select_related("guideline", "body", "survey_round", "excusal")
        .with_scores()
        .order_by("-fiscal_year", "guideline__issued_on")
    )
    this_year = [a for a in assessments if a.fiscal_year == current_fiscal_year()]
    started = frozenset(
        a.guideline.series for a in this_year if a.status != Assessment.Status.NOT_STARTED
    )
    start_form = StartAssessmentForm(started=started) if user.is_body_staff else None
    return render(
        request,
        "assessments/home.html",
        {
            "body": user.body,
            "assessments": assessments,
            "this_year": [
                (a, rounds.due_state(a)) for a in this_year if a.guideline.series in started
            ],
            "not_started": [
                (a, due)
                for a in this_year
                if a.status == Assessment.Status.NOT_STARTED and (due := rounds.due_state(a))
            ],
            "current_fiscal_year": current_fiscal_year(),
            "start_form": start_form if start_form and start_form.guidelines else None,
            "formula": FORMULA,
        },
    )
