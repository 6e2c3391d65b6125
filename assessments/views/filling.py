"""Filling an assessment: overview, a page per section, autosave, history, evidence, submit."""

import functools

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import FileResponse, Http404, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from assessments import access, answers, rounds, workflow
from assessments.evidence import safe_filename
from assessments.fiscal_year import current_fiscal_year
from assessments.forms import AnswerForm, StartAssessmentForm, answer_initial
from assessments.models import (
    Answer,
    AnswerChange,
    Assessment,
    AssessmentTransition,
    Guideline,
    Measure,
)
from assessments.scoring import FORMULA
from assessments.selectors import filling
from assessments.selectors.catalog import catalog_for

HISTORY_PAGE_SIZE = 50


@login_required
@require_GET
def assessment_detail(request, body_code: str, fiscal_year: int, guideline_code: str):
    """Overview: sections with progress and scores, every measure's state, status history."""
    assessment = access.get_assessment_for_user(
        request.user, body_code, fiscal_year, guideline_code
    )
    measures = catalog_for(assessment).measures
    answers = list(assessment.answers.select_related("measure"))
    by_measure = {a.measure_id: a for a in answers}
    scored, sections = filling.progress(assessment)
    refs = {row.section.pk: row.section.ref for row in sections}
    transitions = list(
        AssessmentTransition.objects.filter(assessment=assessment)
        .select_related("by")
        .order_by("at", "id")
    )
    fixes = filling.open_fixes(assessment)
    return render(
        request,
        "assessments/assessment_detail.html",
        {
            "assessment": assessment,
            "scored": scored,
            "sections": sections,
            "rows": [(m, by_measure.get(m.pk), refs.get(m.section_id or 0)) for m in measures],
            "uncounted": filling.uncounted_answers(answers, measures),
            "transitions": transitions,
            "returned": next(
                (t for t in reversed(transitions) if t.to_status == Assessment.Status.RETURNED),
                None,
            )
            if assessment.status == Assessment.Status.RETURNED
            else None,
            "fixes": [(c, refs.get(c.measure.section_id or 0)) for c in fixes],
            "fix_sections": {c.measure.section_id for c in fixes},
            "editable": access.can_edit_answers(request.user, assessment),
            "can_review": access.can_review(request.user, assessment),
            "due": rounds.due_state(assessment),
            "formula": FORMULA,
        },
    )


def _section_for(assessment: Assessment, section_ref: str) -> Measure:
    section = catalog_for(assessment).section(section_ref)
    if section is None:
        raise Http404
    return section


@login_required
@require_http_methods(["GET", "POST"])
def assessment_section(
    request, body_code: str, fiscal_year: int, guideline_code: str, section_ref: str
):
    """One section's measures: a form per measure (staff) or their answers (everyone else).

    POST saves every changed measure of the section at once; invalid input re-renders with
    everything typed (400), a colleague's newer save re-renders both versions (409).
    """
    writing = request.method == "POST"
    get = access.get_rw_assessment_for_user if writing else access.get_assessment_for_user
    assessment = get(request.user, body_code, fiscal_year, guideline_code)
    section = _section_for(assessment, section_ref)
    measures = catalog_for(assessment).measures_of(section)
    current = {
        a.measure_id: a
        for a in Answer.objects.filter(
            assessment=assessment, measure__section=section
        ).select_related("updated_by")
    }
    forms: dict[int, AnswerForm] | None = None
    conflicts: dict = {}
    status = 200
    if access.can_edit_answers(request.user, assessment):
        forms = {
            m.pk: AnswerForm(
                request.POST if writing else None,
                request.FILES if writing else None,
                measure=m,
                initial=answer_initial(current.get(m.pk)),
            )
            for m in measures
        }
    if writing and forms is not None:
        discard = set(request.POST.getlist("discard"))
        forms = {pk: f for pk, f in forms.items() if f.prefix not in discard} | {
            pk: AnswerForm(measure=f.measure, initial=f.initial)
            for pk, f in forms.items()
            if f.prefix in discard
        }
        result = None
        if not all(f.is_valid() for f in forms.values() if f.is_bound):
            status = 400
        else:
            try:
                result = _save_section(request, assessment, forms, current)
            except answers.EvidenceQuotaExceeded as refused:
                status = 400
                for f in forms.values():  # the message goes where the files were chosen
                    if f.is_bound and f.cleaned_data.get("evidence_file"):
                        f.add_error("evidence_file", refused.messages)
        if result is not None:
            if not result.stale:
                return _saved(request, assessment, section)
            forms, conflicts, status = (
                _rebind_after_conflict(request, measures, result),
                result.stale,
                409,
            )
            current.update(result.saved)
    return _render_section(
        request, assessment, section, measures, current, forms, conflicts, status
    )


