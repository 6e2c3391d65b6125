"""The review chain's screens: the reviewer's queue and the review page of one assessment.

Reading the review page follows the assessment's read access (another body's is 404); writing
(comment, return, approve) needs access.can_review, else 403.
"""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import JsonResponse
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from assessments import access, workflow
from assessments.fiscal_year import current_fiscal_year
from assessments.forms import (
    DEFAULT_GUIDELINE,
    ApproveForm,
    ReopenForm,
    ReturnForm,
    ReviewCommentForm,
)
from assessments.models import Assessment, SurveyRound
from assessments.scoring import FORMULA
from assessments.selectors import filling
from assessments.selectors import review as selected

QUEUE_PAGE_SIZE = 50


@login_required
@require_GET
def review_queue(request):
    """Submissions waiting for the user's review, newest first."""
    page = Paginator(selected.review_queue(request.user), QUEUE_PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    context: dict[str, object] = {"page": page}
    if request.user.is_prefecture_reviewer:
        # The prefecture's documents for the current year, under the default guideline; the
        # dashboard links them for any year and guideline chosen in its filters.
        context.update(
            report_prefecture=request.user.body,
            report_year=current_fiscal_year(),
            report_guideline_code=DEFAULT_GUIDELINE,
            open_rounds=SurveyRound.objects.filter(closed_at__isnull=True).select_related(
                "guideline"
            ),
        )
    return render(request, "assessments/review_queue.html", context)


def _render_review(
    request, assessment, *, comment_form=None, return_form=None, reopen_form=None, status=200
):
    transitions = list(assessment.transitions.select_related("by"))
    rows = selected.review_rows(assessment, transitions)
    reviewer = access.can_review(request.user, assessment)
    if reviewer and assessment.status == Assessment.Status.SUBMITTED:
        for row in rows:
            bound = comment_form is not None and comment_form.data.get("measure") == row.measure.ref
            data = comment_form.data if bound else None
            row.form = ReviewCommentForm(data, assessment=assessment, measure=row.measure)
            if bound:
                row.form.is_valid()  # shows the errors beside what was typed
    actions = {a.name for a in workflow.available_actions(request.user, assessment)}
    context = {
        "assessment": assessment,
        "scored": filling.scored(assessment),
        "rows": rows,
        "transitions": transitions,
        "can_review": reviewer,
        "can_return": "return" in actions,
        "can_approve": "approve" in actions,
        "return_form": return_form or ReturnForm(),
        "approve_form": ApproveForm(),
        "can_reopen": "reopen" in actions,
        "reopen_form": reopen_form or ReopenForm(),
        "comment_messages": {
            "saving": _("コメントを送信しています…"),
            "failed": _("コメントを保存できませんでした。入力はそのまま残っています。"),
            "login": _(
                "ログインの有効期限が切れたため、コメントを保存できませんでした。入力はそのまま"
                "残っています。新しいタブでログインし直してから、もう一度押してください。"
            ),
        },
        "formula": FORMULA,
    }
    return render(request, "assessments/review.html", context, status=status)


@login_required
@require_GET
def review(request, body_code: str, fiscal_year: int, guideline_code: str):
    """Every measure with its answer, the reviewer's comments, the log, approve / return."""
    assessment = access.get_assessment_for_user(
        request.user, body_code, fiscal_year, guideline_code
    )
    return _render_review(request, assessment)


def _wants_json(request) -> bool:
    return "application/json" in request.headers.get("Accept", "")


@login_required
@require_POST
def review_comment(request, body_code: str, fiscal_year: int, guideline_code: str):
    """Add a comment on one measure: JSON for the page's script (nothing else on the page is
    reloaded, so text typed elsewhere stays), a redirect back to the measure without it."""
    assessment = access.get_reviewable_assessment(
        request.user, body_code, fiscal_year, guideline_code
    )
    form = ReviewCommentForm(request.POST, assessment=assessment)
    error = None
    if form.is_valid():
        try:
            comment = workflow.review_comment_add(
                assessment=assessment,
                user=request.user,
                measure=form.cleaned_data["measure"],
                body=form.cleaned_data["body"],
                needs_fix=form.cleaned_data["needs_fix"],
            )
        except ValidationError as refused:
            error = " ".join(refused.messages)
        else:
            done = _("%(ref)s にコメントを追加しました。") % {"ref": comment.measure.ref}
            if _wants_json(request):
                html = render_to_string(
                    "assessments/includes/_review_comment.html", {"comment": comment}, request
                )
                return JsonResponse({"ok": True, "message": done, "html": html})
            messages.success(request, done)
            return redirect(
                reverse("review", kwargs=assessment.url_kwargs) + f"#m-{comment.measure_id}"
            )
    if _wants_json(request):
        errors = {k: [str(e) for e in v] for k, v in form.errors.items()}
        message = error or " ".join(m for v in errors.values() for m in v)
        return JsonResponse({"ok": False, "message": message, "errors": errors}, status=400)
    if error:
        messages.error(request, error)
        return redirect("review", **assessment.url_kwargs)
    return _render_review(request, assessment, comment_form=form, status=400)


def _transition(request, assessment, action: str, form):
    kept = {"return": {"return_form": form}, "reopen": {"reopen_form": form}}.get(action, {})
    if not form.is_valid():
        return _render_review(request, assessment, **kept, status=400)
    try:
        workflow.assessment_transition(
            assessment=assessment,
            user=request.user,
            action=action,
            comment=form.cleaned_data["comment"],
        )
    except workflow.TransitionError as error:
        messages.error(request, " ".join(error.messages))
        return _render_review(request, assessment, **kept, status=409)
    done = {
        "return": _("差し戻しました。"),
        "approve": _("承認しました。"),
        "reopen": _("承認を取り消して差戻しに戻しました。団体が修正して再提出できます。"),
    }[action]
    messages.success(request, done)
    return redirect("review", **assessment.url_kwargs)


@login_required
@require_POST
def review_return(request, body_code: str, fiscal_year: int, guideline_code: str):
    assessment = access.get_reviewable_assessment(
        request.user, body_code, fiscal_year, guideline_code
    )
    return _transition(request, assessment, "return", ReturnForm(request.POST))


@login_required
@require_POST
def review_approve(request, body_code: str, fiscal_year: int, guideline_code: str):
    assessment = access.get_reviewable_assessment(
        request.user, body_code, fiscal_year, guideline_code
    )
    return _transition(request, assessment, "approve", ApproveForm(request.POST))


@login_required
@require_POST
def review_reopen(request, body_code: str, fiscal_year: int, guideline_code: str):
    """Reopen an approved assessment with a reason: back to 差戻し, recorded."""
    assessment = access.get_reopenable_assessment(
        request.user, body_code, fiscal_year, guideline_code
    )
    return _transition(request, assessment, "reopen", ReopenForm(request.POST))
