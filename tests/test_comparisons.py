"""Averages a body is compared with, checked against hand-computed values."""

from assessments.models import Answer, Assessment, Body
from assessments.selectors.comparisons import average_scores, comparison_for


def answer_all(assessment, measures, level):
    Answer.objects.bulk_create(
        Answer(assessment=assessment, measure=m, level=level) for m in measures
    )


def test_averages_weigh_each_body_once(make_assessment, scored_2003, guideline_2003):
    submitted = Assessment.Status.SUBMITTED
    sapporo = make_assessment("011002", 2026, status=submitted)
    hakodate = make_assessment("012025", 2026, status=submitted)
    aomori_city = make_assessment("022012", 2026, status=Assessment.Status.APPROVED)
    draft = make_assessment("012033", 2026)  # 小樽市, in progress: not counted
    answer_all(sapporo, scored_2003, 4)  # 100
    answer_all(hakodate, scored_2003, 2)  # 50
    answer_all(aomori_city, scored_2003, 1)  # 25
    answer_all(draft, scored_2003, 0)

    hokkaido = Body.objects.get(code="010006")
    in_hokkaido = average_scores(guideline_2003.pk, 2026, prefecture=hokkaido)
    nation = average_scores(guideline_2003.pk, 2026)
    assert (in_hokkaido.bodies, in_hokkaido.overall) == (2, 75.0)
    assert nation.bodies == 3 and abs(nation.overall - 175 / 3) < 1e-9
    section = scored_2003[0].section_id
    assert in_hokkaido.sections[section] == 75.0

    labels = [a.label for a in comparison_for(sapporo)]
    assert labels == ["北海道平均", "政令指定都市平均", "全国平均"]


def test_na_and_weights_inside_a_body_score(make_assessment, scored_2003, guideline_2003):
    assessment = make_assessment("011002", 2026, status=Assessment.Status.SUBMITTED)
    heavy = next(m for m in scored_2003 if m.weight == 3)
    light = next(m for m in scored_2003 if m.weight == 1)
    Answer.objects.create(assessment=assessment, measure=heavy, level=4)
    Answer.objects.create(assessment=assessment, measure=light, level=0)
    others = [m for m in scored_2003 if m not in (heavy, light)]
    Answer.objects.bulk_create(
        Answer(
            assessment=assessment, measure=m, not_applicable=True, not_applicable_reason="対象外"
        )
        for m in others
    )
    # (3×4 + 1×0) / (3×4 + 1×4) = 12/16 = 75.0; 該当なし left out
    assert average_scores(guideline_2003.pk, 2026).overall == 75.0
    scored = Assessment.objects.filter(pk=assessment.pk).with_scores().get()
    assert scored.score.value == 75
    assert (scored.answered_count, scored.not_applicable_count) == (34, 32)  # 34 scored