def _save_section(request, assessment, forms, current) -> answers.SaveResult:
    """Save the measures whose form changed (carried answers stay unconfirmed until confirmed)."""
    return answers.answers_save(
        assessment=assessment,
        user=request.user,
        inputs=[
            answers.AnswerInput(
                f.measure,
                f.answer_data(),
                f.cleaned_data["version"],
                f.cleaned_data.get("evidence_file") or None,
            )
            for pk, f in forms.items()
            if f.is_bound and f.has_changed()
        ],
    )


def _saved(request, assessment, section):
    messages.success(
        request,
        _("「%(section)s」を保存しました（%(time)s）。")
        % {"section": section.title, "time": f"{timezone.localtime():%H:%M}"},
    )
    following = filling.next_section(assessment, section) if "save_next" in request.POST else None
    return redirect(_section_url(assessment, following or section))


def _render_section(request, assessment, section, measures, current, forms, conflicts, status):
    comments = filling.comments_by_measure(assessment, measure__section=section)
    notes = catalog_for(assessment).notes_in_force(assessment)
    fixes = filling.open_fixes(assessment)
    scored, sections = filling.progress(assessment)
    return render(
        request,
        "assessments/assessment_section.html",
        {
            "assessment": assessment,
            "section": section,
            "sections": sections,
            "scored": scored,
            "items": [
                {
                    "measure": m,
                    "answer": current.get(m.pk),
                    "form": forms[m.pk] if forms else None,
                    "conflict": conflicts.get(m.pk),
                    "comments": comments.get(m.pk, []),
                    "notes": notes.get(m.pk, []),
                }
                for m in measures
            ],
            "editable": forms is not None,
            "conflicts": conflicts,
            "error_links": [
                link for f in (forms or {}).values() if f.is_bound for link in f.error_links()
            ],
            "next_section": filling.next_section(assessment, section),
            "formula": FORMULA,
            "autosave_messages": _autosave_messages(request) if forms else None,
            "carried_count": sum(1 for a in current.values() if a.carried_over_from),
            "fix_sections": {c.measure.section_id for c in fixes},
            "fix_measures": {c.measure_id for c in fixes},
        },
        status=status,
    )


def _autosave_messages(request) -> dict:
    """What static/js/autosave.js says, translated here (the script holds no text of its own)."""
    return {
        "saving": _("保存しています…"),
        "invalid": _("保存できませんでした。入力内容を確認してください。"),
        "offline": _(
            "保存できませんでした（通信エラー）。入力はこのブラウザに残っています。"
            "通信が戻ると自動で保存し直します。"
        ),
        "login": _(
            "ログインの有効期限が切れたため保存できませんでした。入力はこの画面とこのブラウザに"
            "残っています。新しいタブでログインし直してからこのタブに戻ると、自動で保存します。"
        ),
        "login_link": _("新しいタブでログインする"),
        "login_url": f"{reverse('login')}?next={reverse('home')}",
        "locked": _(
            "この自己評価は提出済みまたは承認済みになったため、保存できません。入力はこの画面と"
            "このブラウザに残っているので、必要ならコピーして控えてください。"
        ),
        "conflict": _(
            "他の人がこの項目を先に保存しました。「この章を保存」を押すと、両方の内容を比べて"
            "選べます。"
        ),
        "draft_label": _("保存されていない入力"),
        "draft_found": _(
            "この項目には、まだ保存されていない入力がこのブラウザに残っています（%(time)s）。"
        ),
        "draft_newer": _(
            "その後、この項目は保存されています（ほかの人か別のタブ）。下の内容と比べてから"
            "復元してください。"
        ),
        "restore": _("復元して保存"),
        "discard": _("破棄"),
        "discarded": _("残っていた入力を破棄しました。"),
        "drafts_summary": _(
            "保存されていない入力が残っている項目があります。各項目で「復元して保存」か"
            "「破棄」を選んでください。"
        ),
    }


