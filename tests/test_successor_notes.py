"""Issue 13 (item 3): dated successor notes on measures, and level texts reachable and lawful today.

A note is in force for an assessment whose base date (April 1 of its fiscal year) is on or after
the note's effective_from; it is shown on the section page, the review page and in the PDF.

Personas: staff of 札幌市 (fills its own assessment), the 北海道 reviewer (reads and reviews it).
"""

import datetime
import json
import shutil

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import translation

from assessments.catalog import CATALOG_DIR, load_catalog
from assessments.models import Answer, Assessment, LevelDescription, Measure, MeasureNote
from assessments.reports import pdf as reports
from assessments.reports.context import assessment_report_context
from assessments.selectors.filling import notes_by_measure
from tests.test_reports import LOCMEM_REPORTS, pdf_text, squash

CARD_NOTE = "2016年1月以降は個人番号カード（マイナンバーカード）の交付・活用で評価する。"
PRIVACY_NOTE = "2023年4月1日以降は改正個人情報保護法と施行条例の整備状況で評価する。"
# Words for what no longer exists or is not idiomatic: no level text of a scored measure uses them.
SUCCEEDED = ("住基カード", "住民基本台帳カード", "助役", "首長決定")


@pytest.fixture(autouse=True)
def report_cache(settings):
    settings.CACHES = LOCMEM_REPORTS
    from django.core.cache import caches

    caches["reports"].clear()


def measure(ref: str, code: str = "egov-2003") -> Measure:
    return Measure.objects.get(guideline__code=code, ref=ref)


def section_url(assessment: Assessment, ref: str) -> str:
    return reverse("assessment_section", kwargs={**assessment.url_kwargs, "section_ref": ref})


def walk(nodes):
    for node in nodes:
        yield node
        yield from walk(node["children"])


def fixture_nodes(code: str) -> list[dict]:
    data = json.loads((CATALOG_DIR / f"{code}.json").read_text(encoding="utf-8"))
    return list(walk(data["measures"]))


# --- The catalog's content -------------------------------------------------------------------


def test_the_fixtures_notes_are_loaded_with_their_sources(db):
    dated = set(MeasureNote.objects.values_list("measure__guideline__code", "measure__ref"))
    assert dated == {
        ("egov-2003", "II.1.(2)④"),  # 住基カード → マイナンバーカード
        ("egov-2003", "II.3.(2)"),  # 改正個人情報保護法
        ("egov-2003", "II.1.(1)①"),  # 助役 → 副市町村長
        ("egov-2000", "3.9"),
        ("egov-2000", "4.2"),
    }
    card = measure("II.1.(2)④").notes.get()
    assert card.effective_from == datetime.date(2016, 1, 1)
    assert card.text_ja.startswith(CARD_NOTE)
    assert "平成25年法律第27号" in card.source_ja and "2015年12月28日" in card.source_ja
    privacy = measure("II.3.(2)").notes.get()
    assert privacy.effective_from == datetime.date(2023, 4, 1)
    assert privacy.text_ja.startswith(PRIVACY_NOTE)
    assert "令和3年法律第37号" in privacy.source_ja
    assert "平成18年法律第53号" in measure("II.1.(1)①").notes.get().source_ja


def test_every_note_has_text_and_a_source_in_both_languages(db):
    for note in MeasureNote.objects.all():
        for field in ("text_ja", "text_en", "source_ja", "source_en"):
            assert getattr(note, field).strip(), f"{note}: {field} is empty"
        assert note.measure.is_scored


@pytest.mark.parametrize("code", ["egov-2003", "egov-2000"])
def test_no_level_text_of_a_scored_measure_names_what_was_succeeded(db, code):
    texts = LevelDescription.objects.filter(
        measure__guideline__code=code, measure__is_scored=True
    ).values_list("measure__ref", "level", "description_ja")
    found = [(ref, level, w) for ref, level, text in texts for w in SUCCEEDED if w in text]
    assert found == []
    # The notes may (and do) say what was succeeded.
    if code == "egov-2003":
        assert "住基カード" in measure("II.1.(2)④").notes.get().text_ja


def test_having_no_privacy_ordinance_is_not_the_lowest_level_any_more(db):
    for ref, code in (("II.3.(2)", "egov-2003"), ("4.2", "egov-2000")):
        levels = {d.level: d.description_ja for d in measure(ref, code).level_descriptions.all()}
        assert "条例は制定されていない" not in levels[0]
        assert "条例はなく" not in levels[0]
        assert "規程" in levels[0] and "体制" in levels[0]
        # The top levels are reachable for a body that abolished its ordinance in 2023.
        assert "施行条例" in levels[3] and "取扱規程" in levels[3]
        assert "改正個人情報保護法" in levels[3]
    # The quoted title stays character-exact.
    assert (
        measure("II.3.(2)").title_ja
        == "個人情報保護法制を踏まえた個人情報保護条例の制定または見直し"
    )
    assert measure("II.1.(2)④").title_ja == "住民基本台帳カードの積極的な活用"


