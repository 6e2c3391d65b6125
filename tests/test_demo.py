"""`manage.py demo`: the demo accounts and realistic 北海道 data, safe to re-run."""

import statistics

from django.core.management import call_command
from django.db.models import Count

from assessments.demo import MIC_TARGETS
from assessments.models import Answer, Assessment, ReleaseVersion, StatisticsRelease, User


def test_demo_builds_hokkaido_and_can_run_again(db, client):
    call_command("demo", stdout=open("/dev/null", "w"))
    assert set(User.objects.values_list("username", flat=True)) >= {
        "sapporo-staff",
        "hakodate-staff",
        "hokkaido-staff",
        "hokkaido-reviewer",
        "aomori-reviewer",
        "national-admin",
    }
    per_year = dict(Assessment.objects.values_list("fiscal_year").annotate(n=Count("pk")))
    assert per_year == {2025: 180, 2026: 180}  # 北海道 and its 179 municipalities
    assert set(Assessment.objects.filter(fiscal_year=2025).values_list("status", flat=True)) <= {
        "submitted",
        "approved",
    }
    statuses_2026 = set(
        Assessment.objects.filter(fiscal_year=2026).values_list("status", flat=True)
    )
    assert statuses_2026 == {"not_started", "in_progress", "submitted"}
    assert Assessment.objects.get(body__code="011002", fiscal_year=2026).status == "in_progress"
    assert Assessment.objects.get(body__code="012025", fiscal_year=2026).status == "submitted"
    # 北海道's own, for the national administrator to review (prefectures are theirs).
    hokkaido = Assessment.objects.get(body__code="010006", fiscal_year=2026)
    assert hokkaido.status == "submitted" and hokkaido.answers.count() >= 30

    # Each MIC figure on its measure, at the level that means MIC's "yes" (FY2025, the 179
    # municipalities, every one of them answered in full).
    answers = Answer.objects.filter(assessment__fiscal_year=2025, level__isnull=False).exclude(
        assessment__body__kind="prefecture"
    )
    for ref, figures in MIC_TARGETS.items():
        levels = list(answers.filter(measure__ref=ref).values_list("level", flat=True))
        assert len(levels) >= 170, ref
        for figure in figures:
            share = sum(level >= figure.level for level in levels) / len(levels)
            assert abs(share - figure.municipal) <= 0.07, (ref, figure.label, share)
    assert set(answers.filter(measure__ref="II.1.(2)②").values_list("level", flat=True)) >= {2, 4}
    assert not answers.filter(measure__ref="II.1.(2)②", level__lt=2).exists()  # LGWAN: all

    # Larger bodies are more advanced on average, and a body's levels go together.
    per_body: dict[str, list[int]] = {}
    kinds = {}
    for code, kind, _order, level in answers.values_list(
        "assessment__body__code", "assessment__body__kind", "measure__order", "level"
    ).order_by("measure__order"):
        per_body.setdefault(code, []).append(level)
        kinds[code] = kind
    mean = {code: statistics.fmean(levels) for code, levels in per_body.items()}
    cities = [mean[c] for c, k in kinds.items() if k in ("designated_city", "core_city", "city")]
    towns = [mean[c] for c, k in kinds.items() if k in ("town", "village")]
    assert statistics.fmean(cities) > statistics.fmean(towns) + 0.2
    first_half = [statistics.fmean(levels[: len(levels) // 2]) for levels in per_body.values()]
    second_half = [statistics.fmean(levels[len(levels) // 2 :]) for levels in per_body.values()]
    assert statistics.correlation(first_half, second_half) > 0.4

    # The past round is closed and its statistics published: a fresh start shows release 1.
    release = StatisticsRelease.objects.get()
    assert release.survey_round.fiscal_year == 2025 and release.survey_round.closed_at
    assert release.versions.count() == 1
    page = client.get("/statistics/").content.decode()
    assert "第1号" in page and "令和7年度" in page

    answer_count = Answer.objects.count()
    call_command("demo", stdout=open("/dev/null", "w"))
    assert Assessment.objects.count() == 360 and Answer.objects.count() == answer_count
    assert ReleaseVersion.objects.count() == 1
