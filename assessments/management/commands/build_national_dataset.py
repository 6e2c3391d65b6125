"""National-scale data: every body × several fiscal years × every scored measure.

1,788 bodies × 3 years × 35 scored measures of egov-2003 ≈ 188k answers, written with
bulk_create in batches. Levels are drawn as in the demo (assessments/demo.py draw_answer:
calibrated to MIC's figures, prefectures and municipalities apart, seeded by body and year, so
every run builds the same data). Statuses are mostly submitted/approved;
the latest year also has bodies still at work. Bodies that already have an assessment for a
year are left alone, so running it again adds nothing; --reset deletes those years first.
"""

import datetime
import random
import time

from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from assessments.demo import drawn_answer, fiscal_date, history_transitions, population_of
from assessments.models import (
    Answer,
    Assessment,
    AssessmentTransition,
    Body,
    Guideline,
    Measure,
    SurveyRound,
)

Status = Assessment.Status
DEFAULT_YEARS = (2024, 2025, 2026)
PAST_YEAR_STATUSES = ((Status.APPROVED, Status.SUBMITTED), (85, 15))
LATEST_YEAR_STATUSES = (
    (Status.APPROVED, Status.SUBMITTED, Status.RETURNED, Status.IN_PROGRESS, Status.NOT_STARTED),
    (40, 42, 3, 10, 5),
)


@transaction.atomic
def build_year(
    guideline: Guideline, fiscal_year: int, *, latest: bool, batch_size: int
) -> tuple[int, int]:
    """Create the missing assessments of one fiscal year; return (assessments, answers)."""
    measures = list(Measure.objects.filter(guideline=guideline, is_scored=True).order_by("order"))
    survey_round, _created = SurveyRound.objects.get_or_create(
        guideline=guideline,
        fiscal_year=fiscal_year,
        defaults={"due_on": datetime.date(fiscal_year, 9, 30)},
    )
    taken = set(
        Assessment.objects.filter(guideline=guideline, fiscal_year=fiscal_year).values_list(
            "body_id", flat=True
        )
    )
    everyone = list(Body.objects.order_by("code"))
    # Levels are calibrated for the prefectures and the municipalities apart (assessments.demo).
    populations = {
        True: population_of(b for b in everyone if b.is_prefecture),
        False: population_of(b for b in everyone if not b.is_prefecture),
    }
    bodies = [b for b in everyone if b.pk not in taken]
    choices, weights = LATEST_YEAR_STATUSES if latest else PAST_YEAR_STATUSES
    assessments, rngs = [], []
    for body in bodies:
        rng = random.Random(f"national-{body.code}-{fiscal_year}")
        status = rng.choices(choices, weights=weights)[0]
        submitted = status in (Status.SUBMITTED, Status.APPROVED, Status.RETURNED)
        assessments.append(
            Assessment(
                body=body,
                guideline=guideline,
                fiscal_year=fiscal_year,
                status=status,
                survey_round=survey_round,
                submitted_at=fiscal_date(fiscal_year, 9, rng.randint(1, 29)) if submitted else None,
                approved_at=(
                    fiscal_date(fiscal_year, 10, rng.randint(1, 31))
                    if status == Status.APPROVED
                    else None
                ),
            )
        )
        rngs.append(rng)
    Assessment.objects.bulk_create(assessments, batch_size=batch_size)

    answers: list[Answer] = []
    transitions: list[AssessmentTransition] = []
    for assessment, rng in zip(assessments, rngs, strict=True):
        if assessment.status == Status.NOT_STARTED:
            continue
        share = rng.uniform(0.3, 0.9) if assessment.status == Status.IN_PROGRESS else 1.0
        # What the body answers (Measure.objects.to_answer): 5.4 of 2000 is the prefectures'.
        own = [m for m in measures if m.applies_to_kind(assessment.body.kind)]
        answers.extend(
            drawn_answer(
                assessment, measure, rng, population=populations[assessment.body.is_prefecture]
            )
            for measure in own[: round(len(own) * share)]
        )
        transitions.extend(history_transitions(assessment))
    Answer.objects.bulk_create(answers, batch_size=batch_size)
    AssessmentTransition.objects.bulk_create(transitions, batch_size=batch_size)
    return len(assessments), len(answers)


class Command(BaseCommand):
    help = (
        "全国規模のデータ（全1,788団体 × 複数年度 × 採点対象の全項目）を作成します。"
        "既にある団体・年度は変更しません。--reset でその年度を作り直します。"
    )

    def add_arguments(self, parser):
        parser.add_argument("--guideline", default="egov-2003")
        parser.add_argument("--years", type=int, nargs="+", default=list(DEFAULT_YEARS))
        parser.add_argument("--batch-size", type=int, default=2000)
        parser.add_argument(
            "--reset", action="store_true", help="その指針・年度の自己評価を削除してから作成"
        )

    def handle(self, *args, guideline, years, batch_size, reset, **options):
        try:
            guideline = Guideline.objects.get(code=guideline)
        except Guideline.DoesNotExist:
            raise CommandError(f"指針 {guideline} がありません（load_guidelines を先に）") from None
        if Body.objects.count() == 0:
            raise CommandError("団体がありません（load_bodies を先に実行してください）")
        years = sorted(years)
        if reset:
            deleted, _detail = Assessment.objects.filter(
                guideline=guideline, fiscal_year__in=years
            ).delete()
            self.stdout.write(f"削除: {deleted} 行")
        for year in years:
            started = time.perf_counter()
            created, answers = build_year(
                guideline,
                year,
                latest=year == years[-1],
                batch_size=batch_size,
            )
            self.stdout.write(
                f"{year}年度: 自己評価 {created} 件・回答 {answers} 件を作成"
                f"（{time.perf_counter() - started:.1f} 秒）"
            )
