"""Survey rounds: the national administrator opens one, follows its progress by prefecture,
chases the late (follow-up list, reminders), extends due dates, excuses bodies, accepts or
returns each prefecture's sign-off and closes the round; a prefecture reviewer chases its own
municipalities and signs off its set."""

import re

import tablib
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from assessments import access, reminders, rounds
from assessments import fiscal_year as fy
from assessments.fiscal_year import current_fiscal_year
from assessments.forms import (
    CloseRoundForm,
    ExcuseForm,
    ExtendForm,
    FollowUpFilterForm,
    OpenRoundForm,
    SignOffDecisionForm,
    SignOffForm,
)
from assessments.models import Assessment, PrefectureSignOff, SurveyRound
from assessments.spreadsheets import neutralize


@login_required
@require_http_methods(["GET", "POST"])
def round_list(request):
    """The rounds opened so far, and the form to open the next one."""
    access.require_national_admin(request.user)
    form = OpenRoundForm(request.POST or None, initial={"fiscal_year": current_fiscal_year()})
    if request.method == "POST" and form.is_valid():
        try:
            opened = rounds.survey_round_open(user=request.user, **form.cleaned_data)
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(
                request,
                _("調査回を開始しました（新規 %(created)s 件、既存 %(linked)s 件を紐付け）。")
                % {"created": opened.created, "linked": opened.linked},
            )
            return redirect(
                "round_progress",
                guideline_code=opened.survey_round.guideline.code,
                fiscal_year=opened.survey_round.fiscal_year,
            )
    survey_rounds = SurveyRound.objects.select_related("guideline", "opened_by")
    return render(
        request,
        "assessments/round_list.html",
        {"form": form, "survey_rounds": survey_rounds},
        status=400 if form.is_bound else 200,
    )


@login_required
@require_GET
def round_progress(request, guideline_code: str, fiscal_year: int):
    """Counts per status for each prefecture (itself and its municipalities), the late, the
    sign-offs with their decisions, the due date with its extensions, and closing."""
    access.require_national_admin(request.user)
    survey_round = _round(guideline_code, fiscal_year)
    today = timezone.localdate()
    progress = rounds.round_progress(survey_round, today)
    statuses = Assessment.Status.choices
    totals = [sum(p.counts[value] for p in progress) for value, _label in statuses]
    return render(
        request,
        "assessments/round_progress.html",
        {
            "survey_round": survey_round,
            "due": rounds.DueState(due_on=survey_round.due_on, today=today),
            "progress": progress,
            "rows": [
                (p, [(value, p.counts[value]) for value, _label in statuses]) for p in progress
            ],
            "statuses": statuses,
            "totals": totals,
            "grand_total": sum(totals),
            "overdue_total": sum(p.overdue for p in progress),
            "accepted": sum(1 for p in progress if p.sign_off and p.sign_off.status == "accepted"),
            "extensions": survey_round.extensions.select_related("body", "by")[:20],
            "extend_form": ExtendForm(prefix="extend"),
            "close_form": CloseRoundForm(prefix="close"),
        },
    )


# --- Follow-up, extensions, excusals, sign-off, closing (issue 11) ------------------------------


def _round(guideline_code: str, fiscal_year: int) -> SurveyRound:
    return get_object_or_404(
        SurveyRound.objects.select_related("guideline", "closed_by"),
        guideline__code=guideline_code,
        fiscal_year=fiscal_year,
    )


def _back(survey_round: SurveyRound, name: str = "round_progress"):
    return redirect(
        name, guideline_code=survey_round.guideline.code, fiscal_year=survey_round.fiscal_year
    )


def _invalid(form) -> ValidationError:
    """A bound form's errors as one ValidationError (the round's POST views report them as
    messages, as the services' own refusals)."""
    return ValidationError([m for errors in form.errors.values() for m in errors])


def _follow_up_rows(request, survey_round: SurveyRound):
    """The follow-up form, its filters and the rows (each with due state and addresses)."""
    form = FollowUpFilterForm(request.GET or None, user=request.user)
    values = form.values()
    # A reviewer's list is its own prefecture; a national administrator's, the one chosen (or
    # all). The form has no prefecture field for reviewers, so they cannot ask for another.
    prefecture = access.round_prefecture_scope(request.user) or values.get("prefecture")
    today = timezone.localdate()
    assessments = list(
        rounds.follow_up(
            survey_round,
            prefecture=prefecture,
            status=values.get("status") or "",
            overdue_only=bool(values.get("overdue")),
            today=today,
        )
    )
    addresses = rounds.staff_addresses([a.body_id for a in assessments])
    rows = [
        FollowUpRow(a, rounds.due_state(a, today), addresses.get(a.body_id, []))
        for a in assessments
    ]
    return form, prefecture, rows


