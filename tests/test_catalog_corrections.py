"""Issue 13 (items 2 and 4): catalog corrections, applicability by kind of body, the crosswalk's
primary links and the weights' rationale.

Personas: staff of 札幌市 (a municipality), the 北海道 reviewer (reads the prefecture's own
assessment), the national admin (every dashboard row).
"""

import json
import shutil
from collections import Counter

import pytest
from django.core.exceptions import ValidationError
from django.template.loader import render_to_string
from django.urls import reverse

from assessments import answers
from assessments.applicability import PREFECTURE_KIND, AppliesTo
from assessments.catalog import CATALOG_DIR, load_catalog
from assessments.models import Answer, Assessment, Body, CrosswalkLink, Guideline, Measure
from assessments.reports.context import assessment_report_context
from assessments.selectors.statistics import TOTAL, tabulate

SAPPORO, HOKKAIDO = "011002", "010006"


@pytest.fixture
def guideline_2000(db):
    return Guideline.objects.get(code="egov-2000")


def measure(code: str, ref: str) -> Measure:
    return Measure.objects.get(guideline__code=code, ref=ref)


def test_the_vocabulary_names_the_registrys_prefecture_kind():
    assert PREFECTURE_KIND == Body.Kind.PREFECTURE


# --- Unscored framing items ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("code", "ref"),
    [("egov-2003", "II.2.(1)"), ("egov-2000", "1.1"), ("egov-2000", "1.2"), ("egov-2000", "1.3")],
)
def test_framing_items_are_not_scored_and_say_why(db, code, ref):
    framing = measure(code, ref)
    assert not framing.is_scored
    assert "評価の対象とせず" in framing.guidance_ja or "評価の対象ではなく" in framing.guidance_ja
    assert "枠組み" in framing.guidance_ja and "frame" in framing.guidance_en


def test_an_earlier_answer_to_an_unscored_item_is_kept_and_shown_as_unscored(
    client, sapporo_staff, make_assessment
):
    challenges = measure("egov-2003", "II.2.(1)")
    joint = measure("egov-2003", "II.2.(2)")
    # The catalog as it was before issue 13: II.2.(1) scored, and answered then.
    Measure.objects.filter(pk=challenges.pk).update(is_scored=True)
    assessment = make_assessment(body_code=SAPPORO)
    kept = Answer.objects.create(assessment=assessment, measure=challenges, level=4, note="課題")
    Answer.objects.create(assessment=assessment, measure=joint, level=1)

    stats = load_catalog()  # the corrected fixture unscores it again

    assert stats["measure_updated"] == 1
    kept.refresh_from_db()
    assert (kept.measure_id, kept.level, kept.note) == (challenges.pk, 4, "課題")
    scored = Assessment.objects.with_scores().get(pk=assessment.pk)
    # Only II.2.(2) counts: 1 / 4 = 25.0, one of 34 answered.
    assert (scored.answered_count, scored.to_answer_count) == (1, 34)
    assert scored.score.text == "25.0"

    client.force_login(sapporo_staff)
    html = client.get(assessment.get_absolute_url()).content.decode()
    assert "採点対象外となった項目の回答" in html
    uncounted = html.split("採点対象外となった項目の回答", 1)[1]
    assert "II.2.(1)" in uncounted and "電子自治体推進上の課題" in uncounted
    context = assessment_report_context(assessment)
    assert [a.measure.ref for a in context["uncounted"]] == ["II.2.(1)"]
    assert all(item["measure"].ref != "II.2.(1)" for s in context["sections"] for item in s.items)


# --- 5.4 都道府県の役割: prefectures only --------------------------------------------------------


def test_the_prefectures_role_applies_to_prefectures_only(db):
    role = measure("egov-2000", "5.4")
    assert role.applies_to == AppliesTo.PREFECTURES
    assert role.is_scored
    assert not Measure.objects.exclude(pk=role.pk).exclude(applies_to=AppliesTo.ALL).exists()
    assert role in Measure.objects.scored().for_body(Body.objects.get(code=HOKKAIDO))
    assert role not in Measure.objects.scored().for_body(Body.objects.get(code=SAPPORO))


@pytest.fixture
def role_answered(make_assessment, guideline_2000):
    """札幌市 and 北海道 on the 2000 guideline, each with 5.4 at level 4 and 5.3 at level 0 (an
    earlier answer in 札幌市's case, given before 5.4 became the prefectures')."""
    made = []
    for code in (SAPPORO, HOKKAIDO):
        a = make_assessment(body_code=code, guideline=guideline_2000, status="submitted")
        Answer.objects.create(assessment=a, measure=measure("egov-2000", "5.4"), level=4)
        Answer.objects.create(assessment=a, measure=measure("egov-2000", "5.3"), level=0)
        made.append(a)
    return made


