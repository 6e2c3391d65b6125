"""Reports and spreadsheets: the assessment PDF, the prefecture summary, batch ZIPs, and the
offline XLSX questionnaire (download, upload with preview, apply)."""

import secrets

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import FileResponse, Http404, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.template.loader import render_to_string
from django.utils.http import content_disposition_header
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from assessments import access
from assessments import fiscal_year as fy
from assessments.models import Assessment, Body, Guideline, ReportBatch, ReportRender
from assessments.questionnaire import build as xlsx_build
from assessments.questionnaire import upload as xlsx_upload
from assessments.reports import batch, pdf
from assessments.reports import render as pdf_render
from assessments.spreadsheets import SpreadsheetError

XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
SESSION_KEY = "questionnaire-upload:{pk}"


def _attachment(data: bytes, filename: str, content_type: str) -> HttpResponse:
    response = HttpResponse(data, content_type=content_type)
    response["Content-Disposition"] = content_disposition_header(True, filename)
    response["Cache-Control"] = "private, no-store"
    return response


def _prefecture_for_reviewer(user, prefecture_code: str, fiscal_year: int) -> Body:
    """The prefecture (see access.get_prefecture_for_reviewer), for a fiscal year in range."""
    if not fy.MIN_FISCAL_YEAR <= fiscal_year <= fy.MAX_FISCAL_YEAR:
        raise Http404
    return access.get_prefecture_for_reviewer(user, prefecture_code)


def _batch_for_reviewer(user, batch_id) -> ReportBatch:
    batch_obj = get_object_or_404(
        ReportBatch.objects.select_related("prefecture", "guideline"), public_id=batch_id
    )
    access.get_prefecture_for_reviewer(user, batch_obj.prefecture.code)
    return batch_obj


# --- Assessment PDF ----------------------------------------------------------------------------


def _wants_json(request) -> bool:
    return request.headers.get("Accept") == "application/json"


@login_required
@require_GET
def report_pdf(request, body_code: str, fiscal_year: int, guideline_code: str):
    """The PDF from the cache, or the progress of its render by the worker (a page that starts
    the download when it is done; JSON for the page's script)."""
    assessment = access.get_assessment_for_user(
        request.user, body_code, fiscal_year, guideline_code
    )
    outcome = pdf_render.cached_pdf_or_render(assessment, user=request.user)
    if isinstance(outcome, bytes) and not _wants_json(request):
        return _attachment(outcome, pdf.report_filename(assessment), "application/pdf")
    render_obj = outcome if isinstance(outcome, ReportRender) else None
    context = {
        "assessment": assessment,
        "render": render_obj,
        "may_retry": access.can_fill(request.user, assessment),
    }
    response: HttpResponse
    if _wants_json(request):
        response = JsonResponse(_render_state(request, context))
    else:
        response = render(request, "assessments/report_render.html", context)
    response["Cache-Control"] = "no-store"
    return response


def _render_state(request, context: dict) -> dict:
    render_obj: ReportRender | None = context["render"]
    status = render_obj.status if render_obj else ReportRender.Status.DONE
    label = render_obj.get_status_display() if render_obj else ReportRender.Status.DONE.label
    return {
        "status": status,
        # Ready: the next GET of the page's URL is the PDF itself.
        "ready": render_obj is None,
        "failed": status == ReportRender.Status.FAILED,
        "html": render_to_string(
            "assessments/includes/_render_state.html", context, request=request
        ),
        "announcement": _("報告書（PDF）: %(status)s") % {"status": label},
    }


@login_required
@require_POST
def report_pdf_retry(request, body_code: str, fiscal_year: int, guideline_code: str):
    """Render a failed PDF again: the body's staff only, and only when they ask."""
    assessment: Assessment = access.get_assessment_for_user(
        request.user, body_code, fiscal_year, guideline_code
    )
    if not access.can_fill(request.user, assessment):
        raise PermissionDenied
    outcome = pdf_render.cached_pdf_or_render(assessment, user=request.user)
    if isinstance(outcome, ReportRender) and pdf_render.report_render_retry(render=outcome):
        messages.success(request, _("報告書（PDF）の作成をもう一度開始しました。"))
    return redirect("report_pdf", **assessment.url_kwargs)


@login_required
@require_GET
def prefecture_summary_pdf(request, prefecture_code: str, fiscal_year: int, guideline_code: str):
    prefecture = _prefecture_for_reviewer(request.user, prefecture_code, fiscal_year)
    guideline = get_object_or_404(Guideline, code=guideline_code)
    data = pdf.cached_prefecture_summary_pdf(prefecture, guideline, fiscal_year)
    return _attachment(
        data,
        pdf.summary_filename(prefecture, guideline=guideline, fiscal_year=fiscal_year),
        "application/pdf",
    )


# --- Batches -----------------------------------------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
def report_batches(request, prefecture_code: str, fiscal_year: int, guideline_code: str):
    """The prefecture's batch jobs for this year and guideline; POST starts a new one."""
    prefecture = _prefecture_for_reviewer(request.user, prefecture_code, fiscal_year)
    guideline = get_object_or_404(Guideline, code=guideline_code)
    if request.method == "POST":
        started = batch.report_batch_start(
            prefecture=prefecture, guideline=guideline, fiscal_year=fiscal_year, user=request.user
        )
        messages.success(request, _("帳票の一括作成を受け付けました。"))
        return redirect("report_batch_detail", batch_id=started.public_id)
    batches = ReportBatch.objects.filter(
        prefecture=prefecture, guideline=guideline, fiscal_year=fiscal_year
    ).select_related("requested_by")[:20]
    return render(
        request,
        "assessments/report_batches.html",
        {
            "prefecture": prefecture,
            "guideline": guideline,
            "fiscal_year": fiscal_year,
            "batches": batches,
        },
    )


