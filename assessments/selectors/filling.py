"""What the filling pages show: an assessment's sections with progress and scores, and one
section's measures with their answers and the reviewer's comments."""

from collections.abc import Iterable
from dataclasses import dataclass
from typing import cast

from django.db.models import Field
from django.utils.translation import gettext as _

from assessments import levels
from assessments.models import Answer, Assessment, Measure, MeasureNote, ReviewComment
from assessments.models.assessments import TRACKED_FIELDS, SectionTotals
from assessments.selectors.catalog import catalog_for


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


def progress(assessment: Assessment) -> tuple[Assessment, list[SectionRow]]:
    """The assessment annotated with its progress and score, and its sections' rows.

    One grouped query (the section totals); the overall figures are their sums, which is what
    AssessmentQuerySet.with_scores() computes over the same answers (scoring.totals), and the
    number to answer is the catalog's (selectors/catalog.py). The annotations are set on
    `assessment` itself, as with_scores() would.
    """
    catalog = catalog_for(assessment)
    totals = Answer.objects.section_totals([assessment.pk])
    rows = [
        SectionRow(s, s.to_answer, totals.get((assessment.pk, s.pk), SectionTotals()))
        for s in catalog.scored_sections
    ]
    # Every total, measures outside any section too.
    assessment.set_totals(totals.values(), catalog.to_answer_count)
    return assessment, rows


def section_rows(assessment: Assessment) -> list[SectionRow]:
    """The guideline's sections that hold scored measures, with progress and score."""
    return progress(assessment)[1]


def scored(assessment: Assessment) -> Assessment:
    """The assessment annotated with its progress and score (see `progress`)."""
    return progress(assessment)[0]


def uncounted_answers(answers: Iterable[Answer], counted: Iterable[Measure]) -> list[Answer]:
    """The given answers to measures outside `counted` (Measure.objects.to_answer): kept from a
    measure that is no longer scored or does not apply to the body. Shown, never scored."""
    ids = {m.pk for m in counted}
    return sorted(
        (a for a in answers if a.measure_id not in ids and a.is_answered),
        key=lambda a: a.measure.order,
    )


def comments_by_measure(assessment: Assessment, **filters) -> dict[int, list[ReviewComment]]:
    """The reviewer's comments on the assessment per measure id (one query)."""
    comments: dict[int, list[ReviewComment]] = {}
    for comment in ReviewComment.objects.filter(assessment=assessment, **filters).select_related(
        "author"
    ):
        comments.setdefault(comment.measure_id, []).append(comment)
    return comments


def notes_by_measure(assessment: Assessment, **filters) -> dict[int, list[MeasureNote]]:
    """The notes in force for the assessment per measure id (one query): those dated on or
    before its base date, April 1 of its fiscal year (MeasureNote.objects.for_assessment)."""
    return MeasureNote.objects.for_assessment(assessment).filter(**filters).by_measure()


def next_section(assessment: Assessment, section: Measure) -> Measure | None:
    return catalog_for(assessment).next_section(section)


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


def describe_changes(changes: dict) -> list[tuple[str, str, str]]:
    """(field label, old, new) for an AnswerChange's JSON, in the order fields are shown."""

    def show(name, value):
        if value in (None, ""):
            return "—"
        if name in ("level", "target_level"):
            return levels.level_label(value)
        if name == "not_applicable":
            return str(levels.NOT_APPLICABLE_LABEL) if value else _("該当なしではない")
        return str(value)

    if "evidence_file" in changes:
        # The storage path is internal (evidence/<code>/<year>/<uuid>.pdf): show the user's name.
        old, new = changes["evidence_file"]
        changes = {k: v for k, v in changes.items() if k != "evidence_file"}
        if "evidence_name" not in changes:
            replaced = _("（同じ名前のファイルに差し替え）") if new else "—"
            changes["evidence_name"] = ["—" if not old else replaced, replaced]
    order = {name: i for i, name in enumerate(TRACKED_FIELDS)}
    return [
        (
            str(cast(Field, Answer._meta.get_field(name)).verbose_name),
            show(name, old),
            show(name, new),
        )
        for name, (old, new) in sorted(changes.items(), key=lambda kv: order.get(kv[0], 99))
        if name in order
    ]
