"""Averages to compare a body with: its prefecture, bodies of its kind, the nation.

An average is the mean of the bodies' own scores (each body counts once, whatever its size),
over the assessments of the same guideline and fiscal year that were submitted or approved.
Computed by the database in one grouped query per scope.
"""

from dataclasses import dataclass

from django.db import connection
from django.utils.translation import gettext_lazy as _

from assessments.models import MAX_LEVEL, Answer, Assessment, Body, Measure

COUNTED_STATUSES = (Assessment.Status.SUBMITTED, Assessment.Status.APPROVED)


@dataclass
class Averages:
    label: str
    bodies: int  # how many assessments the average is over
    overall: float | None
    sections: dict[int, float | None]  # section measure id → average score


def table(model) -> str:
    """The model's quoted table name, for the raw SQL of the averages."""
    return connection.ops.quote_name(model._meta.db_table)


# One assessment's score over the answers `a` joined to their measures `m` (as scoring.py).
SCORE_SQL = f"100.0 * SUM(m.weight * a.level) / SUM(m.weight * {MAX_LEVEL})"


def average_scores(
    guideline_id: int,
    fiscal_year: int,
    *,
    label: str = "",
    prefecture_id: int | None = None,
    kind: str | None = None,
    statuses=COUNTED_STATUSES,
) -> Averages:
    """Mean overall and per-section scores of the assessments in scope."""
    where = [
        "s.guideline_id = %s",
        "s.fiscal_year = %s",
        f"s.status IN ({', '.join(['%s'] * len(statuses))})",
    ]
    params: list = [guideline_id, fiscal_year, *statuses]
    if prefecture_id is not None:
        where.append("b.prefecture_id = %s")
        params.append(prefecture_id)
    if kind is not None:
        where.append("b.kind = %s")
        params.append(kind)
    base = f"""
        FROM {table(Answer)} a
        JOIN {table(Measure)} m ON m.id = a.measure_id
        JOIN {table(Assessment)} s ON s.id = a.assessment_id
        JOIN {table(Body)} b ON b.id = s.body_id
        WHERE {" AND ".join(where)} AND m.is_scored AND a.level IS NOT NULL
    """
    per_section = f"""
        SELECT section_id, AVG(score), COUNT(*) FROM (
            SELECT a.assessment_id, m.section_id AS section_id,
                   {SCORE_SQL} AS score
            {base}
            GROUP BY a.assessment_id, m.section_id
        ) per_assessment GROUP BY section_id
    """
    overall = f"""
        SELECT AVG(score), COUNT(*) FROM (
            SELECT a.assessment_id,
                   {SCORE_SQL} AS score
            {base}
            GROUP BY a.assessment_id
        ) per_assessment
    """
    with connection.cursor() as cursor:
        cursor.execute(per_section, params)
        sections = {row[0]: round_score(row[1]) for row in cursor.fetchall()}
        cursor.execute(overall, params)
        mean, count = cursor.fetchone()
    return Averages(label=label, bodies=count or 0, overall=round_score(mean), sections=sections)


def round_score(value) -> float | None:
    return None if value is None else round(float(value), 1)


def comparison_for(assessment: Assessment) -> list[Averages]:
    """The averages a body's assessment is shown against: its prefecture, its kind, the nation.

    For a prefecture's own assessment, "prefecture" compares with the other prefectures.
    """
    body = assessment.body
    common = {"guideline_id": assessment.guideline_id, "fiscal_year": assessment.fiscal_year}
    scopes = []
    if body.is_prefecture:
        scopes.append(
            average_scores(**common, label=str(_("都道府県平均")), kind=Body.Kind.PREFECTURE)
        )
    else:
        scopes.append(
            average_scores(
                **common,
                label=str(_("%(name)s平均") % {"name": body.prefecture.name}),
                prefecture_id=body.prefecture_id,
            )
        )
        scopes.append(
            average_scores(
                **common,
                label=str(_("%(name)s平均") % {"name": body.get_kind_display()}),
                kind=body.kind,
            )
        )
    scopes.append(average_scores(**common, label=str(_("全国平均"))))
    return scopes
