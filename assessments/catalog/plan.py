"""What loading a guideline file would do: the differences with the series' latest edition, and
whether they are loaded into it (a text correction, or nothing uses it yet) or as a new edition
(a change of what is scored, once an assessment or survey round uses the latest edition)."""

from dataclasses import dataclass, field
from typing import Any

from django.utils.translation import gettext_lazy as _

from assessments.catalog.source import GUIDELINE_TEXT_FIELDS
from assessments.models import Assessment, CrosswalkLink, Guideline, Measure, SurveyRound

TEXT_FIELDS = (
    "label",
    "title_ja",
    "title_en",
    "guidance_ja",
    "guidance_en",
    "weight_rationale_ja",
    "weight_rationale_en",
)
SCORING_FIELDS = ("is_scored", "weight", "applies_to", "parent_ref")

TEXT, SCORING = "text", "scoring"


class Decision:
    CREATE = "create"  # a new series: its first edition
    UNCHANGED = "unchanged"
    IN_PLACE = "in_place"  # the latest edition is updated; every answer is kept
    NEW_EDITION = "new_edition"

    LABELS = {
        CREATE: _("新しい指針として第1版を作成します。"),
        UNCHANGED: _("変更はありません。何も書き込みません。"),
        IN_PLACE: _("最新の版をそのまま更新します（回答はすべてそのまま残ります）。"),
        NEW_EDITION: _(
            "採点にかかわる変更があり、最新の版を使う自己評価があるため、新しい版を作成します。"
            "既存の自己評価は元の版のまま変わりません。"
        ),
    }


@dataclass(frozen=True)
class Change:
    what: str  # "guideline", "measure", "levels", "note", "crosswalk"
    ref: str
    field: str
    before: Any
    after: Any
    kind: str  # TEXT or SCORING

    @property
    def action(self) -> str:
        if self.before is None:
            return "added"
        if self.after is None:
            return "removed"
        return "changed"


@dataclass
class Plan:
    series: str
    data: dict  # the file, normalized (catalog.validation)
    current: Guideline | None
    changes: list[Change] = field(default_factory=list)
    decision: str = Decision.UNCHANGED
    in_use: int = 0  # assessments and survey rounds on the latest edition

    @property
    def scoring_changes(self) -> list[Change]:
        return [c for c in self.changes if c.kind == SCORING]

    @property
    def edition(self) -> int:
        """The edition the file is loaded into."""
        if self.current is None:
            return 1
        return self.current.edition + (self.decision == Decision.NEW_EDITION)

    @property
    def decision_label(self) -> str:
        return str(Decision.LABELS[self.decision])

    def counts(self) -> dict[str, int]:
        result: dict[str, int] = {"added": 0, "changed": 0, "removed": 0}
        for change in self.changes:
            result[change.action] += 1
        return result

    def summary(self) -> dict:
        """What the import record keeps (JSON)."""
        return {
            "series": self.series,
            "decision": self.decision,
            "edition": self.edition,
            "in_use": self.in_use,
            "counts": self.counts(),
            "changes": [
                {
                    "what": c.what,
                    "ref": c.ref,
                    "field": c.field,
                    "action": c.action,
                    "kind": c.kind,
                }
                for c in self.changes[:500]
            ],
        }


def guideline_data(guideline: Guideline) -> dict:
    """The normalized form (catalog.validation) of a guideline edition as stored."""
    measures = (
        Measure.objects.filter(guideline=guideline)
        .select_related("parent")
        .prefetch_related("level_descriptions", "notes")
        .order_by("order")
    )
    result: dict[str, Any] = {
        "code": guideline.series,
        "section_depth": guideline.section_depth,
        **{name: getattr(guideline, name) for name in GUIDELINE_TEXT_FIELDS},
    }
    result["measures"] = [
        {
            "ref": m.ref,
            "parent_ref": m.parent.ref if m.parent else "",
            "depth": m.depth,
            **{name: getattr(m, name) for name in TEXT_FIELDS},
            "is_scored": m.is_scored,
            "weight": m.weight,
            "applies_to": m.applies_to,
            # An unscored measure's old level texts stay (for its kept answers) but are not its.
            "levels": {
                d.level: (d.description_ja, d.description_en) for d in m.level_descriptions.all()
            },
            "notes": {
                n.effective_from: (n.text_ja, n.text_en, n.source_ja, n.source_en)
                for n in m.notes.all()
            },
        }
        for m in measures
    ]
    links = CrosswalkLink.objects.filter(target__guideline=guideline).select_related(
        "source__guideline", "target"
    )
    result["crosswalk"] = {
        (link.source.guideline.series, link.source.ref, link.target.ref): (
            link.note_ja,
            link.note_en,
            link.primary,
        )
        for link in links
    }
    return result


