"""Loading the guideline catalog (fixtures/guidelines/*.json) idempotently.

Measures are matched by (guideline code, ref), so a corrected title or guidance in a fixture
updates the row in place and every answer that points at it stays as it was: a measure that
becomes unscored (or stops applying to a kind of body) keeps its answers, which then count in no
figure. Measures are never deleted. Crosswalk links are the file's: a link no longer in it is
deleted (no answer points at a link).

A measure's dated notes (`"notes"`) are the file's too: matched by (measure, effective_from),
updated in place, and deleted when no longer in the file. A node's `"revisions"` record where
each of our level texts or guidance was reworded and on what source; it is checked here (every
entry names an existing field, a date and a source) and stays in the file
(fixtures/guidelines/README.md).
"""

import json
from collections import Counter
from datetime import date
from pathlib import Path

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction

from assessments.applicability import AppliesTo
from assessments.models import CrosswalkLink, Guideline, LevelDescription, Measure, MeasureNote
from assessments.models.catalog import catalog_changes

CATALOG_DIR = settings.BASE_DIR / "fixtures" / "guidelines"
CROSSWALK_FILE = "crosswalk.json"

GUIDELINE_FIELDS = (
    "title_ja",
    "title_en",
    "issuer_ja",
    "issuer_en",
    "note_ja",
    "note_en",
    "section_depth",
)


NOTE_FIELDS = ("text_ja", "text_en", "source_ja", "source_en")


def _upsert(model, lookup: dict, values: dict, stats: Counter, kind: str):
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


def _load_guideline(data: dict, stats: Counter) -> None:
    values = {name: data.get(name, "") for name in GUIDELINE_FIELDS}
    values["issued_on"] = date.fromisoformat(data["issued_on"])
    guideline = _upsert(Guideline, {"code": data["code"]}, values, stats, "guideline")

    # Orders are rewritten below; move existing ones out of the way of the unique constraint.
    order = 0
    section_depth = guideline.section_depth

    def walk(nodes, parent, section, depth):
        nonlocal order
        for node in nodes:
            order += 1
            values = {
                "label": node["label"],
                "depth": depth,
                "order": order,
                "title_ja": node["title_ja"],
                "title_en": node["title_en"],
                "guidance_ja": node.get("guidance_ja", ""),
                "guidance_en": node.get("guidance_en", ""),
                "is_scored": bool(node.get("scored")),
                "weight": int(node.get("weight", 1)),
                "weight_rationale_ja": node.get("weight_rationale_ja", ""),
                "weight_rationale_en": node.get("weight_rationale_en", ""),
                "applies_to": node.get("applies_to", AppliesTo.ALL),
                "parent": parent,
            }
            measure = _upsert(
                Measure, {"guideline": guideline, "ref": node["ref"]}, values, stats, "measure"
            )
            own_section = measure if depth == section_depth else section
            if measure.section_id != (own_section.pk if own_section else None):
                measure.section = own_section
                measure.save(update_fields=["section"])
            for level, text in (node.get("levels") or {}).items():
                _upsert(
                    LevelDescription,
                    {"measure": measure, "level": int(level)},
                    {"description_ja": text["ja"], "description_en": text["en"]},
                    stats,
                    "level",
                )
            _load_notes(measure, node.get("notes") or [], stats)
            _check_revisions(node)
            walk(node.get("children", []), measure, own_section, depth + 1)

    existing = Measure.objects.filter(guideline=guideline)
    if existing.exists():
        offset = existing.count() + 10_000
        orders = dict(existing.values_list("ref", "order"))
        expected = _expected_orders(data["measures"])
        if orders != {ref: o for ref, o in expected.items() if ref in orders}:
            for measure in existing.order_by("-order"):
                Measure.objects.filter(pk=measure.pk).update(order=measure.order + offset)
    walk(data["measures"], None, None, 1)