def _rebind_after_conflict(request, measures, result):
    """Forms keeping every typed value, now carrying the versions stored in the database.

    Saved answers get their new version (so saving again does not conflict with oneself); a stale
    one gets the colleague's version, so "keep mine" re-submits over it knowingly.
    """
    data = request.POST.copy()
    for m in measures:
        key = f"m{m.order}-version"
        if m.pk in result.stale:
            row = result.stale[m.pk].current
            data[key] = row.version if row else 0
        elif m.pk in result.saved:
            data[key] = result.saved[m.pk].version
    return {
        m.pk: AnswerForm(data, measure=m, initial=answer_initial(result.saved.get(m.pk)))
        for m in measures
    }


def _section_url(assessment, section) -> str:
    return reverse(
        "assessment_section", kwargs={**assessment.url_kwargs, "section_ref": section.ref}
    )


def _measure_for(assessment: Assessment, measure_ref: str) -> Measure:
    measure = next((m for m in catalog_for(assessment).measures if m.ref == measure_ref), None)
    if measure is None:
        raise Http404
    return measure


def _json_login_required(view):
    """Like login_required, but a JSON 401 instead of a redirect: the script keeps the text."""

    @functools.wraps(view)
    def wrapped(request, *args, **kwargs):
        if not request.user.is_authenticated:
            return JsonResponse(
                {"ok": False, "reason": "login", "message": _("ログインの有効期限が切れました。")},
                status=401,
            )
        return view(request, *args, **kwargs)

    return wrapped


@_json_login_required
@require_POST
def answer_autosave(
    request, body_code: str, fiscal_year: int, guideline_code: str, measure_ref: str
):
    """Save one measure's fields as they change (static/js/autosave.js); JSON in and out.

    401 when the session is gone, 403 when the assessment can no longer be changed, 409 when a
    colleague saved first; the script explains each and keeps the text in the browser.
    """
    try:
        assessment = access.get_rw_assessment_for_user(
            request.user, body_code, fiscal_year, guideline_code
        )
    except PermissionDenied:
        return _locked()
    measure = _measure_for(assessment, measure_ref)
    form = AnswerForm(request.POST, measure=measure)
    if not form.is_valid():
        return JsonResponse(
            {
                "ok": False,
                "message": _("保存できませんでした: %(errors)s")
                % {"errors": " ".join(str(m) for errors in form.errors.values() for m in errors)},
                "errors": {k: [str(e) for e in v] for k, v in form.errors.items()},
            },
            status=400,
        )
    try:
        answer = answers.answer_save(
            assessment=assessment,
            measure=measure,
            user=request.user,
            data=form.answer_data(),
            expected_version=form.cleaned_data["version"],
            source=AnswerChange.Source.AUTOSAVE,
        )
    except PermissionDenied:
        return _locked()
    except answers.StaleAnswer:
        return JsonResponse(
            {
                "ok": False,
                "reason": "conflict",
                "conflict": True,
                "message": _(
                    "他の人がこの項目を先に保存したため、自動保存しませんでした。"
                    "「この章を保存」を押すと、両方の内容を比べて選べます。"
                ),
            },
            status=409,
        )
    now = f"{timezone.localtime():%H:%M}"
    return JsonResponse(
        {
            "ok": True,
            "version": answer.version if answer else form.cleaned_data["version"],
            "message": _("保存しました %(time)s") % {"time": now},
        }
    )


def _locked() -> JsonResponse:
    return JsonResponse(
        {
            "ok": False,
            "reason": "locked",
            "message": _("提出済みまたは承認済みのため、この自己評価は変更できません。"),
        },
        status=403,
    )


@login_required
@require_GET
def answer_history(
    request, body_code: str, fiscal_year: int, guideline_code: str, measure_ref: str
):
    """Every change of one measure's answer: who, when, how, and each field's old and new value."""
    assessment = access.get_assessment_for_user(
        request.user, body_code, fiscal_year, guideline_code
    )
    measure = _measure_for(assessment, measure_ref)
    changes = AnswerChange.objects.filter(
        answer__assessment=assessment, answer__measure=measure
    ).select_related("changed_by")
    page = Paginator(changes, HISTORY_PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "assessments/history.html",
        {
            "assessment": assessment,
            "measure": measure,
            "page": page,
            "changes": [(c, filling.describe_changes(c.changes)) for c in page],
        },
    )


