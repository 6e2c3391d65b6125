"""Published statistics (統計の公表): the public pages and downloads (no login: aggregates only,
never one body's answers), the national administrator's publish page with its dry run, and the
per-measure export of a round for the national tally (national administrators; reviewers see
their own prefecture's bodies)."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.db.models import Prefetch
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.http import content_disposition_header
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from assessments import access, publication
from assessments import fiscal_year as fy
from assessments.forms import CorrectionReopenForm, PublishStatisticsForm
from assessments.models import Assessment, ReleaseVersion, StatisticsRelease, SurveyRound
from assessments.reports import charts
from assessments.reports.statistics import statistics_filename
from assessments.selectors.statistics import (
    BY_CATEGORY,
    BY_PREFECTURE,
    PublishedTables,
    measure_export_dataset,
)

FILE_TYPES = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "pdf": "application/pdf",
}
# Everything but the stored data and files: what a list of versions needs.
LIGHT = ("data", "csv", "xlsx", "pdf")


def _release(number: int) -> tuple[StatisticsRelease, list[ReleaseVersion]]:
    release = get_object_or_404(
        StatisticsRelease.objects.select_related("survey_round__guideline"), number=number
    )
    versions = list(release.versions.defer(*LIGHT).order_by("number"))
    if not versions:
        raise Http404
    return release, versions


def _version_page(request, release, versions, version: ReleaseVersion, template: str, **extra):
    tables = PublishedTables(version.data)
    latest = versions[-1]
    return render(
        request,
        template,
        {
            "release": release,
            "versions": versions,
            "version": version,
            "latest": latest,
            "tables": tables,
            "fiscal_year_label": fy.label(tables.fiscal_year),
            "base_date": tables.base_date,
            **extra,
        },
    )


def _light_versions() -> Prefetch:
    return Prefetch("versions", queryset=ReleaseVersion.objects.defer(*LIGHT).order_by("number"))


@require_GET
def statistics_index(request):
    """Every release with its versions (public)."""
    releases = StatisticsRelease.objects.select_related("survey_round__guideline").prefetch_related(
        _light_versions()
    )
    return render(request, "assessments/statistics_index.html", {"releases": releases})


@require_GET
def statistics_release(request, number: int):
    """The release's latest version (public)."""
    release, versions = _release(number)
    return _version(request, release, versions, versions[-1].number)


@require_GET
def statistics_version(request, number: int, version: int):
    release, versions = _release(number)
    return _version(request, release, versions, version)


def _version(request, release, versions, number: int):
    version = get_object_or_404(ReleaseVersion.objects.all(), release=release, number=number)
    version.release = release
    tables = PublishedTables(version.data)
    columns = tables.columns[:-1]  # the chart shows the answers; 未回答 is in the tables
    chart = charts.distribution_bars(
        [(ref, counts[:-1]) for ref, counts in tables.overall()],
        [label for _key, label in columns],
        title=_("項目ごとの回答の内訳（全団体、未回答を除く）"),
    )
    corrections = list(version.corrections.all()) if version.is_correction else []
    return _version_page(
        request,
        release,
        versions,
        version,
        "assessments/statistics_version.html",
        category_tables=list(tables.tables(BY_CATEGORY)),
        chart=chart,
        corrections=corrections,
    )


@require_GET
def statistics_prefectures(request, number: int, version: int):
    """One measure's table by prefecture (a prefecture with its municipalities), public."""
    release, versions = _release(number)
    shown = get_object_or_404(ReleaseVersion.objects.all(), release=release, number=version)
    tables = PublishedTables(shown.data)
    measures = list(tables.tables(BY_PREFECTURE))
    ref = request.GET.get("measure") or measures[0].ref
    table = next((m for m in measures if m.ref == ref), None)
    if table is None:
        raise Http404
    return _version_page(
        request,
        release,
        versions,
        shown,
        "assessments/statistics_prefectures.html",
        measures=measures,
        table=table,
    )


