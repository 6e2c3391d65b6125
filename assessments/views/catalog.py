"""Importing guideline files (national administrators): upload, the dry-run preview of what
would be added, changed or removed and whether it becomes a new edition, then confirmation. The
upload is kept (GuidelineImport) between preview and confirmation and checked again on confirm."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.http import content_disposition_header
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from assessments import access, catalog
from assessments.forms import GuidelineUploadForm
from assessments.models import Guideline, GuidelineImport

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@login_required
@require_http_methods(["GET", "POST"])
def guideline_imports(request):
    """The upload form, the guidelines and their editions, and the recent imports."""
    access.require_national_admin(request.user)
    form = GuidelineUploadForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        record, _plan, _problems = catalog.guideline_upload(
            user=request.user, name=upload.name, content=upload.read()
        )
        return redirect("guideline_import_preview", pk=record.pk)
    context = {
        "form": form,
        "guidelines": Guideline.objects.order_by("series", "edition"),
        "imports": GuidelineImport.objects.select_related("uploaded_by", "guideline").defer(
            "content"
        )[:20],
    }
    return render(
        request, "assessments/guideline_imports.html", context, status=400 if form.errors else 200
    )


@login_required
@require_GET
def guideline_import_preview(request, pk: int):
    """The dry run of a kept upload: every error, or the changes and the edition decision."""
    record = access.get_guideline_import(request.user, pk)
    plan, problems = None, record.summary.get("errors", [])
    if record.status == GuidelineImport.Status.PREVIEWED:
        plan, problems = catalog.guideline_preview(record.filename, bytes(record.content))
    context = {"record": record, "plan": plan, "errors": problems}
    return render(request, "assessments/guideline_import_preview.html", context)


@login_required
@require_POST
def guideline_import_confirm(request, pk: int):
    """Import a previewed upload in one transaction (checked again; nothing written on error)."""
    record = access.get_guideline_import(request.user, pk)
    try:
        _plan, guideline = catalog.guideline_upload_confirm(record=record, user=request.user)
    except ValidationError as error:
        context = {"record": record, "plan": None, "errors": error.messages}
        return render(request, "assessments/guideline_import_preview.html", context, status=400)
    messages.success(
        request,
        _("%(title)s を取り込みました（第%(n)s版）。")
        % {"title": guideline.title, "n": guideline.edition},
    )
    return redirect("guideline_imports")


@login_required
@require_GET
def guideline_export_xlsx(request, guideline_code: str):
    """One edition in the XLSX layout, to edit in Excel and import again."""
    access.require_national_admin(request.user)
    guideline = get_object_or_404(Guideline, code=guideline_code)
    response = HttpResponse(catalog.guideline_export(guideline), content_type=XLSX)
    response["Content-Disposition"] = content_disposition_header(
        as_attachment=True, filename=f"{guideline.code}.xlsx"
    )
    return response
