"""Which kinds of body a measure applies to, as a filter every count of measures goes through.

A measure applies to every body, to prefectures only or to municipalities only (2000 guideline
5.4 都道府県の役割 asks a prefecture to support its municipalities). A measure that does not apply
to a body's kind is not shown to it and counts in none of its figures: progress, score, and the
denominators of dashboards and statistics. `applicable_q` is the one definition.
"""

from django.db.models import Q, TextChoices
from django.utils.translation import gettext_lazy as _

# The value of BodyKind.PREFECTURE (assessments.models.registry, a layer above this vocabulary);
# tests/test_catalog_corrections.py checks that the two agree.
PREFECTURE_KIND = "prefecture"


class AppliesTo(TextChoices):
    ALL = "all", _("すべての団体")
    PREFECTURES = "prefectures", _("都道府県のみ")
    MUNICIPALITIES = "municipalities", _("市区町村のみ")


def values_for_kind(kind: str) -> tuple[str, str]:
    """The applies_to values that include a body of `kind` (a BodyKind value)."""
    own = AppliesTo.PREFECTURES if kind == PREFECTURE_KIND else AppliesTo.MUNICIPALITIES
    return (AppliesTo.ALL.value, own.value)


def applies(applies_to: str, *, prefecture: bool) -> bool:
    """Whether a measure with `applies_to` applies to a prefecture (or else a municipality)."""
    return applies_to in values_for_kind(PREFECTURE_KIND if prefecture else "")


def applicable_q(*, measure: str = "", kind: str) -> Q:
    """Measures (reached through the `measure` prefix, e.g. "measure__") that apply to the body
    whose kind is the lookup `kind` (e.g. "assessment__body__kind")."""
    prefecture = Q(**{kind: PREFECTURE_KIND})
    applies_to = f"{measure}applies_to"
    return (
        Q(**{applies_to: AppliesTo.ALL})
        | (Q(**{applies_to: AppliesTo.PREFECTURES}) & prefecture)
        | (Q(**{applies_to: AppliesTo.MUNICIPALITIES}) & ~prefecture)
    )


def counted_q(*, measure: str = "", kind: str) -> Q:
    """Scored measures that apply to the body: what progress, scores and denominators count."""
    return Q(**{f"{measure}is_scored": True}) & applicable_q(measure=measure, kind=kind)