@login_required
@require_GET
def report_batch_detail(request, batch_id):
    """The batch's progress; asked for JSON (by the page's script), its state block alone."""
    batch_obj = _batch_for_reviewer(request.user, batch_id)
    context = {
        "batch": batch_obj,
        "zip_name": pdf.batch_filename(
            batch_obj.prefecture, batch_obj.fiscal_year, batch_obj.guideline
        ),
        "error": batch_obj.error,
    }
    if request.headers.get("Accept") == "application/json":
        state = {"done": batch_obj.done, "total": batch_obj.total}
        response = JsonResponse(
            {
                "status": batch_obj.status,
                "finished": batch_obj.is_finished,
                "html": render_to_string(
                    "assessments/includes/_batch_state.html", context, request=request
                ),
                "announcement": _("一括作成: %(status)s（%(done)s / %(total)s）")
                % {"status": batch_obj.get_status_display(), **state},
            }
        )
        response["Cache-Control"] = "no-store"
        return response
    return render(request, "assessments/report_batch.html", context)


@login_required
@require_GET
def report_batch_zip(request, batch_id):
    batch_obj = _batch_for_reviewer(request.user, batch_id)
    storage = batch.batch_storage()
    done = batch_obj.status == ReportBatch.Status.DONE and batch_obj.zip_name
    if not done or not storage.exists(batch_obj.zip_name):
        raise Http404
    name = pdf.batch_filename(batch_obj.prefecture, batch_obj.fiscal_year, batch_obj.guideline)
    return FileResponse(storage.open(batch_obj.zip_name, "rb"), as_attachment=True, filename=name)


# --- Questionnaire -----------------------------------------------------------------------------


@login_required
@require_GET
def questionnaire_xlsx(request, body_code: str, fiscal_year: int, guideline_code: str):
    assessment = access.get_assessment_for_user(
        request.user, body_code, fiscal_year, guideline_code
    )
    data = xlsx_build.build_questionnaire(assessment)
    return _attachment(data, pdf.report_filename(assessment, "xlsx"), XLSX_TYPE)


@login_required
@require_http_methods(["GET", "POST"])
def questionnaire_upload(request, body_code: str, fiscal_year: int, guideline_code: str):
    """Upload a filled questionnaire and see exactly what it would change (nothing saved yet)."""
    assessment = access.get_rw_assessment_for_user(
        request.user, body_code, fiscal_year, guideline_code
    )
    context = {"assessment": assessment, "errors": [], "result": None}
    if request.method == "POST":
        upload = request.FILES.get("file")
        try:
            if upload is None:
                raise SpreadsheetError(_("ファイルを選んでください。"))
            if upload.size > settings.QUESTIONNAIRE_MAX_BYTES:
                raise SpreadsheetError(_("ファイルが大きすぎます。"))
            result = xlsx_upload.read_questionnaire(upload.read(), assessment)
        except SpreadsheetError as exc:
            context["errors"] = [str(exc)]
        else:
            context["errors"] = result.errors
            if not result.errors:
                token = secrets.token_urlsafe(16)
                request.session[SESSION_KEY.format(pk=assessment.pk)] = {
                    "token": token,
                    **result.as_session(),
                }
                context.update(result=result, token=token)
        status = 400 if context["errors"] else 200
        return render(request, "assessments/questionnaire_upload.html", context, status=status)
    return render(request, "assessments/questionnaire_upload.html", context)


@login_required
@require_POST
def questionnaire_apply(request, body_code: str, fiscal_year: int, guideline_code: str):
    """Apply a previewed upload: all or nothing; conflicts only when confirmed one by one."""
    assessment = access.get_rw_assessment_for_user(
        request.user, body_code, fiscal_year, guideline_code
    )
    pending = request.session.get(SESSION_KEY.format(pk=assessment.pk))
    upload_url = "questionnaire_upload"
    if not pending or not secrets.compare_digest(pending["token"], request.POST.get("token", "")):
        messages.error(
            request, _("取り込みの確認が見つかりません。もう一度アップロードしてください。")
        )
        return redirect(upload_url, **assessment.url_kwargs)
    confirmed = set(request.POST.getlist("confirm"))
    unconfirmed = [
        c for c in pending["changes"] if c["conflict"] and str(c["measure"]) not in confirmed
    ]
    if unconfirmed:
        # The same preview again, with the boxes already ticked still ticked.
        error = _(
            "ダウンロード後にほかの人が変更した項目があります。上書きする項目をすべて確認してください（%(n)s件未確認）。"
        ) % {"n": len(unconfirmed)}
        context = {
            "assessment": assessment,
            "errors": [error],
            "result": xlsx_upload.UploadResult.from_session(pending),
            "token": pending["token"],
            "confirmed": confirmed,
        }
        return render(request, "assessments/questionnaire_upload.html", context, status=400)
    try:
        records = xlsx_upload.questionnaire_apply(
            assessment=assessment, user=request.user, changes=pending["changes"]
        )
    except (xlsx_upload.ConflictError, ValidationError) as exc:
        text = "; ".join(exc.messages) if isinstance(exc, ValidationError) else str(exc)
        messages.error(
            request, _("取り込めませんでした（何も変更していません）: %(e)s") % {"e": text}
        )
        return redirect(upload_url, **assessment.url_kwargs)
    finally:
        request.session.pop(SESSION_KEY.format(pk=assessment.pk), None)
    messages.success(
        request, _("調査票から %(n)s 項目の回答を反映しました。") % {"n": len(records)}
    )
    return redirect(assessment.get_absolute_url())