class FollowUpRow:
    """One body to chase: its assessment, due state and its staff's addresses."""

    def __init__(self, assessment, due, addresses):
        self.assessment, self.due, self.addresses = assessment, due, addresses
        self.excusal = assessment.excusal if rounds.hasattr_excusal(assessment) else None


@login_required
@require_http_methods(["GET", "POST"])
def round_follow_up(request, guideline_code: str, fiscal_year: int):
    """Who to chase: the round's bodies by prefecture and status, with due dates, last activity
    and their staff's addresses; POST sends a "remind now" to the chosen bodies."""
    survey_round = _round(guideline_code, fiscal_year)
    form, prefecture, rows = _follow_up_rows(request, survey_round)
    if request.method == "POST":
        chosen = {int(pk) for pk in request.POST.getlist("assessment") if pk.isdigit()}
        picked = [r.assessment for r in rows if r.assessment.pk in chosen]
        if not picked:
            messages.error(request, _("督促する団体を選んでください。"))
        else:
            result = reminders.remind_now(user=request.user, assessments=picked)
            messages.success(
                request,
                _("督促メールを %(sent)s 通送りました。") % {"sent": len(result.sent)},
            )
            for body, why in result.skipped:
                messages.warning(request, f"{body.name}: {why}")
        return redirect(request.get_full_path())
    return render(
        request,
        "assessments/round_follow_up.html",
        {
            "survey_round": survey_round,
            "form": form,
            "prefecture": prefecture,
            "rows": rows,
            "query": request.GET.urlencode(),
            "excuse_form": ExcuseForm(prefix="excuse"),
        },
    )


FOLLOW_UP_EXPORT_TYPES = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}


@login_required
@require_GET
def round_follow_up_export(request, guideline_code: str, fiscal_year: int, fmt: str):
    """The follow-up list as CSV (UTF-8 with BOM) or XLSX; every cell formula-safe."""
    if fmt not in FOLLOW_UP_EXPORT_TYPES:
        raise Http404
    survey_round = _round(guideline_code, fiscal_year)
    _form, _prefecture, rows = _follow_up_rows(request, survey_round)
    dataset = tablib.Dataset(
        headers=[
            _("団体コード"),
            _("団体名"),
            _("都道府県"),
            _("状態"),
            _("提出期限"),
            _("期限超過日数"),
            _("最終更新"),
            _("免除"),
            _("担当者のメールアドレス"),
        ]
    )
    status_labels = dict(Assessment.Status.choices)
    for row in rows:
        a = row.assessment
        dataset.append(
            [
                neutralize(v)
                for v in (
                    a.body.code,
                    a.body.name,
                    (a.body.prefecture or a.body).name,
                    str(status_labels[a.status]),
                    row.due.due_on.isoformat() if row.due else "",
                    row.due.days_overdue if row.due and row.due.overdue else 0,
                    timezone.localtime(a.updated_at).strftime("%Y-%m-%d %H:%M"),
                    row.excusal.reason if row.excusal else "",
                    " ".join(row.addresses),
                )
            ]
        )
    if fmt == "csv":
        content = ("\ufeff" + dataset.export("csv")).encode("utf-8")
    else:
        content = dataset.export("xlsx")
    name = f"follow-up_{survey_round.guideline.code}_{survey_round.fiscal_year}.{fmt}"
    response = HttpResponse(content, content_type=FOLLOW_UP_EXPORT_TYPES[fmt])
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


@login_required
@require_POST
def round_extend(request, guideline_code: str, fiscal_year: int):
    access.require_national_admin(request.user)
    survey_round = _round(guideline_code, fiscal_year)
    form = ExtendForm(request.POST, prefix="extend")
    if form.is_valid():
        try:
            extension = rounds.due_date_extend(
                survey_round=survey_round,
                due_on=form.cleaned_data["due_on"],
                reason=form.cleaned_data["reason"],
                body=form.cleaned_data["body"],
                user=request.user,
            )
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
        else:
            messages.success(
                request,
                _("%(who)sの提出期限を %(date)s に変更しました。")
                % {
                    "who": extension.body.name if extension.body else _("調査回全体"),
                    "date": fy.date_label(extension.due_on),
                },
            )
    else:
        messages.error(request, " ".join(_invalid(form).messages))
    return _back(survey_round)


@login_required
@require_POST
def round_excuse(request, guideline_code: str, fiscal_year: int):
    """Excuse the body named in the form (`body`, its code) from the round, with a reason."""
    access.require_national_admin(request.user)
    survey_round = _round(guideline_code, fiscal_year)
    assessment = get_object_or_404(
        Assessment.objects.select_related("body", "survey_round"),
        survey_round=survey_round,
        body__code=request.POST.get("body", ""),
    )
    form = ExcuseForm(request.POST, prefix="excuse")
    try:
        if not form.is_valid():
            raise _invalid(form)
        rounds.excuse(assessment=assessment, reason=form.cleaned_data["reason"], user=request.user)
    except ValidationError as error:
        messages.error(request, f"{assessment.body.name}: " + " ".join(error.messages))
    else:
        messages.success(
            request, _("%(body)sを提出免除にしました。") % {"body": assessment.body.name}
        )
    back = request.POST.get("next", "")
    if not url_has_allowed_host_and_scheme(back, allowed_hosts={request.get_host()}):
        back = reverse(
            "round_follow_up",
            kwargs={"guideline_code": guideline_code, "fiscal_year": fiscal_year},
        )
    return redirect(back)


