"""`manage.py build_national_dataset`: every body, realistic statuses, safe to run again."""

import io

from django.core.management import call_command

from assessments.models import Answer, Assessment, AssessmentTransition


def test_builds_every_body_once_and_adds_nothing_when_run_again(db, scored_2003):
    call_command("build_national_dataset", "--years", "2026", stdout=io.StringIO())
    assessments = Assessment.objects.filter(fiscal_year=2026)
    assert assessments.count() == 1788
    submitted = assessments.filter(status__in=["submitted", "approved"])
    assert Answer.objects.filter(assessment__in=submitted).count() == (
        submitted.count() * len(scored_2003)
    )
    # The log matches the dates: one submission per submitted_at, one approval per approved_at.
    assert AssessmentTransition.objects.filter(to_status="submitted").count() == (
        assessments.filter(submitted_at__isnull=False).count()
    )
    assert AssessmentTransition.objects.filter(to_status="approved").count() == (
        assessments.filter(status="approved").count()
    )

    answers = Answer.objects.count()
    call_command("build_national_dataset", "--years", "2026", stdout=io.StringIO())
    assert (Assessment.objects.count(), Answer.objects.count()) == (1788, answers)
