"""Dashboards for prefecture reviewers (their prefecture) and national administrators (all).

Body staff and viewers have no dashboard of other bodies: 403. Each view reads the same GET
filters (guideline, fiscal year, prefecture, kind, status, sort), asks assessments/dashboards.py
for the numbers and renders a table beside every chart.
"""

import io

import tablib
from django import forms
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET

from assessments import access, charts, comparisons, dashboards
from assessments.fiscal_year import current_fiscal_year
from assessments.models import Assessment, Body, Guideline
from assessments.scoring import FORMULA, score_from_sums, section_scores
from assessments.spreadsheets import neutralize

NATIONAL_PAGE_SIZE = 50
PREFECTURE_PAGE_SIZE = 200  # a prefecture's bodies on one page (北海道: 180)
DEFAULT_GUIDELINE = "egov-2003"

SORT_CHOICES = [
    ("code", gettext_lazy("団体コード順")),
    ("name", gettext_lazy("団体名（かな）順")),
    ("status", gettext_lazy("状態順")),
    ("-score", gettext_lazy("総合点の高い順")),
    ("score", gettext_lazy("総合点の低い順")),
]


def _require_dashboard_user(user):
    if not (user.is_national_admin or user.is_prefecture_reviewer):
        raise PermissionDenied


class FilterForm(forms.Form):
    guideline = forms.ModelChoiceField(
        label=gettext_lazy("指針"),
        queryset=Guideline.objects.order_by("-issued_on"),
        to_field_name="code",
        required=False,
        empty_label=None,
    )
    fiscal_year = forms.TypedChoiceField(label=gettext_lazy("年度"), coerce=int, required=False)
    prefecture = forms.ModelChoiceField(
        label=gettext_lazy("都道府県"),
        queryset=Body.objects.prefectures().order_by("code"),
        to_field_name="code",
        required=False,
        empty_label=gettext_lazy("すべて"),
    )
    kind = forms.ChoiceField(
        label=gettext_lazy("区分"),
        choices=[("", gettext_lazy("すべて")), *Body.Kind.choices],
        required=False,
    )
    status = forms.ChoiceField(
        label=gettext_lazy("状態"),
        choices=[("", gettext_lazy("すべて")), *Assessment.Status.choices],
        required=False,
    )
    sort = forms.ChoiceField(label=gettext_lazy("並び順"), choices=SORT_CHOICES, required=False)

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        this_year = current_fiscal_year()
        self.fields["fiscal_year"].choices = [
            (year, _("%(year)s年度") % {"year": year}) for year in range(this_year + 1, 2002, -1)
        ]
        self.fields["fiscal_year"].initial = this_year
        self.fields["guideline"].initial = DEFAULT_GUIDELINE
        if not user.is_national_admin:
            del self.fields["prefecture"]  # a reviewer's scope is their prefecture
        for field in self.fields.values():
            field.widget.attrs["class"] = "form-select"

    def filters(self) -> dashboards.Filters:
        """The filters to apply: the valid fields, defaults for the rest."""
        data = {}
        if self.is_bound:
            self.is_valid()
            data = {k: v for k, v in self.cleaned_data.items() if k not in self.errors}
        guideline = data.get("guideline") or Guideline.objects.get(code=DEFAULT_GUIDELINE)
        return dashboards.Filters(
            guideline=guideline,
            fiscal_year=data.get("fiscal_year") or current_fiscal_year(),
            prefecture=data.get("prefecture"),
            kind=data.get("kind") or "",
            status=data.get("status") or "",
            sort=data.get("sort") or "code",
        )


def _filters(request):
    _require_dashboard_user(request.user)
    form = FilterForm(request.GET or None, user=request.user)
    filters = form.filters()
    query = request.GET.copy()
    query.pop("page", None)
    return form, filters, query.urlencode()


def _page(request, filters):
    """The requested page of ids, and its rows with their scores."""
    size = PREFECTURE_PAGE_SIZE if request.user.is_prefecture_reviewer else NATIONAL_PAGE_SIZE
    if filters.prefecture is not None:
        size = PREFECTURE_PAGE_SIZE
    paginator = Paginator(dashboards.ordered_ids(request.user, filters), size)
    # Counted without the score join (same number of rows, much cheaper).
    paginator.count = dashboards.filtered_assessments(request.user, filters).count()
    page = paginator.get_page(request.GET.get("page"))
    return page, dashboards.rows_for_page(page.object_list, filters.guideline)


@login_required
@require_GET
def dashboard(request):
    """Bodies in scope with status, overall and section scores; filters, sorting, pages."""
    form, filters, query = _filters(request)
    page, assessments = _page(request, filters)
    sections = dashboards.scored_sections(filters.guideline)
    counts = dashboards.status_counts(dashboards.filtered_assessments(request.user, filters))
    return render(
        request,
        "assessments/dashboard.html",
        {
            "form": form,
            "filters": filters,
            "query": query,
            "page": page,
            "rows": dashboards.rows_with_sections(assessments, sections),
            "sections": sections,
            "status_counts": [(label, counts[value]) for value, label in Assessment.Status.choices],
            "total": sum(counts.values()),
            "formula": FORMULA,
        },
    )


