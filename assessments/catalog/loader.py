"""Writing a planned guideline into the database (catalog.plan decides where).

Measures are matched by (guideline, ref), so a corrected title or guidance updates the row in
place and every answer that points at it stays as it was: a measure that becomes unscored (or
stops applying to a kind of body) keeps its answers, which then count in no figure. A measure
no longer in the file is deleted only while nothing uses the edition (no assessment: no answer
points at it); otherwise it stays. A measure's dated notes are the file's: matched by (measure,
effective_from), updated in place, deleted when no longer in the file.

A new edition is a new Guideline row with its own copy of everything; the crosswalk links into
the previous edition are copied onto it (unless the file lists its own), and links out of it are
copied from the new edition, which takes over their primary flag (carry-over from an answer on
the old edition still finds its link).
"""

from collections import Counter

from django.db.models import Q

from assessments.catalog.plan import Decision, Plan
from assessments.catalog.source import GUIDELINE_FIELDS
from assessments.models import (
    Assessment,
    CrosswalkLink,
    Guideline,
    LevelDescription,
    Measure,
    MeasureNote,
)

MEASURE_FIELDS = (
    "label",
    "title_ja",
    "title_en",
    "guidance_ja",
    "guidance_en",
    "is_scored",
    "weight",
    "weight_rationale_ja",
    "weight_rationale_en",
    "applies_to",
)


def upsert(model, lookup: dict, values: dict, stats: Counter, kind: str):
    """Create or update one row, writing only when a value differs; count what happened."""
    obj = model.objects.filter(**lookup).first()
    if obj is None:
        obj = model(**lookup, **values)
        obj.full_clean()  # as for an update: a text too long is named here, on every database
        obj.save(force_insert=True)
        stats[f"{kind}_created"] += 1
        return obj
    changed = [name for name, value in values.items() if getattr(obj, name) != value]
    if changed:
        for name in changed:
            setattr(obj, name, values[name])
        obj.full_clean()
        obj.save(update_fields=changed)
        stats[f"{kind}_updated"] += 1
    return obj


def apply_plan(plan: Plan, stats: Counter) -> Guideline:
    """Write `plan` (inside the caller's transaction and catalog_changes()); return the edition."""
    data = plan.data
    values = {name: data[name] for name in GUIDELINE_FIELDS}
    previous = plan.current
    if plan.decision == Decision.UNCHANGED:
        assert previous is not None
        return previous
    if plan.decision in (Decision.CREATE, Decision.NEW_EDITION):
        edition = plan.edition
        code = plan.series if edition == 1 else f"{plan.series}-e{edition}"
        guideline = upsert(
            Guideline,
            {"code": code},
            {**values, "series": plan.series, "edition": edition},
            stats,
            "guideline",
        )
    else:
        assert previous is not None
        guideline = upsert(Guideline, {"pk": previous.pk}, values, stats, "guideline")
    by_ref = _load_measures(guideline, data["measures"], stats)
    if plan.decision == Decision.NEW_EDITION:
        assert previous is not None
        _copy_links(previous, guideline, by_ref, copy_incoming=data["crosswalk"] is None)
    if data["crosswalk"] is not None:
        links = {
            (by_ref[from_ref] if from_series == plan.series else (from_series, from_ref), to_ref): v
            for (from_series, from_ref, to_ref), v in data["crosswalk"].items()
        }
        load_links(links, stats, into=guideline, by_ref=by_ref)
    return guideline


