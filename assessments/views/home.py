from django.contrib.auth.decorators import login_required
from django.shortcuts import render
from django.views.decorators.http import require_GET

from assessments import access
from assessments.fiscal_year import current_fiscal_year
from assessments.models import Assessment, Measure
from assessments.scoring import FORMULA_JA


@login_required
@require_GET
def home(request):
    """The user's body (or prefecture) and its assessments, newest fiscal year first."""
    user = request.user
    assessments = (
        Assessment.objects.filter(body_id=user.body_id)
        .select_related("guideline", "body")
        .with_scores()
        .order_by("-fiscal_year", "guideline__issued_on")
    )
    return render(
        request,
        "assessments/home.html",
        {
            "body": user.body,
            "assessments": assessments,
            "current_fiscal_year": current_fiscal_year(),
            "formula": FORMULA_JA,
        },
    )


@login_required
@require_GET
def assessment_detail(request, body_code: str, fiscal_year: int, guideline_code: str):
    """One assessment: every measure of the guideline with its level descriptions and answer."""
    assessment = access.get_assessment_for_user(
        request.user, body_code, fiscal_year, guideline_code
    )
    measures = (
        Measure.objects.filter(guideline=assessment.guideline)
        .prefetch_related("level_descriptions")
        .order_by("order")
    )
    answers = {a.measure_id: a for a in assessment.answers.all()}
    scored = Assessment.objects.filter(pk=assessment.pk).with_scores().get()
    return render(
        request,
        "assessments/assessment_detail.html",
        {
            "assessment": assessment,
            "scored": scored,
            "rows": [(m, answers.get(m.pk)) for m in measures],
            "formula": FORMULA_JA,
        },
    )