@login_required
@require_GET
def dashboard_heatmap(request):
    """Bodies × sections, coloured by score (the same page of bodies as the dashboard)."""
    form, filters, query = _filters(request)
    page, assessments = _page(request, filters)
    sections = dashboards.scored_sections(filters.guideline)
    rows = dashboards.rows_with_sections(assessments, sections)
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
    columns = dashboards.level_columns()
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
    """National administrators: each prefecture's and each kind's average, and the change."""
    if not request.user.is_national_admin:
        raise PermissionDenied
    form, filters, query = _filters(request)
    prefectures = dashboards.prefecture_averages(
        filters.guideline, filters.fiscal_year, kind=filters.kind
    )
    kinds = dashboards.kind_averages(filters.guideline, filters.fiscal_year)
    chart = charts.grouped_bar_chart(
        [row.label for row in prefectures],
        [
            (
                _("%(year)s年度") % {"year": filters.fiscal_year - 1},
                [r.previous for r in prefectures],
            ),
            (_("%(year)s年度") % {"year": filters.fiscal_year}, [r.current for r in prefectures]),
        ],
        title=_("都道府県別の平均点（前年度との比較）"),
    )
    return render(
        request,
        "assessments/dashboard_prefectures.html",
        {
            "form": form,
            "filters": filters,
            "query": query,
            "prefectures": prefectures,
            "kinds": kinds,
            "chart": chart,
            "formula": FORMULA,
        },
    )


EXPORT_TYPES = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}


def export_dataset(user, filters) -> tablib.Dataset:
    """The dashboard's rows (all pages) as a dataset; every text cell neutralised."""
    sections = dashboards.scored_sections(filters.guideline)
    assessments = dashboards.dashboard_rows(user, filters)
    ids = dashboards.filtered_assessments(user, filters).values("pk")
    rows = dashboards.rows_with_sections(assessments, sections, ids=ids)
    headers = [
        _("団体コード"),
        _("団体名"),
        _("都道府県"),
        _("区分"),
        _("年度"),
        _("指針"),
        _("状態"),
        _("回答済み"),
        _("対象項目数"),
        _("該当なし"),
        _("総合点"),
        *[f"{s.ref} {s.title}" for s in sections],
    ]
    dataset = tablib.Dataset(headers=[neutralize(h) for h in headers], title="dashboard")
    for row in rows:
        a = row.assessment
        prefecture = a.body.prefecture.name if a.body.prefecture_id else a.body.name
        dataset.append(
            [
                neutralize(value)
                for value in (
                    a.body.code,
                    a.body.name,
                    prefecture,
                    a.body.get_kind_display(),
                    a.fiscal_year,
                    a.guideline.code,
                    a.get_status_display(),
                    a.answered_count,
                    a.to_answer_count,
                    a.not_applicable_count,
                    row.score,
                    *row.sections,
                )
            ]
        )
    return dataset


@login_required
@require_GET
def dashboard_export(request, fmt: str):
    """The dashboard's rows as CSV (UTF-8 with BOM, for Excel) or XLSX; no formulas."""
    if fmt not in EXPORT_TYPES:
        raise Http404
    _form, filters, _query = _filters(request)
    dataset = export_dataset(request.user, filters)
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
    sections = dashboards.scored_sections(assessment.guideline)
    scored = Assessment.objects.filter(pk=assessment.pk).with_scores().get()
    own = section_scores([assessment.pk])
    averages = comparisons.comparison_for(assessment)
    own_series = (
        assessment.body.name,
        [score_from_sums(scored.score_earned, scored.score_possible)]
        + [own.get((assessment.pk, s.pk), {}).get("score") for s in sections],
    )
    series = [own_series] + [
        (a.label, [a.overall] + [a.sections.get(s.pk) for s in sections]) for a in averages
    ]
    categories = [_("総合")] + [f"{s.ref} {s.title}" for s in sections]
    return render(
        request,
        "assessments/dashboard_comparison.html",
        {
            "assessment": assessment,
            "sections": sections,
            "series": series,
            "categories": categories,
            "table": [
                (category, [values[i] for _name, values in series])
                for i, category in enumerate(categories)
            ],
            "averages": averages,
            "bar_chart": charts.grouped_bar_chart(
                categories, series, title=_("平均との比較（総合・章別）")
            ),
            "radar_chart": charts.radar_chart(
                [s.ref for s in sections],
                [(name, values[1:]) for name, values in series],
                title=_("章別の点数（レーダーチャート）"),
            ),
            "formula": FORMULA,
        },
    )
