"""A body's document settings: how its official PDFs are headed (文書番号, 宛先, 決裁欄)."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from assessments import access
from assessments.fiscal_year import current_fiscal_year
from assessments.forms import DocumentSettingsForm
from assessments.models.documents import header_for, settings_of


@login_required
@require_http_methods(["GET", "POST"])
def document_settings(request, body_code: str):
    """Readers of the body see the header its documents carry; its staff change it."""
    body = access.get_body_for_user(request.user, body_code)
    may_edit = access.may_edit_documents(request.user, body)
    if request.method == "POST" and not may_edit:
        raise PermissionDenied
    saved = settings_of(body)
    year = current_fiscal_year()
    form = DocumentSettingsForm(request.POST or None, instance=saved, body=body, fiscal_year=year)
    if request.method == "POST" and form.is_valid():
        settings = form.save(commit=False)
        settings.body = body
        settings.updated_by = request.user
        settings.save()
        messages.success(request, _("文書の設定を保存しました。次に作成する報告書から使われます。"))
        return redirect("document_settings", body_code=body.code)
    if not may_edit:
        for field in form.fields.values():
            field.disabled = True
    return render(
        request,
        "assessments/document_settings.html",
        {
            "body": body,
            "form": form,
            "may_edit": may_edit,
            "saved": saved,
            "header": header_for(body, year, saved),
            "fiscal_year": year,
        },
        status=400 if form.errors else 200,
    )
