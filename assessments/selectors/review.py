"""What the review pages show: the reviewer's queue, and every measure of one assessment with
its answer, the level text that answer chose, last year's answer, what changed since the
previous submission, and the reviewer's comments."""

from collections.abc import Sequence
from dataclasses import dataclass, field

from django.db.models import Max, QuerySet

from assessments import access
from assessments.models import (
    Answer,
    AnswerChange,
    Assessment,
    AssessmentTransition,
    Measure,
    MeasureNote,
    ReviewComment,
    User,
)
from assessments.selectors.catalog import catalog_for
from assessments.selectors.filling import comments_by_measure, describe_changes


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
    previous: Answer | None = None  # the same measure's answer in the latest earlier year
    changed: list = field(default_factory=list)  # (label, old, new) since the last submission
    form: object = None  # the comment form, set by the view when the user may comment
    notes: list[MeasureNote] = field(default_factory=list)  # in force on the base date

    @property
    def open_fixes(self) -> list[ReviewComment]:
        return [c for c in self.comments if c.needs_fix and c.resolved_at is None]


def previous_answers(assessment: Assessment) -> dict[int, Answer]:
    """The body's answers of the same guideline in its latest earlier year (one query)."""
    earlier = Assessment.objects.filter(
        body=assessment.body_id,
        guideline=assessment.guideline_id,
        fiscal_year__lt=assessment.fiscal_year,
    )
    year = earlier.values("body").annotate(latest=Max("fiscal_year")).values("latest")
    return {
        a.measure_id: a
        for a in Answer.objects.filter(
            assessment__in=earlier.filter(fiscal_year__in=year)
        ).select_related("assessment")
    }


def changes_since_previous_submission(
    assessment: Assessment, transitions: Sequence[AssessmentTransition]
) -> dict[int, dict]:
    """{measure id: {field: [old, new]}} between the last two submissions (one query, or none
    before a resubmission): the first old value and the last new one of each field."""
    submits = [t.at for t in transitions if t.to_status == Assessment.Status.SUBMITTED]
    if len(submits) < 2:
        return {}
    merged: dict[int, dict] = {}
    for change in (
        AnswerChange.objects.filter(
            answer__assessment=assessment, changed_at__gt=submits[-2], changed_at__lte=submits[-1]
        )
        .select_related("answer")
        .order_by("changed_at", "id")
    ):
        fields = merged.setdefault(change.answer.measure_id, {})
        for name, (old, new) in change.changes.items():
            fields[name] = [fields[name][0] if name in fields else old, new]
    return {
        measure: {k: v for k, v in fields.items() if v[0] != v[1]}
        for measure, fields in merged.items()
    }


def review_rows(
    assessment: Assessment, transitions: Sequence[AssessmentTransition] = ()
) -> list[ReviewRow]:
    """Every scored measure with its answer, last year's, changes, comments and notes in force
    (four queries, whatever the size; three before a resubmission: the measures, their level
    texts and notes are the kept catalog's, selectors/catalog.py)."""
    catalog = catalog_for(assessment)
    measures = catalog.measures
    answers = {a.measure_id: a for a in assessment.answers.all()}
    comments = comments_by_measure(assessment)
    previous = previous_answers(assessment)
    changed = changes_since_previous_submission(assessment, transitions)
    notes = catalog.notes_in_force(assessment)
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
        rows.append(
            ReviewRow(
                measure,
                answer,
                level_text,
                comments.get(measure.pk, []),
                previous.get(measure.pk),
                describe_changes(changed.get(measure.pk, {})),
                notes=notes.get(measure.pk, []),
            )
        )
    return rows
