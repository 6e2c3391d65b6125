"""Checking a guideline file completely, and turning it into the normalized form the plan and
the loader use. Every problem is collected, each as `file:place: ref field: message`; the caller
writes nothing when there is one (fixtures/guidelines/README.md lists the rules).

The normalized form (also built from the database by catalog.plan.guideline_data):
    {"code", "title_ja", …, "issued_on": date, "section_depth": int,
     "measures": [{"ref", "parent_ref", "label", …, "is_scored", "weight", "applies_to",
                   "levels": {0: (ja, en), …}, "notes": {date: (text_ja, text_en, source_ja,
                   source_en)}}, …] in guideline order,
     "crosswalk": None (the file says nothing of links) or
                  {(from series, from ref, to ref): (note_ja, note_en, primary)}}
"""

import re
from collections import Counter
from datetime import date
from typing import Any

from django.utils.translation import gettext as _

from assessments.applicability import AppliesTo
from assessments.catalog.source import GUIDELINE_KEYS as FILE_GUIDELINE_KEYS
from assessments.catalog.source import Path, Source
from assessments.models import CrosswalkLink, Guideline, LevelDescription, Measure, MeasureNote

MAX_MEASURES = 2_000
MAX_WEIGHT = 3
MAX_DEPTH = 8
EDITION_CODE = re.compile(r"-e[0-9]+$")  # reserved for later editions (`<series>-e2`)

GUIDELINE_TEXT = {
    "title_ja": (True, Guideline._meta.get_field("title_ja").max_length),
    "title_en": (True, Guideline._meta.get_field("title_en").max_length),
    "issuer_ja": (True, Guideline._meta.get_field("issuer_ja").max_length),
    "issuer_en": (True, Guideline._meta.get_field("issuer_en").max_length),
    "note_ja": (False, Guideline._meta.get_field("note_ja").max_length),
    "note_en": (False, Guideline._meta.get_field("note_en").max_length),
}
GUIDELINE_KEYS = {*FILE_GUIDELINE_KEYS, "measures", "crosswalk"}


def _max(model, name: str) -> int | None:
    return model._meta.get_field(name).max_length


MEASURE_TEXT = {  # name: (required, max length or None)
    "label": (True, _max(Measure, "label")),
    "ref": (True, _max(Measure, "ref")),
    "title_ja": (True, _max(Measure, "title_ja")),
    "title_en": (True, _max(Measure, "title_en")),
    "guidance_ja": (False, None),
    "guidance_en": (False, None),
    "weight_rationale_ja": (False, _max(Measure, "weight_rationale_ja")),
    "weight_rationale_en": (False, _max(Measure, "weight_rationale_en")),
}
MEASURE_KEYS = {
    *MEASURE_TEXT,
    "scored",
    "weight",
    "applies_to",
    "levels",
    "children",
    "notes",
    "revisions",
}
NOTE_TEXT = {
    "text_ja": (True, None),
    "text_en": (True, None),
    "source_ja": (True, _max(MeasureNote, "source_ja")),
    "source_en": (True, _max(MeasureNote, "source_en")),
}
LINK_NOTE_MAX = _max(CrosswalkLink, "note_ja")
LEVELS = tuple(str(n) for n in range(5))
del LevelDescription  # the level texts are TextFields: no length to check


class Checker:
    def __init__(self, source: Source):
        self.source = source
        self.problems: list[str] = list(source.problems)

    def add(self, path: Path, ref: str, name: str, message: str) -> None:
        subject = " ".join(part for part in (ref, name) if part)
        self.problems.append(f"{self.source.where(path)}: {subject}: {message}")

    def text(self, obj: dict, path: Path, ref: str, name: str, rule: tuple) -> str:
        required, limit = rule
        value = obj.get(name, "")
        if value is None:
            value = ""
        if not isinstance(value, str):
            self.add((*path, name), ref, name, _("文字列で書いてください。"))
            return ""
        if required and not value.strip():
            self.add((*path, name), ref, name, _("必須です。"))
        if limit and len(value) > limit:
            self.add(
                (*path, name),
                ref,
                name,
                _("%(limit)s文字以内にしてください（現在 %(n)s文字）。")
                % {"limit": limit, "n": len(value)},
            )
        return value

    def day(self, obj: dict, path: Path, ref: str, name: str) -> date | None:
        value = obj.get(name)
        if isinstance(value, date):
            return value
        try:
            return date.fromisoformat(value) if isinstance(value, str) else None
        except ValueError:
            pass
        self.add((*path, name), ref, name, _("日付を YYYY-MM-DD で書いてください。"))
        return None

    def unknown(self, obj: dict, path: Path, ref: str, allowed: set[str]) -> None:
        for key in obj:
            if key not in allowed:
                self.add((*path, key), ref, key, _("このキーは使えません。"))