def test_the_role_is_left_out_of_a_municipalitys_progress_and_score(role_answered):
    sapporo, hokkaido = (Assessment.objects.with_scores().get(pk=a.pk) for a in role_answered)
    # 25 scored measures of 2000, of which 5.4 is the prefectures'.
    assert (sapporo.answered_count, sapporo.to_answer_count) == (1, 24)
    assert sapporo.score.text == "0.0"  # 5.3 only: 0 / 4
    assert (hokkaido.answered_count, hokkaido.to_answer_count) == (2, 25)
    assert hokkaido.score.text == "50.0"  # (4 + 0) / 8
    # The same figures when the guideline is named (the dashboard's uncorrelated count).
    named = Assessment.objects.with_scores(Guideline.objects.get(code="egov-2000"))
    named_counts = {a.pk: a.to_answer_count for a in named.filter(pk__in=[sapporo.pk, hokkaido.pk])}
    assert named_counts == {sapporo.pk: 24, hokkaido.pk: 25}


def test_the_section_page_shows_the_role_to_the_prefecture_only(
    client, role_answered, sapporo_staff, hokkaido_reviewer
):
    sapporo, hokkaido = role_answered
    kwargs = {"section_ref": "5"}
    client.force_login(sapporo_staff)
    html = client.get(reverse("assessment_section", kwargs={**sapporo.url_kwargs, **kwargs}))
    assert "都道府県の役割" not in html.content.decode()
    assert "国、都道府県及び市町村間の緊密な連携" in html.content.decode()
    # The kept answer is listed apart on the overview, not among the measures to answer.
    overview = client.get(sapporo.get_absolute_url()).content.decode()
    assert "都道府県の役割" in overview.split("採点対象外となった項目の回答", 1)[1]
    client.force_login(hokkaido_reviewer)
    html = client.get(reverse("assessment_section", kwargs={**hokkaido.url_kwargs, **kwargs}))
    assert "都道府県の役割" in html.content.decode()


def test_dashboard_and_statistics_leave_the_role_out_of_municipal_denominators(
    client, role_answered, national_admin, guideline_2000
):
    client.force_login(national_admin)
    response = client.get(reverse("dashboard"), {"fiscal_year": 2026, "guideline": "egov-2000"})
    progress = {
        r.assessment.body.code: r.assessment.to_answer_count for r in response.context["rows"]
    }
    assert progress == {SAPPORO: 24, HOKKAIDO: 25}

    tables = tabulate(guideline_2000, 2026)
    by_ref = {m.ref: m for m in tables.measures}
    role, ties = by_ref["5.4"], by_ref["5.3"]
    prefectures = Body.objects.prefectures().count()
    assert role.bodies_by_category[TOTAL] == prefectures
    assert role.bodies_by_category["prefecture"] == prefectures
    assert all(n == 0 for c, n in role.bodies_by_category.items() if c not in ("prefecture", TOTAL))
    assert role.by_category[TOTAL]["4"] == 1  # 北海道 only: 札幌市's kept answer is not counted
    assert role.bodies_by_prefecture[HOKKAIDO] == 1  # the prefecture, none of its 179
    assert ties.bodies_by_category[TOTAL] == Body.objects.count()
    assert tables.cell(role, TOTAL, "4").total == prefectures
    frozen = tables.as_data()["measures"]
    assert next(m for m in frozen if m["ref"] == "5.4")["bodies"]["by_category"][TOTAL] == (
        prefectures
    )


# --- The crosswalk --------------------------------------------------------------------------------

ADDED = [
    ("1.2", "II.4.(4)"),
    ("1.3", "II.1.(5)"),
    ("4.1", "I.2.(3)"),
    ("4.2", "I.2.(3)"),
    ("4.1", "II.3.(3)"),
    ("5.2", "II.1.(1)③"),
    ("3.3", "II.1.(2)④"),
    ("2.1.4", "II.1.(3)④"),
]


def test_every_listed_link_is_present_and_the_purpose_onto_a_reform_is_gone(db):
    links = CrosswalkLink.objects.all()
    pairs = set(links.values_list("source__ref", "target__ref"))
    assert set(ADDED) <= pairs
    assert ("1.1", "I.2.(2)①") not in pairs
    for link in links.filter(
        source__ref__in=[s for s, _t in ADDED], target__ref__in=[t for _s, t in ADDED]
    ):
        assert link.note_ja and link.note_en


def test_each_target_of_several_sources_has_one_scored_primary_link(db):
    targets = Counter(CrosswalkLink.objects.values_list("target_id", flat=True))
    for target, n in targets.items():
        primaries = CrosswalkLink.objects.filter(target=target, primary=True)
        assert primaries.count() == (1 if n > 1 else primaries.count())
        assert primaries.count() <= 1
    assert not CrosswalkLink.objects.filter(primary=True, source__is_scored=False).exists()
    decides = CrosswalkLink.objects.get(target__ref="II.1.(3)②", primary=True)
    assert decides.source.ref == "3.2"


