"""Survey rounds (調査回): the national administrator opens one per guideline and fiscal year.

Opening a round gives every body in scope an assessment (未着手) linked to the round; a body
that already has one for that guideline and year keeps it (answers and status untouched) and it
is linked to the round. Progress is counted per prefecture in one grouped query.
"""

import datetime
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Count, Q
from django.db.models.functions import Coalesce
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from assessments.models import Assessment, Body, Guideline, SurveyRound, User

BATCH_SIZE = 500


class Scope:
    ALL = "all"
    PREFECTURES = "prefectures"
    MUNICIPALITIES = "municipalities"
    CHOICES = (
        (ALL, gettext_lazy("全団体（都道府県と市区町村）")),
        (PREFECTURES, gettext_lazy("都道府県のみ")),
        (MUNICIPALITIES, gettext_lazy("市区町村のみ")),
    )


def bodies_in_scope(scope: str):
    bodies = Body.objects.all()
    if scope == Scope.PREFECTURES:
        return bodies.prefectures()
    if scope == Scope.MUNICIPALITIES:
        return bodies.municipalities()
    return bodies


@dataclass
class OpenedRound:
    survey_round: SurveyRound
    created: int  # new assessments
    linked: int  # existing assessments now linked to the round


@transaction.atomic
def survey_round_open(
    *,
    guideline: Guideline,
    fiscal_year: int,
    due_on: datetime.date,
    scope: str = Scope.ALL,
    user: User,
) -> OpenedRound:
    """Open the round and give every body in scope its assessment (bulk, in batches)."""
    if not user.is_national_admin:
        raise PermissionDenied
    if SurveyRound.objects.filter(guideline=guideline, fiscal_year=fiscal_year).exists():
        raise ValidationError(
            _("この指針・年度の調査回はすでに開始されています。"), code="duplicate"
        )
    survey_round = SurveyRound(
        guideline=guideline, fiscal_year=fiscal_year, due_on=due_on, opened_by=user
    )
    survey_round.full_clean()
    survey_round.save()
    bodies = bodies_in_scope(scope)
    existing = Assessment.objects.filter(
        guideline=guideline, fiscal_year=fiscal_year, body__in=bodies
    )
    linked = existing.update(survey_round=survey_round)
    taken = set(existing.values_list("body_id", flat=True))
    new = [
        Assessment(
            body_id=body_id,
            guideline=guideline,
            fiscal_year=fiscal_year,
            status=Assessment.Status.NOT_STARTED,
            survey_round=survey_round,
        )
        for body_id in bodies.order_by("code").values_list("pk", flat=True)
        if body_id not in taken
    ]
    Assessment.objects.bulk_create(new, batch_size=BATCH_SIZE)
    return OpenedRound(survey_round=survey_round, created=len(new), linked=linked)


@dataclass
class PrefectureProgress:
    prefecture: Body
    counts: dict[str, int]  # status → number of assessments

    @property
    def total(self) -> int:
        return sum(self.counts.values())

    @property
    def done(self) -> int:
        return self.counts[Assessment.Status.SUBMITTED] + self.counts[Assessment.Status.APPROVED]


def round_progress(survey_round: SurveyRound) -> list[PrefectureProgress]:
    """Per prefecture (the prefecture itself and its municipalities), counts per status.

    Two queries: one grouped count, one for the prefectures' names.
    """
    statuses = Assessment.Status.values
    grouped = (
        Assessment.objects.filter(survey_round=survey_round)
        .annotate(pref=Coalesce("body__prefecture_id", "body_id"))
        .values("pref")
        .annotate(**{status: Count("pk", filter=Q(status=status)) for status in statuses})
        .order_by()
    )
    by_prefecture: dict[int, dict[str, Any]] = {row["pref"]: dict(row) for row in grouped}
    return [
        PrefectureProgress(
            prefecture=prefecture,
            counts={s: by_prefecture.get(prefecture.pk, {}).get(s, 0) for s in statuses},
        )
        for prefecture in Body.objects.prefectures().order_by("code")
    ]