def check_guideline(source: Source) -> tuple[dict | None, list[str]]:
    """The normalized guideline, or None and every problem of the file."""
    check = Checker(source)
    data = source.data
    if not isinstance(data, dict):
        check.add((), "", "", _("指針のファイルはオブジェクト（{…}）で始めてください。"))
        return None, check.problems
    check.unknown(data, (), "", GUIDELINE_KEYS)
    code = data.get("code")
    if not isinstance(code, str) or not re.fullmatch(r"[a-z0-9][a-z0-9-]{0,35}", code):
        check.add(("code",), "", "code", _("半角英小文字・数字・ハイフンの36文字以内です。"))
        code = ""
    elif EDITION_CODE.search(code):
        check.add(
            ("code",), "", "code", _("「-e数字」で終わるコードは版のために予約されています。")
        )
    result: dict[str, Any] = {"code": code}
    for name, rule in GUIDELINE_TEXT.items():
        result[name] = check.text(data, (), "", name, rule)
    result["issued_on"] = check.day(data, (), "", "issued_on")
    depth = data.get("section_depth", 1)
    if not isinstance(depth, int) or isinstance(depth, bool) or not 1 <= depth <= 4:
        check.add(("section_depth",), "", "section_depth", _("1から4の整数です。"))
        depth = 1
    result["section_depth"] = depth
    measures: list[dict] = []
    nodes = data.get("measures")
    if not isinstance(nodes, list) or not nodes:
        check.add(("measures",), "", "measures", _("項目の一覧（[…]）が必要です。"))
    else:
        _walk(check, nodes, ("measures",), None, 1, measures)
    if len(measures) > MAX_MEASURES:
        check.add(
            ("measures",),
            "",
            "measures",
            _("項目は%(max)s個までです。") % {"max": MAX_MEASURES},
        )
    refs = Counter(m["ref"] for m in measures)
    for m in measures:
        if refs[m["ref"]] > 1 and m["ref"]:
            check.add(m["_path"], m["ref"], "ref", _("参照番号が重複しています。"))
            refs[m["ref"]] = 0  # once
    if depth > max((m["depth"] for m in measures), default=depth):
        check.add(("section_depth",), "", "section_depth", _("この階層の項目がありません。"))
    result["measures"] = measures
    result["crosswalk"] = None
    if "crosswalk" in data:
        result["crosswalk"] = check_links(
            check, data["crosswalk"], ("crosswalk",), own=(code, measures)
        )
    for m in measures:
        m.pop("_path")
    return (None if check.problems else result), check.problems


