"""Account administration pages: list, invite, one account, bulk import, audit, mail failures.

Every page asks access.py: staff get 403, another prefecture's account is 404.
"""

import base64

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db.models import Q
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from assessments import access
from assessments.accounts import audit, imports, services
from assessments.forms import (
    AccountChangeForm,
    AccountFilterForm,
    AccountImportForm,
    AuditFilterForm,
    InvitationAcceptForm,
    InviteForm,
)
from assessments.models import AccountEvent, OutboundMail, User
from assessments.spreadsheets import SpreadsheetError

PAGE_SIZE = 50
IMPORT_SESSION_KEY = "egov_account_import"


def _filtered_accounts(user, form):
    accounts = User.objects.filter(access.managed_users_q(user)).select_related("body__prefecture")
    if form.is_valid():
        data = form.cleaned_data
        if data["q"]:
            q = data["q"]
            accounts = accounts.filter(
                Q(username__icontains=q)
                | Q(email__icontains=q)
                | Q(last_name__icontains=q)
                | Q(first_name__icontains=q)
            )
        if data["body"]:
            accounts = accounts.filter(body__code=data["body"])
        if data["role"]:
            accounts = accounts.filter(role=data["role"])
        if data["state"] == "active":
            accounts = accounts.filter(is_active=True).exclude(password__startswith="!")
        elif data["state"] == "invited":
            accounts = accounts.filter(is_active=True, password__startswith="!")
        elif data["state"] == "inactive":
            accounts = accounts.filter(is_active=False)
    return accounts.order_by("body__code", "username")


@login_required
@require_GET
def account_list(request):
    """The accounts the user manages, with search and filters (body, role, state)."""
    form = AccountFilterForm(request.GET)
    accounts = _filtered_accounts(request.user, form)
    page = Paginator(accounts, PAGE_SIZE).get_page(request.GET.get("page"))
    locked = services.locked_usernames([a.username for a in page])
    return render(
        request,
        "assessments/account_list.html",
        {"form": form, "page": page, "locked": locked, "query": request.GET.urlencode()},
    )


@login_required
@require_http_methods(["GET", "POST"])
def account_invite(request):
    """Invite one person: the account is created and a one-time link is e-mailed."""
    access.require_account_manager(request.user)
    form = InviteForm(request.POST if request.method == "POST" else None, actor=request.user)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        last_name, first_name = imports.split_name(data["name"])
        try:
            account = services.user_invite(
                actor=request.user,
                email=data["email"],
                last_name=last_name,
                first_name=first_name,
                body=data["body"],
                role=data["role"],
                request=request,
            )
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(
                request, _("%(email)s に招待メールを送ります。") % {"email": account.email}
            )
            return redirect("account_detail", pk=account.pk)
    return render(
        request,
        "assessments/account_invite.html",
        {"form": form},
        status=400 if form.is_bound else 200,
    )


@login_required
@require_GET
def account_detail(request, pk: int):
    """One account: its state, its recent events, and the forms to change it."""
    account = access.get_managed_user(request.user, pk)
    form = AccountChangeForm(
        actor=request.user,
        initial={"role": account.role, "body": account.body.code if account.body else ""},
    )
    events = AccountEvent.objects.filter(user=account).select_related("actor")[:20]
    return render(
        request,
        "assessments/account_detail.html",
        {
            "account": account,
            "form": form,
            "events": events,
            "locked": bool(services.locked_usernames([account.username])),
        },
    )


@login_required
@require_POST
def account_change(request, pk: int):
    account = access.get_managed_user(request.user, pk)
    form = AccountChangeForm(request.POST, actor=request.user)
    if form.is_valid():
        try:
            services.user_change(
                actor=request.user,
                user=account,
                role=form.cleaned_data["role"],
                body=form.cleaned_data["body"],
                request=request,
            )
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
        else:
            messages.success(request, _("役割・所属を変更しました。"))
    else:
        messages.error(request, " ".join(str(e) for errs in form.errors.values() for e in errs))
    return redirect("account_detail", pk=account.pk)


def _account_action(request, pk: int, action: str):
    account = access.get_managed_user(request.user, pk)
    try:
        if action == "resend":
            services.invitation_resend(actor=request.user, user=account, request=request)
            messages.success(request, _("招待メールを再送します。"))
        elif action == "unlock":
            services.user_unlock(actor=request.user, user=account, request=request)
            messages.success(request, _("ロックを解除しました。"))
        else:
            services.user_set_active(
                actor=request.user, user=account, active=action == "reactivate", request=request
            )
            messages.success(
                request,
                _("利用を再開しました。") if action == "reactivate" else _("利用を停止しました。"),
            )
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    return redirect("account_detail", pk=account.pk)