def test_the_loader_refuses_a_second_primary_link(db, tmp_path):
    directory = tmp_path / "guidelines"
    shutil.copytree(CATALOG_DIR, directory)
    path = directory / "crosswalk.json"
    links = json.loads(path.read_text(encoding="utf-8"))
    for link in links:
        if link["to"]["ref"] == "II.1.(3)②":
            link["primary"] = True  # 2.1.1 as well as 3.2
    path.write_text(json.dumps(links, ensure_ascii=False), encoding="utf-8")
    with pytest.raises(ValidationError):
        load_catalog(directory)
    assert CrosswalkLink.objects.get(target__ref="II.1.(3)②", primary=True).source.ref == "3.2"


@pytest.fixture
def answered_2000(make_assessment, guideline_2000):
    """札幌市's approved 2000 assessment of FY2025."""
    return make_assessment(
        body_code=SAPPORO, fiscal_year=2025, guideline=guideline_2000, status="approved"
    )


def _start(user, body, guideline_2003):
    started = answers.assessment_start(
        body=body(SAPPORO),
        guideline=guideline_2003,
        fiscal_year=2026,
        user=user,
        prefill="crosswalk",
    )
    return {a.measure.ref: a for a in started.answers.select_related("measure")}


def test_carry_over_takes_the_primary_link(sapporo_staff, body, guideline_2003, answered_2000):
    # The broad 2.1.1 (online procedures in general) at 1, the specific 3.2 at 4.
    Answer.objects.create(assessment=answered_2000, measure=measure("egov-2000", "2.1.1"), level=1)
    Answer.objects.create(assessment=answered_2000, measure=measure("egov-2000", "3.2"), level=4)
    carried = _start(sapporo_staff, body, guideline_2003)
    assert carried["II.1.(3)②"].level == 4
    assert carried["II.1.(3)②"].carried_over_from == "2000年指針 3.2"
    assert carried["II.1.(3)①"].carried_over_from == "2000年指針 2.1.1"  # its only source


def test_another_source_stands_in_when_the_primary_one_is_unanswered(
    sapporo_staff, body, guideline_2003, answered_2000
):
    Answer.objects.create(assessment=answered_2000, measure=measure("egov-2000", "2.1.1"), level=1)
    carried = _start(sapporo_staff, body, guideline_2003)
    assert carried["II.1.(3)②"].level == 1
    assert carried["II.1.(3)②"].carried_over_from == "2000年指針 2.1.1"


def test_an_unscored_or_inapplicable_source_carries_nothing(
    sapporo_staff, body, guideline_2003, answered_2000
):
    # Kept answers from before issue 13: the purpose 1.3 and the prefectures' 5.4.
    Answer.objects.create(assessment=answered_2000, measure=measure("egov-2000", "1.3"), level=3)
    Answer.objects.create(assessment=answered_2000, measure=measure("egov-2000", "5.4"), level=3)
    assert _start(sapporo_staff, body, guideline_2003) == {}


# --- Weights and their rationale ----------------------------------------------------------------


def test_every_weighted_measure_says_why(db):
    weighted = Measure.objects.filter(weight__gt=1)
    assert weighted.count() == 20
    assert not weighted.filter(weight_rationale_ja="").exists()
    assert not weighted.filter(weight_rationale_en="").exists()
    assert not Measure.objects.filter(weight=1).exclude(weight_rationale_ja="").exists()


def test_the_section_page_and_the_pdf_context_show_weight_and_rationale(
    client, sapporo_staff, make_assessment
):
    assessment = make_assessment(body_code=SAPPORO)
    cio = measure("egov-2003", "II.1.(1)①")
    client.force_login(sapporo_staff)
    url = reverse("assessment_section", kwargs={**assessment.url_kwargs, "section_ref": "II.1"})
    html = client.get(url).content.decode()
    assert "重み 3 の理由" in html and cio.weight_rationale_ja in html
    weighted = assessment_report_context(assessment)["weighted"]
    assert cio in weighted and all(m.weight_rationale for m in weighted)


def test_the_pdf_lists_weights_with_rationale_and_the_kept_answers(role_answered):
    """The PDF's HTML (the same template WeasyPrint renders) for 札幌市's 2000 assessment."""
    sapporo = role_answered[0]
    html = render_to_string("assessments/pdf/assessment.html", assessment_report_context(sapporo))
    weights = html.split("重みが1より大きい項目", 1)[1].split("</table>", 1)[0]
    assert "重みの理由" in weights
    assert measure("egov-2000", "3.1").weight_rationale_ja in weights
    kept = html.split('id="uncounted"', 1)[1].split("</section>", 1)[0]
    assert "5.4" in kept and "都道府県の役割" in kept
    assert 'id="uncounted"' not in render_to_string(
        "assessments/pdf/assessment.html", assessment_report_context(role_answered[1])
    )
