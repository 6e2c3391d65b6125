"""What a score is, and how it is rounded and shown: the one definition every surface uses.

A measure answered with level L and weight W earns W × L out of W × 4. An assessment's score (and
a section's) is 100 × Σ(W × L) / Σ(W × 4) over its scored measures that have a level and apply to
the body's kind (assessments.applicability): 該当なし and unanswered measures are left out of both
sums, and so are answers kept from a measure that is no longer scored: they neither raise nor
lower a score. A score is None when nothing counts yet. An average (prefecture, kind, nation) is the mean of the bodies'
own scores, each body counting once.

Scores are kept exact (Decimal, or the database's float for averages) until they are shown; they
are shown rounded once, 四捨五入 to one decimal (`rounded`), on every page, export and PDF.
The database computes the sums: `totals()` gives the aggregate expressions that the querysets in
assessments.models annotate with, and `mean_scores()` averages per-assessment scores in groups.

A draft (not submitted or approved) has a *provisional* score (暫定): it is shown with its
progress and never ranked or averaged among results unless a user asks for drafts explicitly.
"""

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from django.db import connections
from django.db.models import Count, ExpressionWrapper, F, FloatField, IntegerField, Q, QuerySet, Sum
from django.db.models.expressions import Combinable
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from assessments.applicability import counted_q
from assessments.levels import MAX_LEVEL

FORMULA = gettext_lazy(
    "各項目のレベル（0〜4）に重みを掛けて合計し、すべて最高レベル4だった場合の合計で割って"
    "100点満点に換算します。「該当なし」と未回答の項目は計算から除きます。"
    "章ごとの点数も、その章の項目だけで同じように計算します。"
    "点数は小数第2位を四捨五入して表示します。"
    "計算できる項目がまだない点数は「—」と表示します。"
    "提出前（作成中・差戻し）の自己評価の点数は「暫定」と表示し、平均や順位には含めません。"
)

ONE_DECIMAL = Decimal("0.1")
# Averages come from the database as binary floats (6.25 may arrive as 6.2499999999): settle
# them to nine decimals before the one rounding, so an exact x.x5 always rounds up.
SETTLE = Decimal("1e-9")

Number = Decimal | float | int


def rounded(value: Number | None) -> Decimal | None:
    """四捨五入 to one decimal (6.25 → 6.3, 6.24 → 6.2): the only rounding of a score."""
    if value is None:
        return None
    exact = value if isinstance(value, Decimal) else Decimal(repr(float(value)))
    return exact.quantize(SETTLE, ROUND_HALF_UP).quantize(ONE_DECIMAL, ROUND_HALF_UP)


def display(value: Number | None) -> str:
    """A score as text: "6.3", or "—" when nothing counts yet."""
    result = rounded(value)
    return "—" if result is None else f"{result}"


def score_of(earned: int | None, possible: int | None) -> Decimal | None:
    """The exact score from the two sums, or None when no measure counts."""
    if not possible:
        return None
    return Decimal(100 * (earned or 0)) / Decimal(possible)


def percent(count: int, total: int) -> Decimal:
    """A share of bodies in percent, rounded the same way as scores (0 when there is none)."""
    if not total:
        return Decimal("0.0")
    return rounded(Decimal(100 * count) / Decimal(total)) or Decimal("0.0")


def difference(current: Number | None, previous: Number | None) -> Decimal | None:
    """The change between two scores as shown (rounded minus rounded, so the figures add up)."""
    now, before = rounded(current), rounded(previous)
    if now is None or before is None:
        return None
    return now - before