def _load_notes(measure: Measure, notes: list[dict], stats: Counter) -> None:
    kept = [
        _upsert(
            MeasureNote,
            {"measure": measure, "effective_from": date.fromisoformat(note["effective_from"])},
            {name: note[name] for name in NOTE_FIELDS},
            stats,
            "note",
        ).pk
        for note in notes
    ]
    deleted, _by_model = MeasureNote.objects.filter(measure=measure).exclude(pk__in=kept).delete()
    if deleted:
        stats["note_deleted"] += deleted


def _check_revisions(node: dict) -> None:
    """Refuse a revision record that names no field of the node, no date or no source."""
    problems = []
    for revision in node.get("revisions") or []:
        where, _dot, level = revision.get("field", "").partition(".")
        if where == "levels":
            exists = level in (node.get("levels") or {})
        else:
            exists = where == "guidance" and not level and bool(node.get("guidance_ja"))
        if not exists:
            problems.append(
                f"{node['ref']}: revision of an unknown field {revision.get('field')!r}"
            )
        if not (revision.get("source_ja", "").strip() and revision.get("source_en", "").strip()):
            problems.append(f"{node['ref']}: revision of {revision.get('field')!r} names no source")
        try:
            date.fromisoformat(revision.get("date", ""))
        except ValueError:
            problems.append(f"{node['ref']}: revision of {revision.get('field')!r} has no date")
    if problems:
        raise ValidationError(problems)


def _expected_orders(nodes) -> dict[str, int]:
    result, counter = {}, 0

    def walk(items):
        nonlocal counter
        for node in items:
            counter += 1
            result[node["ref"]] = counter
            walk(node.get("children", []))

    walk(nodes)
    return result


def _load_crosswalk(links: list[dict], stats: Counter) -> None:
    kept = []
    # Non-primary links first, so a primary that moves to another source never holds two at once.
    for link in sorted(links, key=lambda link: bool(link.get("primary"))):
        source = Measure.objects.get(
            guideline__code=link["from"]["guideline"], ref=link["from"]["ref"]
        )
        target = Measure.objects.get(guideline__code=link["to"]["guideline"], ref=link["to"]["ref"])
        kept.append(
            _upsert(
                CrosswalkLink,
                {"source": source, "target": target},
                {
                    "note_ja": link.get("note_ja", ""),
                    "note_en": link.get("note_en", ""),
                    "primary": bool(link.get("primary")),
                },
                stats,
                "crosswalk",
            ).pk
        )
    deleted, _by_model = CrosswalkLink.objects.exclude(pk__in=kept).delete()
    if deleted:
        stats["crosswalk_deleted"] += deleted
    _check_crosswalk()


def _check_crosswalk() -> None:
    """Refuse a crosswalk whose carry-over would be ambiguous or would carry from nothing.

    A target that several measures map onto needs exactly one primary link, which decides
    carry-over; a primary link needs a scored source (an unscored one has no level to carry).
    The database allows at most one primary link per target (crosswalk_one_primary).
    """
    problems = []
    by_target: dict[int, list[CrosswalkLink]] = {}
    for link in CrosswalkLink.objects.select_related("source", "target").order_by("pk"):
        by_target.setdefault(link.target_id, []).append(link)
        if link.primary and not link.source.is_scored:
            problems.append(f"{link}: a primary link needs a scored source")
    for group in by_target.values():
        if len(group) > 1 and sum(link.primary for link in group) != 1:
            problems.append(f"{group[0].target}: {len(group)} sources need one primary link")
    if problems:
        raise ValidationError(problems)


@transaction.atomic
@catalog_changes()
def load_catalog(directory: Path = CATALOG_DIR) -> Counter:
    """Load every guideline file of `directory`, then the crosswalk. Returns what changed."""
    stats: Counter = Counter()
    for path in sorted(directory.glob("*.json")):
        if path.name == CROSSWALK_FILE:
            continue
        _load_guideline(json.loads(path.read_text(encoding="utf-8")), stats)
    crosswalk = directory / CROSSWALK_FILE
    if crosswalk.exists():
        _load_crosswalk(json.loads(crosswalk.read_text(encoding="utf-8")), stats)
    return stats
