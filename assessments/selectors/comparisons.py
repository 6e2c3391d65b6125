"""Averages to compare a body with: its prefecture, bodies of its kind, the nation.

An average is the mean of the bodies' own scores (each body counts once, whatever its size), over
the results (submitted or approved assessments) of the same guideline and fiscal year, computed
by the database (Assessment.objects.mean_scores) in one statement per figure.
"""

from dataclasses import dataclass, field

from django.utils.translation import gettext as _

from assessments import scoring
from assessments.models import Answer, Assessment, Body, Measure
from assessments.models.assessments import SectionTotals


@dataclass
class Averages:
    label: str
    bodies: int  # how many assessments the average is over
    overall: float | None
    sections: dict[int, float | None] = field(default_factory=dict)  # section id → average


def average_scores(
    guideline_id: int,
    fiscal_year: int,
    *,
    label: str = "",
    prefecture: Body | None = None,
    kind: str | None = None,
    include_drafts: bool = False,
    municipalities: bool = False,
) -> Averages:
    """Mean overall and per-section scores of the results in scope (two statements).

    `prefecture` scopes to its municipalities (not the prefecture itself); `municipalities`
    leaves the prefectures' own assessments out of a national figure.
    """
    scope = Assessment.objects.of_round(guideline_id, fiscal_year).results(
        include_drafts=include_drafts
    )
    if prefecture is not None:
        scope = scope.of_prefecture(prefecture, itself=False)
    if kind is not None:
        scope = scope.filter(body__kind=kind)
    if municipalities:
        scope = scope.exclude(body__kind=Body.Kind.PREFECTURE)
    overall = scope.mean_scores().get((), scoring.Mean(None, 0))
    sections = scope.mean_scores({"section": "measure__section_id"})
    return Averages(
        label=label,
        bodies=overall.bodies,
        overall=overall.value,
        sections={key[0]: mean.value for key, mean in sections.items()},
    )


def comparison_for(assessment: Assessment) -> list[Averages]:
    """The averages a body's assessment is shown against: its prefecture, its kind, the nation.

    For a prefecture's own assessment, "prefecture" compares with the other prefectures.
    """
    body = assessment.body
    year = (assessment.guideline_id, assessment.fiscal_year)
    scopes = []
    if body.prefecture is None:
        scopes.append(average_scores(*year, label=_("都道府県平均"), kind=Body.Kind.PREFECTURE))
    else:
        name = body.prefecture.name
        own_prefecture = _("%(name)s平均") % {"name": name}
        scopes.append(average_scores(*year, label=own_prefecture, prefecture=body.prefecture))
        kind_label = _("%(name)s平均") % {"name": body.get_kind_display()}
        scopes.append(average_scores(*year, label=kind_label, kind=body.kind))
    scopes.append(average_scores(*year, label=_("全国平均")))
    return scopes


@dataclass
class Comparison:
    """One body's overall and section scores beside the averages, as table and chart series."""

    assessment: Assessment
    sections: list[Measure]
    averages: list[Averages]
    categories: list[str]
    series: list[tuple[str, list]]  # (name, [overall, section 1, …]) — own first

    @property
    def table(self) -> list[tuple[str, list]]:
        return [
            (category, [values[i] for _name, values in self.series])
            for i, category in enumerate(self.categories)
        ]


def comparison(assessment: Assessment) -> Comparison:
    """The comparison page's figures for `assessment` (the same numbers as its PDF)."""
    scored = (
        Assessment.objects.with_scores()
        .select_related("body__prefecture", "guideline")
        .get(pk=assessment.pk)
    )
    sections = list(
        Measure.objects.filter(guideline=assessment.guideline_id).scored_sections(scored.body.kind)
    )
    own = Answer.objects.section_totals([assessment.pk])
    averages = comparison_for(scored)
    own_series = (
        scored.body.name,
        [scored.score.value]
        + [own.get((scored.pk, s.pk), SectionTotals()).score for s in sections],
    )
    series = [own_series] + [
        (a.label, [a.overall] + [a.sections.get(s.pk) for s in sections]) for a in averages
    ]
    return Comparison(
        assessment=scored,
        sections=sections,
        averages=averages,
        categories=[_("総合")] + [f"{s.ref} {s.title}" for s in sections],
        series=series,
    )