@login_required
@require_http_methods(["GET", "POST"])
def round_sign_off(request, guideline_code: str, fiscal_year: int, prefecture_code: str):
    """A prefecture's sign-off of its municipalities' set for the round: its reviewers sign it
    off (POST); the national administrator reads it and decides (round_sign_off_decide).
    Another prefecture's reviewer gets 404, staff 403."""
    survey_round = _round(guideline_code, fiscal_year)
    prefecture = access.get_prefecture_for_reviewer(request.user, prefecture_code)
    form = SignOffForm(request.POST or None, prefix="sign_off")
    status = 200
    if request.method == "POST":
        if not access.may_sign_off(request.user, prefecture):
            raise PermissionDenied
        try:
            if not form.is_valid():
                raise _invalid(form)
            rounds.sign_off_submit(
                survey_round=survey_round,
                prefecture=prefecture,
                user=request.user,
                note=form.cleaned_data["reason"],
            )
        except ValidationError as error:
            form.add_error(None, error)
            status = 400
        else:
            messages.success(request, _("取りまとめを国に送りました。"))
            return redirect(
                "round_sign_off",
                guideline_code=guideline_code,
                fiscal_year=fiscal_year,
                prefecture_code=prefecture_code,
            )
    sign_off = (
        PrefectureSignOff.objects.filter(survey_round=survey_round, prefecture=prefecture)
        .prefetch_related("events__by")
        .first()
    )
    progress = next(
        p for p in rounds.round_progress(survey_round) if p.prefecture.pk == prefecture.pk
    )
    blockers = list(rounds.sign_off_blockers(survey_round, prefecture))
    return render(
        request,
        "assessments/round_sign_off.html",
        {
            "survey_round": survey_round,
            "prefecture": prefecture,
            "sign_off": sign_off,
            "progress": progress,
            "statuses": Assessment.Status.choices,
            "blockers": blockers,
            "form": form,
            "may_sign": access.may_sign_off(request.user, prefecture)
            and not blockers
            and survey_round.closed_at is None
            and (sign_off is None or sign_off.status == PrefectureSignOff.Status.RETURNED),
            "decision_form": SignOffDecisionForm(prefix="decide")
            if request.user.is_national_admin
            and sign_off is not None
            and sign_off.status
            in (PrefectureSignOff.Status.SIGNED, PrefectureSignOff.Status.ACCEPTED)
            and survey_round.closed_at is None
            else None,
        },
        status=status,
    )


@login_required
@require_POST
def round_sign_off_decide(request, guideline_code: str, fiscal_year: int, prefecture_code: str):
    access.require_national_admin(request.user)
    survey_round = _round(guideline_code, fiscal_year)
    sign_off = get_object_or_404(
        PrefectureSignOff.objects.select_related("prefecture", "survey_round"),
        survey_round=survey_round,
        prefecture__code=prefecture_code,
    )
    form = SignOffDecisionForm(request.POST, prefix="decide")
    try:
        if not form.is_valid():
            raise _invalid(form)
        reopen = Assessment.objects.filter(
            survey_round=survey_round,
            body__prefecture=sign_off.prefecture,
            body__code__in=re.split(r"[\s,、]+", request.POST.get("reopen", "")),
        ).select_related("body", "guideline")
        rounds.sign_off_decide(
            sign_off=sign_off,
            user=request.user,
            action=form.cleaned_data["action"],
            reason=form.cleaned_data["reason"],
            reopen=list(reopen),
        )
    except ValidationError as error:
        messages.error(request, f"{sign_off.prefecture.name}: " + " ".join(error.messages))
    else:
        messages.success(
            request,
            _("%(prefecture)sの取りまとめを「%(status)s」にしました。")
            % {"prefecture": sign_off.prefecture.name, "status": sign_off.get_status_display()},
        )
    return redirect(
        "round_sign_off",
        guideline_code=guideline_code,
        fiscal_year=fiscal_year,
        prefecture_code=prefecture_code,
    )


@login_required
@require_POST
def round_close(request, guideline_code: str, fiscal_year: int):
    access.require_national_admin(request.user)
    survey_round = _round(guideline_code, fiscal_year)
    form = CloseRoundForm(request.POST, prefix="close")
    try:
        if not form.is_valid():
            raise _invalid(form)
        rounds.round_close(
            survey_round=survey_round, user=request.user, reason=form.cleaned_data["reason"]
        )
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, _("調査回を締め切りました。"))
    return _back(survey_round)