def _load_measures(guideline: Guideline, measures: list[dict], stats: Counter) -> dict:
    existing = Measure.objects.filter(guideline=guideline)
    expected = {m["ref"]: order for order, m in enumerate(measures, start=1)}
    if existing.exists():
        # Orders are rewritten below; move existing ones out of the way of the unique constraint.
        orders = dict(existing.values_list("ref", "order"))
        if orders != {ref: o for ref, o in expected.items() if ref in orders}:
            offset = existing.count() + 10_000
            for measure in existing.order_by("-order"):
                Measure.objects.filter(pk=measure.pk).update(order=measure.order + offset)
    by_ref: dict[str, Measure] = {}
    depth_of: dict[str, int] = {}
    for m in measures:
        parent = by_ref.get(m["parent_ref"]) if m["parent_ref"] else None
        depth = depth_of[m["parent_ref"]] + 1 if parent else 1
        depth_of[m["ref"]] = depth
        values = {name: m[name] for name in MEASURE_FIELDS}
        values |= {"depth": depth, "order": expected[m["ref"]], "parent": parent}
        measure = upsert(
            Measure, {"guideline": guideline, "ref": m["ref"]}, values, stats, "measure"
        )
        section = measure if depth == guideline.section_depth else None
        if section is None and parent is not None:
            section = parent.section
        if measure.section_id != (section.pk if section else None):
            measure.section = section
            measure.save(update_fields=["section"])
        for level, (ja, en) in m["levels"].items():
            upsert(
                LevelDescription,
                {"measure": measure, "level": level},
                {"description_ja": ja, "description_en": en},
                stats,
                "level",
            )
        _load_notes(measure, m["notes"], stats)
        by_ref[m["ref"]] = measure
    removed = existing.exclude(ref__in=list(expected))
    if removed.exists() and not Assessment.objects.filter(guideline=guideline).exists():
        removed.update(section=None)
        for measure in removed.order_by("-depth"):
            measure.delete()
            stats["measure_deleted"] += 1
    return by_ref


def _load_notes(measure: Measure, notes: dict, stats: Counter) -> None:
    kept = [
        upsert(
            MeasureNote,
            {"measure": measure, "effective_from": day},
            dict(zip(("text_ja", "text_en", "source_ja", "source_en"), texts, strict=True)),
            stats,
            "note",
        ).pk
        for day, texts in notes.items()
    ]
    deleted, _by_model = MeasureNote.objects.filter(measure=measure).exclude(pk__in=kept).delete()
    if deleted:
        stats["note_deleted"] += deleted


def _measure(end, by_ref: dict | None) -> Measure:
    if isinstance(end, Measure):
        return end
    series, ref = end
    return Measure.objects.get(
        guideline=Guideline.objects.filter(series=series).order_by("-edition").first(), ref=ref
    )


def load_links(
    links: dict, stats: Counter, *, into: Guideline | None = None, by_ref: dict | None = None
) -> None:
    """Make the crosswalk links into `into` (a guideline file's) or into the guidelines the
    links name (crosswalk.json's) exactly `links`: {(source, target): (note_ja, note_en,
    primary)}, each end a Measure or (series, ref) of the series' latest edition, a target of a
    guideline file its ref."""
    kept = []
    targets = set()
    # Non-primary links first, so a primary that moves to another source never holds two at once.
    for (source_end, target_end), (note_ja, note_en, primary) in sorted(
        links.items(), key=lambda item: item[1][2]
    ):
        source = _measure(source_end, by_ref)
        if into is not None:
            assert by_ref is not None
            target = by_ref[target_end]
        else:
            target = _measure(target_end, by_ref)
        targets.add(target.guideline_id)
        kept.append(
            upsert(
                CrosswalkLink,
                {"source": source, "target": target},
                {"note_ja": note_ja, "note_en": note_en, "primary": primary},
                stats,
                "crosswalk",
            ).pk
        )
    scope = Q(target__guideline=into) if into is not None else Q(target__guideline__in=targets)
    deleted, _by_model = CrosswalkLink.objects.filter(scope).exclude(pk__in=kept).delete()
    if deleted:
        stats["crosswalk_deleted"] += deleted


def _copy_links(previous: Guideline, guideline: Guideline, by_ref: dict, *, copy_incoming: bool):
    links = CrosswalkLink.objects.filter(
        Q(target__guideline=previous) | Q(source__guideline=previous)
    ).select_related("source", "target")
    for link in links:
        source, target = link.source, link.target
        if target.guideline_id == previous.pk:
            if not copy_incoming or target.ref not in by_ref:
                continue
            target = by_ref[target.ref]
            primary = link.primary
            if source.guideline_id == previous.pk:
                if source.ref not in by_ref:
                    continue
                source = by_ref[source.ref]
        else:
            if source.ref not in by_ref:
                continue
            source = by_ref[source.ref]
            # The new edition's measure takes over the primary link (or becomes the primary one
            # of a target that had this link only), so a target keeps exactly one primary.
            primary = (
                link.primary
                or not CrosswalkLink.objects.filter(target=target).exclude(pk=link.pk).exists()
            )
            if link.primary:
                CrosswalkLink.objects.filter(pk=link.pk).update(primary=False)
        CrosswalkLink.objects.get_or_create(
            source=source,
            target=target,
            defaults={"note_ja": link.note_ja, "note_en": link.note_en, "primary": primary},
        )