REVISED = {
    "egov-2003": {
        ("I.2.(1)", "levels.3"),  # 首長決定 → 庁議決定又は首長の決裁
        ("I.2.(2)②", "guidance"),
        ("II.1.(1)①", "levels.1"),  # 助役 → 副知事・副市町村長
        ("II.1.(2)", "guidance"),
        ("II.1.(2)④", "guidance"),
        *(("II.1.(2)④", f"levels.{n}") for n in range(4)),  # 住基カード → マイナンバーカード
        ("II.3", "guidance"),
        ("II.3.(2)", "guidance"),
        *(("II.3.(2)", f"levels.{n}") for n in range(5)),  # 改正個人情報保護法
    },
    "egov-2000": {
        ("3.9", "levels.3"),
        ("4.2", "guidance"),
        *(("4.2", f"levels.{n}") for n in (0, 1, 3, 4)),
    },
}


@pytest.mark.parametrize("code", ["egov-2003", "egov-2000"])
def test_every_reworded_text_is_recorded_with_its_source_and_date(db, code):
    revised = set()
    for node in fixture_nodes(code):
        for revision in node.get("revisions", []):
            revised.add((node["ref"], revision["field"]))
            assert revision["source_ja"].strip() and revision["source_en"].strip()
            assert datetime.date.fromisoformat(revision["date"]) <= datetime.date(2023, 4, 1)
            where, _dot, level = revision["field"].partition(".")
            current = node["levels"][level]["ja"] if where == "levels" else node["guidance_ja"]
            assert revision["previous_ja"] != current, f"{node['ref']} {revision['field']}"
    assert revised == REVISED[code]


def test_a_revision_without_a_source_is_refused_and_nothing_is_loaded(db, tmp_path):
    directory = tmp_path / "guidelines"
    shutil.copytree(CATALOG_DIR, directory)
    path = directory / "egov-2003.json"
    data = json.loads(path.read_text(encoding="utf-8"))
    node = next(n for n in walk(data["measures"]) if n["ref"] == "II.3.(2)")
    node["revisions"][0]["source_ja"] = ""
    node["levels"]["4"]["en"] = "Changed"
    path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")

    # The file, the line and the field are named (assessments/catalog/validation.py).
    with pytest.raises(
        ValidationError, match=r"egov-2003.json:1: II.3.\(2\) revisions: 改訂の出典がありません"
    ):
        load_catalog(directory)
    assert measure("II.3.(2)").level_descriptions.get(level=4).description_en != "Changed"


# --- Loading ---------------------------------------------------------------------------------


def test_loading_notes_is_idempotent_and_follows_the_file(db, tmp_path):
    assert load_catalog() == {}  # the shipped fixtures, loaded again: nothing changes
    directory = tmp_path / "guidelines"
    shutil.copytree(CATALOG_DIR, directory)
    path = directory / "egov-2003.json"
    data = json.loads(path.read_text(encoding="utf-8"))
    nodes = {n["ref"]: n for n in walk(data["measures"])}
    removed = MeasureNote.objects.get(measure=measure("II.1.(2)④"))
    kept = MeasureNote.objects.get(measure=measure("II.3.(2)"))
    del nodes["II.1.(2)④"]["notes"]
    nodes["II.3.(2)"]["notes"][0]["text_en"] = "Corrected."
    nodes["II.5.(3)"]["notes"] = [
        {
            "effective_from": "2024-04-01",
            "text_ja": "注記",
            "text_en": "Note",
            "source_ja": "出典（2024年4月1日）",
            "source_en": "Source (2024-04-01)",
        }
    ]
    path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")

    assert load_catalog(directory) == {"note_deleted": 1, "note_updated": 1, "note_created": 1}
    assert not MeasureNote.objects.filter(pk=removed.pk).exists()
    kept.refresh_from_db()
    assert kept.text_en == "Corrected." and kept.text_ja.startswith(PRIVACY_NOTE)
    assert measure("II.5.(3)").notes.get().effective_from == datetime.date(2024, 4, 1)
    assert load_catalog(directory) == {}


