"""The dashboard's table rows, written directly (`{% dashboard_rows rows sections %}`).

The national dashboard shows 50 rows and a prefecture's 200, each with 13–15 cells, two links
and their labels. Through the template language that was ~1,000 variable lookups, 100 `{% url %}`
and 100 `{% blocktranslate %}` a page: a third of the national dashboard's CPU besides its SQL
(issue 14: the page within 3× its raw SQL). This writes the same markup as plain strings, every
value escaped (`_e`); the labels, numbers and links come from the same places the template
took them from (models/labels.py, scoring.Score, rounds.due_state, the URL names).
"""

from collections.abc import Sequence
from html import escape

from django.urls import reverse
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _

from assessments import rounds, scoring
from assessments.models import Assessment, Body, Measure, User, labels


def _e(value) -> str:
    return "" if value is None else escape(str(value))


def _row(row, user: User) -> str:
    a: Assessment = row.assessment
    body = a.body
    name = _e(body.name)
    if body.prefecture is not None and user.is_national_admin:
        name = f"{_e(body.prefecture.name)} {name}"
    status = _e(labels.label(Assessment.Status, a.status))
    due = rounds.due_state(a)
    if due is not None and due.overdue:
        status += f'<br><span class="small text-danger fw-bold">{_e(due.remaining)}</span>'
    sections = "".join(
        f'<td class="text-end">{_e(scoring.display(value))}</td>' for value in row.sections
    )
    kwargs = {
        "body_code": body.code,
        "fiscal_year": a.fiscal_year,
        "guideline_code": a.guideline.code,
    }
    review = _e(reverse("review", kwargs=kwargs))
    comparison = _e(reverse("comparison", kwargs=kwargs))
    answers_label = _e(_("%(body)sの回答") % {"body": body.name})
    comparison_label = _e(_("%(body)sと平均の比較") % {"body": body.name})
    return (
        "<tr>"
        f"<td>{_e(body.code)}</td>"
        f'<th scope="row">{name}</th>'
        f"<td>{_e(labels.label(Body.Kind, body.kind))}</td>"
        f"<td>{status}</td>"
        f'<td class="text-end">{a.answered_count} / {a.to_answer_count}</td>'
        f'<td class="text-end">{_e(row.score)}</td>'
        f"{sections}"
        f'<td class="text-nowrap"><a href="{review}" aria-label="{answers_label}">{_e(_("回答"))}</a>'
        f' ・ <a href="{comparison}" aria-label="{comparison_label}">{_e(_("比較"))}</a></td>'
        "</tr>"
    )


def render_dashboard_rows(rows: Sequence, sections: Sequence[Measure], user: User) -> SafeString:
    """The <tr> of each dashboard row (selectors.dashboards.Row), or the one row saying none
    matched."""
    if not rows:
        message = _e(_("条件に合う自己評価はありません。"))
        return mark_safe(f'<tr><td colspan="{len(sections) + 7}">{message}</td></tr>')  # noqa: S308
    html = "".join(_row(row, user) for row in rows)
    return mark_safe(html)  # noqa: S308 — every value above went through _e
