"""What the review pages show: the reviewer's queue, and every measure of one assessment with
its answer, the level text that answer chose, and the reviewer's comments."""

from dataclasses import dataclass, field

from django.db.models import QuerySet

from assessments import access
from assessments.models import Answer, Assessment, Measure, ReviewComment, User
from assessments.selectors.filling import comments_by_measure


def review_queue(user: User) -> QuerySet[Assessment]:
    """Submitted assessments `user` reviews, newest first, with scores (403 for others)."""
    return (
        Assessment.objects.filter(status=Assessment.Status.SUBMITTED, **access.review_scope(user))
        .select_related("body", "body__prefecture", "guideline")
        .with_scores()
        .order_by("-submitted_at", "body__code")
    )


@dataclass
class ReviewRow:
    measure: Measure
    answer: Answer | None
    level_text: str
    comments: list[ReviewComment] = field(default_factory=list)
    form: object = None  # the comment form, set by the view when the user may comment


def review_rows(assessment: Assessment) -> list[ReviewRow]:
    """Every scored measure with its answer and comments (four queries, whatever the size)."""
    measures = (
        Measure.objects.filter(guideline_id=assessment.guideline_id)
        .scored()
        .select_related("section")
        .prefetch_related("level_descriptions")
    )
    answers = {a.measure_id: a for a in assessment.answers.all()}
    comments = comments_by_measure(assessment)
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
        rows.append(ReviewRow(measure, answer, level_text, comments.get(measure.pk, [])))
    return rows
