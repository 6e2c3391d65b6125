"""Scores, computed by the database.

A measure answered with level L and weight W earns W × L out of W × 4. A section's score (and the
overall score) is 100 × Σ(W × L) / Σ(W × 4) over its answered measures, rounded to one decimal.
該当なし and unanswered measures are left out of both sums, so they neither raise nor lower a
score; a submitted assessment has every measure answered. A score is None when nothing counts.
"""

from decimal import ROUND_HALF_UP, Decimal

from django.db.models import (
    Count,
    ExpressionWrapper,
    F,
    FloatField,
    IntegerField,
    OuterRef,
    Q,
    Subquery,
    Sum,
    Value,
)
from django.db.models.functions import Coalesce
from django.utils.translation import gettext_lazy

from assessments.models import MAX_LEVEL, Answer, Measure

FORMULA = gettext_lazy(
    "各項目のレベル（0〜4）に重みを掛けて合計し、すべて最高レベル4だった場合の合計で割って"
    "100点満点に換算します。「該当なし」と未回答の項目は計算から除きます。"
    "章ごとの点数も、その章の項目だけで同じように計算します。"
    "計算できる項目がまだない点数は「—」と表示します。"
)

_weighted_level = ExpressionWrapper(F("level") * F("measure__weight"), output_field=IntegerField())
_weighted_max = ExpressionWrapper(F("measure__weight") * MAX_LEVEL, output_field=IntegerField())


def _scored_answers():
    return Answer.objects.filter(measure__is_scored=True)


def score_from_sums(earned: int | None, possible: int | None) -> float | None:
    if not possible:
        return None
    value = Decimal(100 * earned) / Decimal(possible)
    return float(value.quantize(Decimal("0.1"), rounding=ROUND_HALF_UP))


def annotate_scores(queryset):
    """Annotate assessments with progress (answered / to_answer / not_applicable) and score.

    One subquery per figure, so the query count does not depend on the number of assessments.
    """
    per_assessment = _scored_answers().filter(assessment=OuterRef("pk")).order_by()
    answered = per_assessment.filter(Q(level__isnull=False) | Q(not_applicable=True))

    def aggregate(qs, expression):
        return Subquery(
            qs.values("assessment").annotate(v=expression).values("v")[:1],
            output_field=IntegerField(),
        )

    to_answer = Subquery(
        Measure.objects.filter(guideline=OuterRef("guideline"), is_scored=True)
        .order_by()
        .values("guideline")
        .annotate(n=Count("pk"))
        .values("n")[:1],
        output_field=IntegerField(),
    )
    counted = per_assessment.filter(level__isnull=False)
    return queryset.annotate(
        answered_count=Coalesce(aggregate(answered, Count("pk")), Value(0)),
        not_applicable_count=Coalesce(
            aggregate(per_assessment.filter(not_applicable=True), Count("pk")), Value(0)
        ),
        to_answer_count=Coalesce(to_answer, Value(0)),
        score_earned=aggregate(counted, Sum(_weighted_level)),
        score_possible=aggregate(counted, Sum(_weighted_max)),
    ).annotate(
        score_value=ExpressionWrapper(
            Value(100.0) * F("score_earned") / F("score_possible"), output_field=FloatField()
        )
    )


def section_scores(assessment_ids) -> dict[tuple[int, int], dict]:
    """Return {(assessment id, section id): {"earned", "possible", "answered", "score"}}.

    One aggregate query for any number of assessments.
    """
    rows = (
        _scored_answers()
        .filter(assessment_id__in=assessment_ids)
        .values("assessment_id", "measure__section_id")
        .annotate(
            answered=Count("pk", filter=Q(level__isnull=False) | Q(not_applicable=True)),
            earned=Sum(_weighted_level, filter=Q(level__isnull=False)),
            possible=Sum(_weighted_max, filter=Q(level__isnull=False)),
        )
        .order_by()
    )
    return {
        (row["assessment_id"], row["measure__section_id"]): {
            "answered": row["answered"],
            "earned": row["earned"] or 0,
            "possible": row["possible"] or 0,
            "score": score_from_sums(row["earned"] or 0, row["possible"]),
        }
        for row in rows
    }
