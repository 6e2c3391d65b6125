"""What a guideline asks of one kind of body, kept in memory between requests.

A section page needs the guideline's sections (with how many measures each asks), the section's
measures and their five level texts: the same for every body of a kind until the catalog changes,
yet five queries a page. `catalog_for(assessment)` returns them from memory, keyed by the
guideline's `revision` (raised by every save of a measure, level text or note, models/catalog.py), so
a changed text shows on the next request of every process: the revision comes with the
assessment (select_related), at no extra query.

The Measure objects are shared between requests and threads: read them, never set attributes.
"""

import threading
from collections import OrderedDict
from dataclasses import dataclass, field

from assessments.applicability import values_for_kind
from assessments.models import Assessment, Measure, MeasureNote

KEEP = 32  # catalogs kept per process (guidelines × 2 kinds of body × revisions in flight)


@dataclass(frozen=True)
class Catalog:
    """One guideline as a body of one kind answers it."""

    sections: tuple[Measure, ...]  # every heading at the section depth, in order
    scored_sections: tuple[Measure, ...]  # those holding measures to answer, with `to_answer`
    measures: tuple[Measure, ...]  # the measures to answer, in order, level texts prefetched
    notes: tuple[MeasureNote, ...] = ()  # every successor note of the guideline, oldest first
    _by_ref: dict[str, Measure] = field(default_factory=dict, repr=False)

    @property
    def to_answer_count(self) -> int:
        return len(self.measures)

    def section(self, ref: str) -> Measure | None:
        return self._by_ref.get(ref)

    def measures_of(self, section: Measure) -> list[Measure]:
        return [m for m in self.measures if m.section_id == section.pk]

    def notes_in_force(self, assessment: Assessment) -> dict[int, list[MeasureNote]]:
        """{measure id: [notes]} in force for `assessment`, as MeasureNote.objects.for_assessment
        selects them (MeasureNote.in_force_on is that rule for one note)."""
        notes: dict[int, list[MeasureNote]] = {}
        for note in self.notes:
            if note.in_force_on(assessment.base_date):
                notes.setdefault(note.measure_id, []).append(note)
        return notes

    def next_section(self, section: Measure) -> Measure | None:
        return next((s for s in self.scored_sections if s.order > section.order), None)


_kept: OrderedDict[tuple, Catalog] = OrderedDict()
_lock = threading.Lock()


def catalog_for(assessment: Assessment) -> Catalog:
    """The catalog as `assessment`'s body answers it (from memory, or five queries)."""
    guideline = assessment.guideline
    kind = assessment.body.kind
    key = (guideline.pk, guideline.revision, values_for_kind(kind))
    with _lock:
        catalog = _kept.get(key)
        if catalog is not None:
            _kept.move_to_end(key)
            return catalog
    catalog = _build(guideline.pk, kind)
    with _lock:
        _kept[key] = catalog
        while len(_kept) > KEEP:
            _kept.popitem(last=False)
    return catalog


def _build(guideline_id: int, kind: str) -> Catalog:
    of_guideline = Measure.objects.filter(guideline=guideline_id)
    sections = tuple(of_guideline.sections())
    counts = {s.pk: s.to_answer for s in of_guideline.scored_sections(kind)}
    scored_sections = []
    for section in sections:
        if section.pk in counts:
            section.to_answer = counts[section.pk]
            scored_sections.append(section)
    measures = tuple(
        of_guideline.scored()
        .for_kind(kind)
        .select_related("section")
        .prefetch_related("level_descriptions")
    )
    notes = tuple(
        MeasureNote.objects.filter(measure__guideline=guideline_id).order_by("effective_from", "pk")
    )
    return Catalog(
        sections=sections,
        scored_sections=tuple(scored_sections),
        measures=measures,
        notes=notes,
        _by_ref={s.ref: s for s in sections},
    )


def forget() -> None:
    """Drop every kept catalog (tests that change the catalog outside the models' save)."""
    with _lock:
        _kept.clear()