def latest_edition(series: str) -> Guideline | None:
    return Guideline.objects.filter(series=series).order_by("-edition").first()


def plan_import(data: dict, *, editions: bool = True) -> Plan:
    """Compare a normalized file with its series' latest edition and decide how to load it.

    `editions=False` always loads into the first edition (code = series), whatever changes:
    the shipped files are our own transcription of it, corrected in place (issue 13 item 2).
    """
    series = data["code"]
    if editions:
        current = latest_edition(series)
    else:  # the shipped file is the first edition's; later ones were imported apart
        current = Guideline.objects.filter(code=series).first()
    plan = Plan(series=series, data=data, current=current)
    if current is None:
        plan.decision = Decision.CREATE
        plan.changes = [
            Change("measure", m["ref"], "", None, m["title_ja"], SCORING) for m in data["measures"]
        ]
        return plan
    plan.changes = diff(guideline_data(current), data)
    if not plan.changes:
        plan.decision = Decision.UNCHANGED
        return plan
    plan.in_use = (
        Assessment.objects.filter(guideline=current).count()
        + SurveyRound.objects.filter(guideline=current).count()
    )
    if editions and plan.in_use and plan.scoring_changes:
        plan.decision = Decision.NEW_EDITION
    else:
        plan.decision = Decision.IN_PLACE
    return plan


def diff(old: dict, new: dict) -> list[Change]:
    changes = []
    for name in GUIDELINE_TEXT_FIELDS:
        if old[name] != new[name]:
            changes.append(Change("guideline", "", name, old[name], new[name], TEXT))
    if old["section_depth"] != new["section_depth"]:
        changes.append(
            Change(
                "guideline",
                "",
                "section_depth",
                old["section_depth"],
                new["section_depth"],
                SCORING,
            )
        )
    before = {m["ref"]: (i, m) for i, m in enumerate(old["measures"])}
    after = {m["ref"]: (i, m) for i, m in enumerate(new["measures"])}
    common_old = [ref for ref in before if ref in after]
    common_new = [ref for ref in after if ref in before]
    old_rank = {ref: i for i, ref in enumerate(common_old)}
    new_rank = {ref: i for i, ref in enumerate(common_new)}
    for ref, (_i, m) in before.items():
        if ref not in after:
            changes.append(Change("measure", ref, "", m["title_ja"], None, SCORING))
    for ref, (_index, m) in after.items():
        if ref not in before:
            changes.append(Change("measure", ref, "", None, m["title_ja"], SCORING))
            continue
        o = before[ref][1]
        for name in TEXT_FIELDS:
            if o[name] != m[name]:
                changes.append(Change("measure", ref, name, o[name], m[name], TEXT))
        for name in SCORING_FIELDS:
            if o[name] != m[name]:
                changes.append(Change("measure", ref, name, o[name], m[name], SCORING))
        if old_rank[ref] != new_rank[ref] and o["parent_ref"] == m["parent_ref"]:
            changes.append(
                Change("measure", ref, "order", old_rank[ref] + 1, new_rank[ref] + 1, TEXT)
            )
        for level in sorted(set(o["levels"]) | set(m["levels"])):
            was, now = o["levels"].get(level), m["levels"].get(level)
            if was != now:
                # A level text added or removed changes what is scored; a reworded one does not.
                kind = SCORING if m["is_scored"] and not (was and now) else TEXT
                changes.append(Change("levels", ref, f"levels.{level}", was, now, kind))
        for day in sorted(set(o["notes"]) | set(m["notes"])):
            was, now = o["notes"].get(day), m["notes"].get(day)
            if was != now:
                changes.append(Change("note", ref, f"notes.{day.isoformat()}", was, now, TEXT))
    if new["crosswalk"] is not None:
        for key in sorted(set(old["crosswalk"]) | set(new["crosswalk"])):
            was, now = old["crosswalk"].get(key), new["crosswalk"].get(key)
            if was != now:
                source = f"{key[0]} {key[1]} → {key[2]}"
                changes.append(Change("crosswalk", key[2], source, was, now, TEXT))
    return changes
