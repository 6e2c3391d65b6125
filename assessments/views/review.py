"""The review chain's screens: the reviewer's queue and the review page of one assessment.

Reading the review page follows the assessment's read access (another body's is 404); writing
(comment, return, approve) needs access.can_review, else 403.
"""

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db.models import Prefetch
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_POST

from assessments import access, workflow
from assessments.models import Assessment, Body, LevelDescription, Measure, ReviewComment
from assessments.scoring import FORMULA, score_from_sums

QUEUE_PAGE_SIZE = 50


class ReviewCommentForm(forms.Form):
    measure = forms.CharField(widget=forms.HiddenInput)  # the measure's ref, e.g. II.1.(2)②
    body = forms.CharField(
        label=gettext_lazy("コメント"),
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 2}),
        error_messages={"required": gettext_lazy("コメントを入力してください。")},
    )
    needs_fix = forms.BooleanField(label=gettext_lazy("要修正"), required=False)

    def __init__(self, *args, assessment: Assessment, **kwargs):
        super().__init__(*args, **kwargs)
        self.assessment = assessment

    def clean_measure(self) -> Measure:
        try:
            return Measure.objects.get(
                guideline_id=self.assessment.guideline_id,
                ref=self.cleaned_data["measure"],
                is_scored=True,
            )
        except Measure.DoesNotExist:
            raise ValidationError(_("項目が見つかりません。")) from None


class ReturnForm(forms.Form):
    comment = forms.CharField(
        label=gettext_lazy("差戻しの理由"),
        max_length=4000,
        widget=forms.Textarea(attrs={"rows": 3}),
        error_messages={"required": gettext_lazy("差戻しの理由を入力してください。")},
    )


class ApproveForm(forms.Form):
    comment = forms.CharField(
        label=gettext_lazy("承認コメント（任意）"),
        max_length=4000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
    )


def reviewable_submissions(user):
    """Submitted assessments `user` reviews: their prefecture's municipalities, or prefectures."""
    if user.is_national_admin:
        scope = {"body__kind": Body.Kind.PREFECTURE}
    elif user.is_prefecture_reviewer:
        scope = {"body__prefecture_id": user.body_id}
    else:
        raise PermissionDenied
    return (
        Assessment.objects.filter(status=Assessment.Status.SUBMITTED, **scope)
        .select_related("body", "body__prefecture", "guideline")
        .with_scores()
        .order_by("-submitted_at", "body__code")
    )


@login_required
@require_GET
def review_queue(request):
    """Submissions waiting for the user's review, newest first."""
    page = Paginator(reviewable_submissions(request.user), QUEUE_PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    for assessment in page:
        assessment.score = score_from_sums(assessment.score_earned, assessment.score_possible)
    return render(request, "assessments/review_queue.html", {"page": page})


def _render_review(request, assessment, *, comment_form=None, return_form=None, status=200):
    measures = (
        Measure.objects.filter(guideline_id=assessment.guideline_id, is_scored=True)
        .select_related("section")
        .prefetch_related(Prefetch("level_descriptions", queryset=LevelDescription.objects.all()))
        .order_by("order")
    )
    answers = {a.measure_id: a for a in assessment.answers.all()}
    comments: dict[int, list[ReviewComment]] = {}
    for comment in assessment.review_comments.select_related("author"):
        comments.setdefault(comment.measure_id, []).append(comment)
    scored = Assessment.objects.filter(pk=assessment.pk).with_scores().get()
    reviewer = access.can_review(request.user, assessment)
    rows = []
    for measure in measures:
        answer = answers.get(measure.pk)
        level_text = ""
        if answer is not None and answer.level is not None:
            level_text = next(
                (
                    d.description
                    for d in measure.level_descriptions.all()
                    if d.level == answer.level
                ),
                "",
            )
        form = None
        if reviewer and assessment.status == Assessment.Status.SUBMITTED:
            bound = comment_form is not None and comment_form.data.get("measure") == measure.ref
            form = (
                comment_form
                if bound
                else ReviewCommentForm(assessment=assessment, initial={"measure": measure.ref})
            )
        rows.append(
            {
                "measure": measure,
                "answer": answer,
                "level_text": level_text,
                "comments": comments.get(measure.pk, []),
                "form": form,
            }
        )
    actions = {a.name for a in workflow.available_actions(request.user, assessment)}
    context = {
        "assessment": assessment,
        "score": score_from_sums(scored.score_earned, scored.score_possible),
        "scored": scored,
        "rows": rows,
        "transitions": assessment.transitions.select_related("by"),
        "can_review": reviewer,
        "can_return": "return" in actions,
        "can_approve": "approve" in actions,
        "return_form": return_form or ReturnForm(),
        "approve_form": ApproveForm(),
        "formula": FORMULA,
    }
    return render(request, "assessments/review.html", context, status=status)


def _get_reviewable(user, body_code, fiscal_year, guideline_code) -> Assessment:
    """404 unless the user may read the assessment; 403 unless they may review it."""
    assessment = access.get_assessment_for_user(user, body_code, fiscal_year, guideline_code)
    if not access.can_review(user, assessment):
        raise PermissionDenied
    return assessment


@login_required
@require_GET
def review(request, body_code: str, fiscal_year: int, guideline_code: str):
    """Every measure with its answer, the reviewer's comments, the log, approve / return."""
    assessment = access.get_assessment_for_user(
        request.user, body_code, fiscal_year, guideline_code
    )
    return _render_review(request, assessment)


@login_required
@require_POST
def review_comment(request, body_code: str, fiscal_year: int, guideline_code: str):
    assessment = _get_reviewable(request.user, body_code, fiscal_year, guideline_code)
    form = ReviewCommentForm(request.POST, assessment=assessment)
    if form.is_valid():
        try:
            workflow.review_comment_add(
                assessment=assessment,
                user=request.user,
                measure=form.cleaned_data["measure"],
                body=form.cleaned_data["body"],
                needs_fix=form.cleaned_data["needs_fix"],
            )
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
            return redirect("review", **assessment.url_kwargs)
        messages.success(request, _("コメントを追加しました。"))
        return redirect("review", **assessment.url_kwargs)
    return _render_review(request, assessment, comment_form=form, status=400)


def _transition(request, assessment, action: str, form):
    kept = {"return_form": form} if action == "return" else {}
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
    done = {"return": _("差し戻しました。"), "approve": _("承認しました。")}[action]
    messages.success(request, done)
    return redirect("review", **assessment.url_kwargs)


@login_required
@require_POST
def review_return(request, body_code: str, fiscal_year: int, guideline_code: str):
    assessment = _get_reviewable(request.user, body_code, fiscal_year, guideline_code)
    return _transition(request, assessment, "return", ReturnForm(request.POST))


@login_required
@require_POST
def review_approve(request, body_code: str, fiscal_year: int, guideline_code: str):
    assessment = _get_reviewable(request.user, body_code, fiscal_year, guideline_code)
    return _transition(request, assessment, "approve", ApproveForm(request.POST))
