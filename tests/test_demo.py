"""`manage.py demo`: the demo accounts and realistic 北海道 data, safe to re-run."""

from django.core.management import call_command
from django.db.models import Count

from assessments.models import Answer, Assessment, ReleaseVersion, StatisticsRelease, User


def test_demo_builds_hokkaido_and_can_run_again(db, client):
    call_command("demo", stdout=open("/dev/null", "w"))
    assert set(User.objects.values_list("username", flat=True)) >= {
        "sapporo-staff",
        "hakodate-staff",
        "hokkaido-reviewer",
        "aomori-reviewer",
        "national-admin",
    }
    per_year = dict(Assessment.objects.values_list("fiscal_year").annotate(n=Count("pk")))
    assert per_year == {2025: 179, 2026: 179}
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

    # Rates resemble the national figures: security policy ≈ 81%, 汎用受付 ≈ 20% (FY2025).
    answers = Answer.objects.filter(assessment__fiscal_year=2025)

    def share(ref):
        rows = answers.filter(measure__ref=ref)
        return rows.filter(level__gte=3).count() / rows.count()

    assert 0.7 <= share("II.3.(1)") <= 0.92
    assert 0.1 <= share("II.1.(3)②") <= 0.32
    assert share("II.1.(2)②") == 1.0

    # The past round is closed and its statistics published: a fresh start shows release 1.
    release = StatisticsRelease.objects.get()
    assert release.survey_round.fiscal_year == 2025 and release.survey_round.closed_at
    assert release.versions.count() == 1
    page = client.get("/statistics/").content.decode()
    assert "第1号" in page and "令和7年度" in page

    answer_count = Answer.objects.count()
    call_command("demo", stdout=open("/dev/null", "w"))
    assert Assessment.objects.count() == 358 and Answer.objects.count() == answer_count
    assert ReleaseVersion.objects.count() == 1
