"""What the filling pages show: an assessment's sections with progress and scores, and one
section's measures with their answers and the reviewer's comments."""

from dataclasses import dataclass

from assessments.models import Answer, Assessment, Measure, ReviewComment
from assessments.models.assessments import SectionTotals


@dataclass
class SectionRow:
    section: Measure
    to_answer: int
    totals: SectionTotals

    @property
    def answered(self) -> int:
        return self.totals.answered

    @property
    def earned(self) -> int:
        return self.totals.earned

    @property
    def possible(self) -> int:
        return self.totals.possible

    @property
    def score(self):
        return self.totals.score


def section_rows(assessment: Assessment) -> list[SectionRow]:
    """The guideline's sections that hold scored measures, with progress and score.

    Two queries: the sections with their number of scored measures, and the section totals.
    """
    sections = Measure.objects.filter(guideline=assessment.guideline_id).scored_sections()
    totals = Answer.objects.section_totals([assessment.pk])
    return [
        SectionRow(s, s.to_answer, totals.get((assessment.pk, s.pk), SectionTotals()))
        for s in sections
    ]


def scored(assessment: Assessment) -> Assessment:
    """The assessment again, annotated with its progress and score (one query)."""
    return Assessment.objects.with_scores().get(pk=assessment.pk)


def comments_by_measure(assessment: Assessment, **filters) -> dict[int, list[ReviewComment]]:
    """The reviewer's comments on the assessment per measure id (one query)."""
    comments: dict[int, list[ReviewComment]] = {}
    for comment in ReviewComment.objects.filter(assessment=assessment, **filters).select_related(
        "author"
    ):
        comments.setdefault(comment.measure_id, []).append(comment)
    return comments


def next_section(assessment: Assessment, section: Measure) -> Measure | None:
    return (
        Measure.objects.filter(guideline=assessment.guideline_id)
        .scored_sections()
        .filter(order__gt=section.order)
        .first()
    )


def open_fixes(assessment: Assessment) -> list[ReviewComment]:
    """A returned assessment's unresolved 要修正 comments with their measures (one query; none
    unless the assessment is returned)."""
    if assessment.status != Assessment.Status.RETURNED:
        return []
    return list(
        ReviewComment.objects.filter(
            assessment=assessment, needs_fix=True, resolved_at__isnull=True
        ).select_related("measure", "author")
    )