@login_required
@require_POST
def account_resend(request, pk: int):
    return _account_action(request, pk, "resend")


@login_required
@require_POST
def account_deactivate(request, pk: int):
    return _account_action(request, pk, "deactivate")


@login_required
@require_POST
def account_reactivate(request, pk: int):
    return _account_action(request, pk, "reactivate")


@login_required
@require_POST
def account_unlock(request, pk: int):
    return _account_action(request, pk, "unlock")


@login_required
@require_http_methods(["GET", "POST"])
def account_import(request):
    """Upload → dry-run preview (errors by row and column) → commit, all or nothing.

    The uploaded file is kept in the session between the preview and the commit.
    """
    access.require_account_manager(request.user)
    form = AccountImportForm()
    report = None
    status = 200
    if request.method == "POST" and "commit" in request.POST:
        stored = request.session.get(IMPORT_SESSION_KEY)
        if not stored:
            messages.error(request, _("先にファイルを確認してください。"))
            return redirect("account_import")
        data, filename = base64.b64decode(stored["data"]), stored["filename"]
        report = imports.users_import(
            actor=request.user, data=data, filename=filename, dry_run=False, request=request
        )
        if report.committed:
            del request.session[IMPORT_SESSION_KEY]
            messages.success(
                request, _("%(count)s 人を登録し、招待メールを送ります。") % {"count": report.new}
            )
            return redirect("account_list")
        status = 400
    elif request.method == "POST":
        form = AccountImportForm(request.POST, request.FILES)
        status = 400
        if form.is_valid():
            upload = form.cleaned_data["file"]
            data = upload.read()
            try:
                report = imports.users_import(
                    actor=request.user, data=data, filename=upload.name, dry_run=True
                )
            except SpreadsheetError as error:
                form.add_error("file", str(error))
            else:
                if report.ok:
                    status = 200
                    request.session[IMPORT_SESSION_KEY] = {
                        "data": base64.b64encode(data).decode(),
                        "filename": upload.name,
                    }
                else:
                    request.session.pop(IMPORT_SESSION_KEY, None)
    return render(
        request,
        "assessments/account_import.html",
        {"form": form, "report": report, "columns": imports.COLUMNS},
        status=status,
    )


def _filtered_events(request):
    form = AuditFilterForm(request.GET)
    events = AccountEvent.objects.filter(access.account_events_q(request.user))
    if form.is_valid():
        if form.cleaned_data["kind"]:
            events = events.filter(kind=form.cleaned_data["kind"])
        if form.cleaned_data["q"]:
            events = events.filter(username__icontains=form.cleaned_data["q"])
    return form, events


@login_required
@require_GET
def account_audit(request):
    """Account events in the user's scope (who, when, what, from which address)."""
    form, events = _filtered_events(request)
    page = Paginator(events.select_related("actor", "body"), PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    return render(
        request,
        "assessments/account_audit.html",
        {"form": form, "page": page, "query": request.GET.urlencode()},
    )


@login_required
@require_GET
def account_audit_export(request):
    """The same events as CSV (every cell formula-safe)."""
    _form, events = _filtered_events(request)
    stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
    response = HttpResponse(
        "\ufeff" + audit.events_csv(events), content_type="text/csv; charset=utf-8"
    )
    response["Content-Disposition"] = f'attachment; filename="account-audit-{stamp}.csv"'
    return response


@login_required
@require_GET
def mail_list(request):
    """E-mails that failed or wait for a retry (national administrators)."""
    access.require_mail_viewer(request.user)
    mails = OutboundMail.objects.exclude(status=OutboundMail.Status.SENT)
    page = Paginator(mails, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "assessments/mail_list.html",
        {"page": page, "max_attempts": settings.MAIL_MAX_ATTEMPTS},
    )


@login_required
def own_email(request):
    """allauth's page to change one's own address is closed: managers set addresses."""
    raise Http404


@require_http_methods(["GET", "POST"])
def invitation_accept(request, token: str):
    """The invitee sets a password through the one-time link, then logs in."""
    invitation = services.invitation_for_token(token)
    if invitation is None:
        return render(request, "assessments/invitation_invalid.html", status=404)
    form = InvitationAcceptForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        try:
            services.invitation_accept(
                token=token, password=form.cleaned_data["new_password1"], request=request
            )
        except ValidationError as error:
            form.add_error("new_password1", error)
        else:
            messages.success(request, _("パスワードを設定しました。ログインしてください。"))
            return redirect("login")
    return render(
        request,
        "assessments/invitation_accept.html",
        {"form": form, "invited": invitation.user},
        status=400 if form.is_bound else 200,
    )