@login_required
@require_GET
def evidence_download(
    request, body_code: str, fiscal_year: int, guideline_code: str, measure_ref: str
):
    """The evidence file, only to those who may read the assessment, always as a download."""
    assessment = access.get_assessment_for_user(
        request.user, body_code, fiscal_year, guideline_code
    )
    answer = get_object_or_404(
        Answer,
        assessment=assessment,
        measure__guideline=assessment.guideline_id,
        measure__ref=measure_ref,
    )
    if not answer.evidence_file:
        raise Http404
    try:
        handle = answer.evidence_file.open("rb")
    except FileNotFoundError:
        raise Http404 from None
    return FileResponse(
        handle,
        as_attachment=True,
        filename=safe_filename(answer.evidence_name or answer.evidence_file.name or ""),
        content_type="application/octet-stream",
    )


@login_required
@require_http_methods(["GET", "POST"])
def assessment_submit(request, body_code: str, fiscal_year: int, guideline_code: str):
    """Check completeness, list what is missing with links, and submit for review."""
    assessment = access.get_assessment_for_user(
        request.user, body_code, fiscal_year, guideline_code
    )
    error, status = "", 200
    if request.method == "POST":
        try:
            workflow.assessment_transition(
                assessment=assessment, user=request.user, action="submit"
            )
        except workflow.TransitionError as refused:
            error, status = refused.messages[0], 400
        else:
            messages.success(request, _("提出しました。審査担当の確認をお待ちください。"))
            return redirect(assessment)
    missing = workflow.missing_measures(assessment)
    unconfirmed = workflow.unconfirmed_measures(assessment)
    refs = dict(
        Measure.objects.filter(pk__in={m.section_id for m in missing + unconfirmed}).values_list(
            "pk", "ref"
        )
    )
    return render(
        request,
        "assessments/submit.html",
        {
            "assessment": assessment,
            "missing": [(m, refs.get(m.section_id or 0)) for m in missing],
            "unconfirmed": [(m, refs.get(m.section_id or 0)) for m in unconfirmed],
            "may_submit": any(
                a.name == "submit" for a in workflow.available_actions(request.user, assessment)
            ),
            "error": error,
        },
        status=status,
    )


@login_required
@require_POST
def answers_confirm(request, body_code: str, fiscal_year: int, guideline_code: str):
    """Confirm carried-over answers: one measure (`measure`) or a whole section (`section`)."""
    assessment = access.get_rw_assessment_for_user(
        request.user, body_code, fiscal_year, guideline_code
    )
    scored = Measure.objects.to_answer(assessment)
    if request.POST.get("section"):
        section = _section_for(assessment, request.POST["section"])
        measures, back = list(scored.filter(section=section)), _section_url(assessment, section)
    else:
        measure = _measure_for(assessment, request.POST.get("measure", ""))
        measures = [measure]
        back = f"{_section_url(assessment, measure.section)}#measure-{measure.order}"
    confirmed = answers.answers_confirm(assessment=assessment, user=request.user, measures=measures)
    messages.success(
        request,
        _("引継ぎの回答 %(count)s 件を確認済みにしました。") % {"count": len(confirmed)},
    )
    return redirect(back)


@login_required
@require_POST
def assessment_start(request):
    """Start (or reopen) this fiscal year's assessment of a guideline for the user's body."""
    user = request.user
    access.require_body_staff(user)
    # By series: a body answers one edition of a guideline a year (the one it started on).
    started = frozenset(
        Assessment.objects.filter(body=user.body_id, fiscal_year=current_fiscal_year())
        .exclude(status=Assessment.Status.NOT_STARTED)
        .values_list("guideline__series", flat=True)
    )
    form = StartAssessmentForm(request.POST, started=started)
    if not form.is_valid():
        posted = Guideline.objects.filter(code=request.POST.get("guideline", "")).first()
        if posted is not None and posted.series in started:
            existing = Assessment.objects.get(
                body=user.body_id,
                fiscal_year=current_fiscal_year(),
                guideline__series=posted.series,
            )
            messages.info(request, _("この指針の今年度の自己評価はすでにあります。"))
            return redirect(existing)
        messages.error(request, _("指針と回答の初期値を選んでください。"))
        return redirect("home")
    assessment = answers.assessment_start(
        body=user.body,
        guideline=form.cleaned_data["guideline"],
        fiscal_year=current_fiscal_year(),
        user=user,
        prefill=form.cleaned_data["prefill"],
    )
    messages.success(
        request,
        _("%(year)sの自己評価を開きました。") % {"year": assessment.fiscal_year_label},
    )
    return redirect(assessment)
