"""Dashboards for prefecture reviewers (their prefecture) and national administrators (all).

Body staff and viewers have no dashboard of other bodies: 403. Each view reads the same GET
filters (guideline, fiscal year, prefecture, kind, status, sort), asks assessments/dashboards.py
for the numbers and renders a table beside every chart.
"""

import io

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from assessments import access, levels
from assessments.forms import FilterForm
from assessments.models import Assessment, Body
from assessments.reports import charts
from assessments.scoring import FORMULA
from assessments.selectors import comparisons, dashboards

NATIONAL_PAGE_SIZE = 50
PREFECTURE_PAGE_SIZE = 200  # a prefecture's bodies on one page (北海道: 180)


def _filters(request):
    access.require_dashboard_user(request.user)
    form = FilterForm(request.GET or None, user=request.user)
    filters = form.filters()
    query = request.GET.copy()
    query.pop("page", None)
    return form, filters, query.urlencode()


def _page(request, filters, sections, count: int):
    """The requested page of ids, and its rows with their overall and section scores. `count`
    is the number of filtered assessments (counted without the score join: same rows)."""
    size = PREFECTURE_PAGE_SIZE if request.user.is_prefecture_reviewer else NATIONAL_PAGE_SIZE
    if filters.prefecture is not None:
        size = PREFECTURE_PAGE_SIZE
    paginator = Paginator(dashboards.ordered_ids(request.user, filters), size)
    paginator.count = count
    page = paginator.get_page(request.GET.get("page"))
    return page, dashboards.rows_for_page(page.object_list, filters.guideline, sections)


@login_required
@require_GET
def dashboard(request):
    """Bodies in scope with status, overall and section scores; filters, sorting, pages."""
    form, filters, query = _filters(request)
    sections = dashboards.scored_sections(filters.guideline)
    counts = dashboards.status_counts(dashboards.filtered_assessments(request.user, filters))
    page, rows = _page(request, filters, sections, sum(counts.values()))
    return render(
        request,
        "assessments/dashboard.html",
        {
            "form": form,
            "filters": filters,
            "query": query,
            "page": page,
            "rows": rows,
            "sections": sections,
            "status_counts": [(label, counts[value]) for value, label in Assessment.Status.choices],
            "total": sum(counts.values()),
            "formula": FORMULA,
            "report_prefecture": (
                request.user.body if request.user.is_prefecture_reviewer else filters.prefecture
            ),
        },
    )


@login_required
@require_GET
def dashboard_heatmap(request):
    """Bodies × sections, coloured by score (the same page of bodies as the dashboard)."""
    form, filters, query = _filters(request)
    sections = dashboards.scored_sections(filters.guideline)
    count = dashboards.filtered_assessments(request.user, filters).count()
    page, rows = _page(request, filters, sections, count)
    svg = charts.heatmap(
        [(row.assessment.body.name, row.sections) for row in rows],
        [s.ref for s in sections],
        title=_("団体×章の点数（ヒートマップ）"),
    )
    return render(
        request,
        "assessments/dashboard_heatmap.html",
        {
            "form": form,
            "filters": filters,
            "query": query,
            "page": page,
            "rows": rows,
            "sections": sections,
            "chart": svg,
            "formula": FORMULA,
        },
    )


@login_required
@require_GET
def dashboard_distribution(request):
    """Per measure, how many bodies of each kind are at each level: "N団体 (x%)"."""
    form, filters, query = _filters(request)
    kinds, measures = dashboards.level_distribution(request.user, filters)
    columns = levels.columns()
    svg = charts.distribution_bars(
        [(d.measure.ref, d.overall) for d in measures],
        [str(label) for _c, label in columns],
        title=_("項目ごとのレベルの分布（全区分）"),
    )
    return render(
        request,
        "assessments/dashboard_distribution.html",
        {
            "form": form,
            "filters": filters,
            "query": query,
            "kinds": [(kind, Body.Kind(kind).label) for kind in kinds],
            "measures": measures,
            "columns": columns,
            "chart": svg,
        },
    )