def _walk(check: Checker, nodes, path: Path, parent: dict | None, depth: int, out: list) -> None:
    if not isinstance(nodes, list):
        check.add(path, parent["ref"] if parent else "", "children", _("一覧（[…]）です。"))
        return
    if depth > MAX_DEPTH:
        check.add(path, parent["ref"] if parent else "", "children", _("階層が深すぎます。"))
        return
    for index, node in enumerate(nodes):
        here: Path = (*path, index)
        if len(out) > MAX_MEASURES:
            return
        if not isinstance(node, dict):
            check.add(here, "", "", _("項目はオブジェクト（{…}）です。"))
            continue
        ref: str = node["ref"] if isinstance(node.get("ref"), str) else ""
        check.unknown(node, here, ref, MEASURE_KEYS)
        m: dict[str, Any] = {"_path": here, "depth": depth}
        for name, rule in MEASURE_TEXT.items():
            m[name] = check.text(node, here, ref, name, rule)
        m["parent_ref"] = parent["ref"] if parent else ""
        if m["label"] and ref and not ref.endswith(m["label"]):
            check.add((*here, "label"), ref, "label", _("参照番号の末尾が番号と一致しません。"))
        if parent and ref and parent["ref"] and not ref.startswith(parent["ref"]):
            check.add(
                (*here, "ref"),
                ref,
                "ref",
                _("上位項目 %(parent)s の参照番号で始まりません。") % {"parent": parent["ref"]},
            )
        scored = node.get("scored", False)
        if not isinstance(scored, bool):
            check.add((*here, "scored"), ref, "scored", _("true か false です。"))
            scored = False
        m["is_scored"] = scored
        weight = node.get("weight", 1)
        if not isinstance(weight, int) or isinstance(weight, bool) or not 1 <= weight <= MAX_WEIGHT:
            check.add(
                (*here, "weight"),
                ref,
                "weight",
                _("1から%(max)sの整数です。") % {"max": MAX_WEIGHT},
            )
            weight = 1
        m["weight"] = weight
        if weight > 1 and not (m["weight_rationale_ja"].strip() and m["weight_rationale_en"]):
            check.add(
                (*here, "weight_rationale_ja"),
                ref,
                "weight_rationale_ja",
                _("重みが1より大きい項目には理由（日本語・英語）が必要です。"),
            )
        applies_to = node.get("applies_to", AppliesTo.ALL)
        if applies_to not in AppliesTo.values:
            check.add(
                (*here, "applies_to"),
                ref,
                "applies_to",
                _("%(values)s のいずれかです。") % {"values": ", ".join(AppliesTo.values)},
            )
            applies_to = AppliesTo.ALL
        m["applies_to"] = str(applies_to)
        m["levels"] = _levels(check, node.get("levels"), here, ref, scored)
        m["notes"] = _notes(check, node.get("notes"), here, ref)
        _revisions(check, node, here, ref)
        out.append(m)
        children = node.get("children", [])
        if scored and children:
            check.add((*here, "scored"), ref, "scored", _("下位項目のある見出しは採点しません。"))
        _walk(check, children, (*here, "children"), m, depth + 1, out)


def _levels(check: Checker, levels, path: Path, ref: str, scored: bool) -> dict:
    here: Path = (*path, "levels")
    if not scored and not levels:
        return {}
    # An unscored measure may keep the five texts of answers given while it was scored.
    if not isinstance(levels, dict):
        check.add(here, ref, "levels", _("採点する項目には 0〜4 の5つのレベルの説明が必要です。"))
        return {}
    result = {}
    for key in levels:
        if key not in LEVELS:
            check.add((*here, key), ref, f"levels.{key}", _("レベルは 0〜4 です。"))
    for key in LEVELS:
        text = levels.get(key)
        if not isinstance(text, dict):
            check.add(
                (*here, key), ref, f"levels.{key}", _("このレベルの説明（ja, en）がありません。")
            )
            continue
        pair = []
        for lang in ("ja", "en"):
            value = text.get(lang)
            if not isinstance(value, str) or not value.strip():
                check.add((*here, key, lang), ref, f"levels.{key}.{lang}", _("必須です。"))
                value = ""
            pair.append(value)
        result[int(key)] = (pair[0], pair[1])
    return result


def _notes(check: Checker, notes, path: Path, ref: str) -> dict:
    if not notes:
        return {}
    if not isinstance(notes, list):
        check.add((*path, "notes"), ref, "notes", _("一覧（[…]）です。"))
        return {}
    result: dict = {}
    for index, note in enumerate(notes):
        here: Path = (*path, "notes", index)
        if not isinstance(note, dict):
            check.add(here, ref, "notes", _("注記はオブジェクト（{…}）です。"))
            continue
        check.unknown(note, here, ref, {"effective_from", *NOTE_TEXT})
        day = check.day(note, here, ref, "effective_from")
        texts = tuple(check.text(note, here, ref, name, rule) for name, rule in NOTE_TEXT.items())
        if day in result:
            check.add((*here, "effective_from"), ref, "effective_from", _("日付が重複しています。"))
        if day:
            result[day] = texts
    return result