@dataclass(frozen=True)
class Score:
    """One assessment's score as every surface shows it: the value, and whether it is a draft's."""

    value: Decimal | None
    provisional: bool = False
    answered: int = 0
    to_answer: int = 0

    @property
    def rounded(self) -> Decimal | None:
        return rounded(self.value)

    @property
    def text(self) -> str:
        return display(self.value)

    @property
    def progress(self) -> str:
        return _("回答 %(answered)s / %(total)s") % {
            "answered": self.answered,
            "total": self.to_answer,
        }

    def __str__(self) -> str:
        """ "6.3", or "6.3（暫定・回答 12 / 35）" for a draft."""
        if not self.provisional:
            return self.text
        return _("%(score)s（暫定・%(progress)s）") % {
            "score": self.text,
            "progress": self.progress,
        }


# --- The sums, computed by the database ---------------------------------------------------------


# The body whose kind decides which measures count, from the model the sums are annotated on:
# an Assessment (its answers through "answers__") or an Answer (no prefix).
_BODY_KIND = {"answers__": "body__kind", "": "assessment__body__kind"}


def counted(prefix: str = "") -> Q:
    """Answers (through `prefix`) to measures that count: scored, and applying to the body."""
    return counted_q(measure=f"{prefix}measure__", kind=_BODY_KIND[prefix])


def score_sums(prefix: str = "") -> dict[str, Combinable]:
    """score_earned and score_possible over answers reached through `prefix` ("answers__")."""
    levelled = counted(prefix) & Q(**{f"{prefix}level__isnull": False})
    return {
        "score_earned": Sum(
            F(f"{prefix}level") * F(f"{prefix}measure__weight"),
            filter=levelled,
            output_field=IntegerField(),
        ),
        "score_possible": Sum(
            F(f"{prefix}measure__weight") * MAX_LEVEL, filter=levelled, output_field=IntegerField()
        ),
    }


def totals(prefix: str = "") -> dict[str, Combinable]:
    """score_sums, with answered_count (a level or 該当なし) and not_applicable_count, over
    the measures that count only (scored, and applying to the body)."""
    scored = counted(prefix)
    levelled = scored & Q(**{f"{prefix}level__isnull": False})
    not_applicable = scored & Q(**{f"{prefix}not_applicable": True})
    rows = prefix.removesuffix("__") or "pk"
    return {
        "answered_count": Count(rows, filter=levelled | not_applicable),
        "not_applicable_count": Count(rows, filter=not_applicable),
        **score_sums(prefix),
    }


def score_expression() -> ExpressionWrapper:
    """The score from the annotated sums, for ordering in the database (NULL when none count)."""
    return ExpressionWrapper(
        100.0 * F("score_earned") / F("score_possible"), output_field=FloatField()
    )


@dataclass(frozen=True)
class Mean:
    value: float | None
    bodies: int


def mean_scores(answers: QuerySet, by: Mapping[str, str | Combinable] | None = None) -> dict:
    """{group values: Mean} — the mean of per-assessment scores, grouped by the `by` columns.

    `answers` is an Answer queryset already narrowed to the assessments in scope; `by` names each
    group column and its answer lookup or expression ({"section": "measure__section_id"}); the
    keys of the result are tuples of their values (() with no grouping). One statement: the
    per-assessment sums (the ORM, with `totals`), averaged around them.
    """
    by = dict(by or {})
    per_assessment = (
        answers.filter(counted(), level__isnull=False)
        .values("assessment_id", **{k: F(v) if isinstance(v, str) else v for k, v in by.items()})
        .annotate(**score_sums())
        .order_by()
    )
    inner, params = per_assessment.query.sql_with_params()
    connection = connections[answers.db]
    quote = connection.ops.quote_name
    columns = [quote(k) for k in by]
    group = f"GROUP BY {', '.join(columns)}" if columns else ""
    sql = (
        f"SELECT {''.join(c + ', ' for c in columns)}"
        f"AVG(100.0 * {quote('score_earned')} / {quote('score_possible')}), COUNT(*) "
        f"FROM ({inner}) per_assessment {group}"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        # PostgreSQL averages numerics (Decimal), SQLite floats: one type for every caller.
        return {
            tuple(row[: len(by)]): Mean(None if row[-2] is None else float(row[-2]), row[-1] or 0)
            for row in cursor.fetchall()
        }