@login_required
@require_GET
def dashboard_prefectures(request):
    """Averages by prefecture and by kind, and each body's change since the previous year.

    A national administrator compares the prefectures (and, choosing one, its bodies); a
    prefecture reviewer sees its own prefecture beside the national average, its kinds of body
    and each of its bodies this year against last year.
    """
    form, filters, query = _filters(request)
    user = request.user
    prefecture = filters.prefecture if user.is_national_admin else user.body
    averages = {"kind": filters.kind, "include_drafts": filters.include_drafts}
    if user.is_national_admin:
        prefectures = dashboards.prefecture_averages(
            filters.guideline, filters.fiscal_year, **averages
        )
    else:
        prefectures = [
            *dashboards.prefecture_averages(
                filters.guideline, filters.fiscal_year, prefectures=[prefecture], **averages
            ),
            dashboards.national_average(filters.guideline, filters.fiscal_year, **averages),
        ]
    kinds = dashboards.kind_averages(
        filters.guideline,
        filters.fiscal_year,
        include_drafts=filters.include_drafts,
        prefecture=prefecture,
    )
    changes = dashboards.body_changes(user, filters, prefecture) if prefecture is not None else None
    chart = charts.grouped_bar_chart(
        [row.label for row in prefectures],
        [
            (
                _("%(year)s年度") % {"year": filters.fiscal_year - 1},
                [r.previous for r in prefectures],
            ),
            (_("%(year)s年度") % {"year": filters.fiscal_year}, [r.current for r in prefectures]),
        ],
        title=_("都道府県別の平均点（前年度との比較）")
        if user.is_national_admin
        else _("%(prefecture)sと全国の平均点（前年度との比較）") % {"prefecture": prefecture.name},
    )
    return render(
        request,
        "assessments/dashboard_prefectures.html",
        {
            "form": form,
            "filters": filters,
            "query": query,
            "prefecture": prefecture,
            "prefectures": prefectures,
            "kinds": kinds,
            "changes": changes,
            "chart": chart,
            "formula": FORMULA,
        },
    )


EXPORT_TYPES = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}


@login_required
@require_GET
def dashboard_export(request, fmt: str):
    """The dashboard's rows as CSV (UTF-8 with BOM, for Excel) or XLSX; no formulas."""
    if fmt not in EXPORT_TYPES:
        raise Http404
    _form, filters, _query = _filters(request)
    dataset = dashboards.export_dataset(request.user, filters)
    if fmt == "csv":
        content = ("\ufeff" + dataset.export("csv")).encode("utf-8")
    else:
        buffer = io.BytesIO(dataset.export("xlsx"))
        content = buffer.getvalue()
    filename = f"dashboard-{filters.guideline.code}-{filters.fiscal_year}.{fmt}"
    response = HttpResponse(content, content_type=EXPORT_TYPES[fmt])
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


@login_required
@require_GET
def comparison(request, body_code: str, fiscal_year: int, guideline_code: str):
    """One body's scores beside its prefecture's, its kind's and the national average."""
    assessment = access.get_assessment_for_user(
        request.user, body_code, fiscal_year, guideline_code
    )
    data = comparisons.comparison(assessment)
    categories, series = data.categories, data.series
    return render(
        request,
        "assessments/dashboard_comparison.html",
        {
            "assessment": data.assessment,
            "sections": data.sections,
            "series": series,
            "categories": categories,
            "table": data.table,
            "averages": data.averages,
            "bar_chart": charts.grouped_bar_chart(
                categories, series, title=_("平均との比較（総合・章別）")
            ),
            "radar_chart": charts.radar_chart(
                [s.ref for s in data.sections],
                [(name, values[1:]) for name, values in series],
                title=_("章別の点数（レーダーチャート）"),
            ),
            "formula": FORMULA,
        },
    )