def _revisions(check: Checker, node: dict, path: Path, ref: str) -> None:
    """A revision record names an existing field of the node, a date and a source."""
    revisions = node.get("revisions") or []
    if not isinstance(revisions, list):
        check.add((*path, "revisions"), ref, "revisions", _("一覧（[…]）です。"))
        return
    for index, revision in enumerate(revisions):
        here: Path = (*path, "revisions", index)
        if not isinstance(revision, dict):
            check.add(here, ref, "revisions", _("オブジェクト（{…}）です。"))
            continue
        field = revision.get("field", "")
        where, _dot, level = str(field).partition(".")
        if where == "levels":
            exists = level in (node.get("levels") or {})
        else:
            exists = where == "guidance" and not level and bool(node.get("guidance_ja"))
        if not exists:
            check.add(
                (*here, "field"),
                ref,
                "revisions",
                _("存在しない欄 %(f)r の改訂です。") % {"f": field},
            )
        if not (str(revision.get("source_ja", "")).strip() and revision.get("source_en", "")):
            check.add((*here, "source_ja"), ref, "revisions", _("改訂の出典がありません。"))
        check.day(revision, here, ref, "date")


def check_links(check: Checker, links, path: Path, own: tuple[str, list] | None = None) -> dict:
    """The crosswalk links of a guideline file (`own`: its code and measures; `to` is its own)
    or of crosswalk.json (`own` None: both ends name their guideline)."""
    if not isinstance(links, list):
        check.add(path, "", "crosswalk", _("一覧（[…]）です。"))
        return {}
    result: dict = {}
    known: dict[tuple[str, str], bool] = {}  # (series, ref): scored
    if own:
        known.update({(own[0], m["ref"]): m["is_scored"] for m in own[1]})
    wanted = set()
    for link in links:
        for end in ("from", "to"):
            value = link.get(end) if isinstance(link, dict) else None
            if isinstance(value, dict) and isinstance(value.get("guideline"), str):
                wanted.add(value["guideline"])
    for series in wanted - {own[0] if own else None}:
        latest = Guideline.objects.filter(series=series).order_by("-edition").first()
        if latest:
            for ref, scored in latest.measures.values_list("ref", "is_scored"):
                known[(series, ref)] = scored
    sources_by_target: dict[tuple, list[tuple]] = {}
    for index, link in enumerate(links):
        here: Path = (*path, index)
        if not isinstance(link, dict):
            check.add(here, "", "crosswalk", _("オブジェクト（{…}）です。"))
            continue
        check.unknown(link, here, "", {"from", "to", "primary", "note_ja", "note_en"})
        ends: list[tuple[Any, Any] | None] = []
        for end in ("from", "to"):
            value = link.get(end)
            if not isinstance(value, dict):
                check.add((*here, end), "", end, _('{"guideline": …, "ref": …} です。'))
                ends.append(None)
                continue
            series = value.get("guideline", own[0] if own and end == "to" else None)
            if own and end == "to" and series != own[0]:
                check.add(
                    (*here, end, "guideline"),
                    "",
                    "to.guideline",
                    _("このファイルの指針（%(code)s）への対応だけを書けます。") % {"code": own[0]},
                )
            end_ref = value.get("ref")
            if (series, end_ref) not in known:
                check.add(
                    (*here, end, "ref"),
                    str(end_ref),
                    f"{end}.ref",
                    _("指針 %(g)s にこの参照番号の項目がありません。") % {"g": series},
                )
                ends.append(None)
            else:
                ends.append((series, end_ref))
        primary = link.get("primary", False)
        if not isinstance(primary, bool):
            check.add((*here, "primary"), "", "primary", _("true か false です。"))
            primary = False
        notes = [
            check.text(link, here, "", n, (False, LINK_NOTE_MAX)) for n in ("note_ja", "note_en")
        ]
        source, target = ends
        if source is None or target is None:
            continue
        if source == target:
            check.add(here, target[1], "crosswalk", _("同じ項目どうしは対応づけられません。"))
            continue
        if primary and not known[source]:
            check.add(
                (*here, "primary"),
                source[1],
                "primary",
                _("主たる対応の移行元は採点する項目です。"),
            )
        key = (source[0], source[1], target[1]) if own else (source, target)
        if key in result:
            check.add(here, target[1], "crosswalk", _("同じ対応が重複しています。"))
        result[key] = (notes[0], notes[1], primary)
        sources_by_target.setdefault(target, []).append((here, primary))
    for target, group in sources_by_target.items():
        if len(group) > 1 and sum(primary for _here, primary in group) != 1:
            check.add(
                group[0][0],
                target[1],
                "primary",
                _("移行元が%(n)s件ある移行先には、主たる対応（primary）がちょうど1件必要です。")
                % {"n": len(group)},
            )
    return result