# --- Which notes apply -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("fiscal_year", "card", "privacy"),
    [(2010, False, False), (2015, False, False), (2016, True, False), (2022, True, False),
     (2023, True, True), (2026, True, True)],
)  # fmt: skip
def test_a_note_applies_from_the_first_fiscal_year_whose_april_1_follows_it(
    make_assessment, fiscal_year, card, privacy
):
    # FY2015 starts on 2015-04-01, before the 2016-01-01 note: not yet; FY2016 (2016-04-01): yes.
    notes = notes_by_measure(make_assessment(fiscal_year=fiscal_year))
    assert (measure("II.1.(2)④").pk in notes) is card
    assert (measure("II.3.(2)").pk in notes) is privacy
    assert measure("3.9", "egov-2000").pk not in notes  # another guideline's


def test_the_base_date_is_april_1_of_the_fiscal_year(make_assessment):
    assert make_assessment(fiscal_year=2016).base_date == datetime.date(2016, 4, 1)


def test_note_text_and_source_follow_the_language(db):
    note = measure("II.1.(2)④").notes.get()
    assert note.text == note.text_ja
    with translation.override("en"):
        assert note.text == note.text_en and note.source == note.source_en


# --- Where notes are shown -------------------------------------------------------------------


def card_note() -> MeasureNote:
    return measure("II.1.(2)④").notes.get()


def test_the_section_page_shows_the_note_from_its_date_only(client, sapporo_staff, make_assessment):
    client.force_login(sapporo_staff)
    current = make_assessment(fiscal_year=2026)
    html = client.get(section_url(current, "II.1")).content.decode()
    assert CARD_NOTE in html and card_note().source_ja in html
    assert "2016年1月1日（平成28年1月1日）以降の注記" in html
    # The note sits in the measure's own card, before its level choices.
    card = html.split('data-ref="II.1.(2)④"', 1)[1].split("</section>", 1)[0]
    assert card.index(CARD_NOTE) < card.index("マイナンバーカード（個人番号カード）の独自利用は")

    earlier = make_assessment(fiscal_year=2015)
    html = client.get(section_url(earlier, "II.1")).content.decode()
    assert CARD_NOTE not in html and "平成25年法律第27号" not in html


def test_the_read_only_section_page_shows_the_note(client, hokkaido_reviewer, make_assessment):
    submitted = make_assessment(fiscal_year=2026, status=Assessment.Status.SUBMITTED)
    client.force_login(hokkaido_reviewer)
    html = client.get(section_url(submitted, "II.3")).content.decode()
    assert "この自己評価は閲覧のみです。" in html
    assert PRIVACY_NOTE in html
    html = client.get(section_url(make_assessment(fiscal_year=2022), "II.3")).content.decode()
    assert PRIVACY_NOTE not in html


@pytest.mark.parametrize(("fiscal_year", "shown"), [(2026, True), (2015, False)])
def test_the_review_page_shows_the_note_from_its_date_only(
    client, hokkaido_reviewer, make_assessment, fiscal_year, shown
):
    assessment = make_assessment(fiscal_year=fiscal_year, status=Assessment.Status.SUBMITTED)
    Answer.objects.create(assessment=assessment, measure=measure("II.1.(2)④"), level=2)
    client.force_login(hokkaido_reviewer)
    response = client.get(reverse("review", kwargs=assessment.url_kwargs))
    assert response.status_code == 200
    html = response.content.decode()
    assert (CARD_NOTE in html) is shown
    assert (card_note().source_ja in html) is shown
    if shown:
        row = next(r for r in response.context["rows"] if r.measure.ref == "II.1.(2)④")
        assert row.notes == [card_note()]


@pytest.mark.parametrize(("fiscal_year", "shown"), [(2026, True), (2010, False)])
def test_the_pdf_shows_the_note_from_its_date_only(make_assessment, fiscal_year, shown):
    assessment = make_assessment(fiscal_year=fiscal_year, status=Assessment.Status.SUBMITTED)
    Answer.objects.create(assessment=assessment, measure=measure("II.1.(2)④"), level=3)
    text = squash(pdf_text(reports.render_assessment_pdf(assessment)))
    assert (squash(CARD_NOTE) in text) is shown
    assert (squash(PRIVACY_NOTE) in text) is shown
    assert ("平成25年法律第27号" in text) is shown
    # The level text the body chose is the reworded one, in every year.
    assert squash("休日窓口や出張窓口での申請受付") in text
    context = assessment_report_context(assessment)
    item = next(i for s in context["sections"] for i in s.items if i["measure"].ref == "II.1.(2)④")
    assert bool(item["notes"]) is shown