@require_GET
def statistics_file(request, number: int, version: int, kind: str):
    """A version's CSV, XLSX or PDF exactly as it was published (public)."""
    if kind not in FILE_TYPES:
        raise Http404
    shown = get_object_or_404(
        ReleaseVersion.objects.select_related("release").only(
            "number", "data", kind, "release__number"
        ),
        release__number=number,
        number=version,
    )
    response = HttpResponse(shown.file(kind), content_type=FILE_TYPES[kind])
    response["Content-Disposition"] = content_disposition_header(
        True, statistics_filename(shown, kind)
    )
    return response


@login_required
@require_http_methods(["GET", "POST"])
def statistics_publish(request):
    """Publish a closed round (national administrators): preview what would change, then
    publish it as a new version."""
    access.require_national_admin(request.user)
    form = PublishStatisticsForm(request.POST or None)
    preview = None
    if request.method == "POST" and form.is_valid():
        survey_round = form.cleaned_data["survey_round"]
        if "publish" in request.POST:
            try:
                version = publication.statistics_publish(
                    survey_round=survey_round, user=request.user, note=form.cleaned_data["note"]
                )
            except ValidationError as error:
                form.add_error(None, error)
            else:
                messages.success(
                    request,
                    _("%(release)s 第%(n)s版を公表しました。")
                    % {"release": version.release, "n": version.number},
                )
                return redirect(version.get_absolute_url())
        preview = publication.publication_preview(survey_round)
    releases = StatisticsRelease.objects.select_related("survey_round__guideline").prefetch_related(
        _light_versions()
    )
    return render(
        request,
        "assessments/statistics_publish.html",
        {
            "form": form,
            "preview": preview,
            "reopen_form": CorrectionReopenForm(
                prefix="reopen",
                initial={"survey_round": preview.survey_round.pk} if preview else None,
            ),
            "releases": releases,
        },
    )


@login_required
@require_POST
def statistics_correction_reopen(request):
    """Reopen one approved assessment of a closed round for correction (national admins)."""
    access.require_national_admin(request.user)
    form = CorrectionReopenForm(request.POST, prefix="reopen")
    if form.is_valid():
        assessment = Assessment.objects.filter(
            survey_round=form.cleaned_data["survey_round"], body=form.cleaned_data["body"]
        ).first()
        try:
            if assessment is None:
                raise ValidationError(_("この調査回にその団体の自己評価はありません。"))
            publication.correction_reopen(
                assessment=assessment, user=request.user, reason=form.cleaned_data["reason"]
            )
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
        else:
            messages.success(
                request,
                _("%(body)s の自己評価を修正のため再開しました（差戻し）。")
                % {"body": assessment.body.name},
            )
    else:
        messages.error(request, " ".join(str(m) for errors in form.errors.values() for m in errors))
    return redirect("statistics_publish")


# --- Per-measure export for the national tally -------------------------------------------------


@login_required
@require_GET
def round_measure_export(request, guideline_code: str, fiscal_year: int, fmt: str):
    """Every body × measure of the round, CSV (UTF-8 with BOM) or XLSX, formula-safe: national
    administrators (all bodies), prefecture reviewers (their prefecture's)."""
    prefecture = access.round_prefecture_scope(request.user)
    if fmt not in ("csv", "xlsx"):
        raise Http404
    survey_round = get_object_or_404(
        SurveyRound.objects.select_related("guideline"),
        guideline__code=guideline_code,
        fiscal_year=fiscal_year,
    )
    dataset = measure_export_dataset(survey_round, prefecture=prefecture)
    if fmt == "csv":
        content = ("\ufeff" + dataset.export("csv")).encode("utf-8")
    else:
        content = dataset.export("xlsx")
    scope = prefecture.code if prefecture is not None else "all"
    response = HttpResponse(content, content_type=FILE_TYPES[fmt])
    response["Content-Disposition"] = content_disposition_header(
        True, f"measures_{guideline_code}_{fiscal_year}_{scope}.{fmt}"
    )
    response["Cache-Control"] = "private, no-store"
    return response
