"""Saving answers without losing or silently overwriting anything, and starting an assessment.

Every answer carries a version. A save names the version it was loaded with; when the row has
moved on since, the save is refused with `StaleAnswer` (holding the colleague's row) instead of
overwriting it. The update itself is `filter(pk=…, version=v).update(…, version=F("version") + 1)`
(one statement for all the answers of a section), so it is safe on SQLite and PostgreSQL alike.
Every change is recorded as an AnswerChange ({field: [old, new]}) and bumps Assessment.version.
"""

import uuid
from dataclasses import dataclass, field
from typing import cast

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.storage import default_storage
from django.db import IntegrityError, models, transaction
from django.db.models import Case, F, Field, Q, Value, When
from django.db.models.functions import Cast
from django.template.defaultfilters import filesizeformat
from django.utils import timezone
from django.utils.translation import gettext as _

from assessments import access, workflow
from assessments.applicability import values_for_kind
from assessments.evidence import extension, safe_filename
from assessments.models import (
    Answer,
    AnswerChange,
    Assessment,
    Body,
    CrosswalkLink,
    Guideline,
    Measure,
    SurveyRound,
    User,
)
from assessments.models.assessments import (
    CARRIED_FIELDS,
    EDITABLE_FIELDS,
    TRACKED_FIELDS,
)

PREFILL_CHOICES = ("none", "previous_year", "crosswalk")
# Validated by the caller; checking them in full_clean() would cost a query per answer.
_RELATIONS = ["assessment", "measure", "updated_by"]


class StaleAnswer(Exception):
    """The answer changed since the user loaded it; `current` is the row as it is now."""

    def __init__(self, measure: Measure, current: Answer | None):
        super().__init__(f"stale answer for {measure.ref}")
        self.measure = measure
        self.current = current


@dataclass
class AnswerInput:
    """What one measure's form submitted: cleaned values, and the version they were loaded with.

    `expected_version` is 0 when there was no answer yet.
    """

    measure: Measure
    data: dict
    expected_version: int
    evidence_upload: object = None
    confirm: bool = False  # clear the 引継ぎ（未確認） marker (answers_confirm)


@dataclass
class SaveResult:
    saved: dict[int, Answer] = field(default_factory=dict)  # measure id → saved answer
    stale: dict[int, StaleAnswer] = field(default_factory=dict)  # measure id → conflict


class EvidenceQuotaExceeded(ValidationError):
    """The body's evidence files would take more room than EGOV_EVIDENCE_QUOTA_BYTES."""


def evidence_usage(body: Body) -> int:
    """Bytes taken by the evidence files the body's answers keep (every year and guideline)."""
    names = (
        Answer.objects.filter(assessment__body=body)
        .exclude(evidence_file="")
        .values_list("evidence_file", flat=True)
    )
    return sum(_stored_size(name) for name in names)


def _stored_size(name: str) -> int:
    try:
        return default_storage.size(name)
    except OSError:
        return 0  # a missing file takes no room


def _check_quota(body: Body, inputs: list[AnswerInput], current: dict) -> None:
    """Refuse the uploads when, with the files they replace freed, the body would be over quota."""
    quota = settings.EVIDENCE_QUOTA_BYTES
    uploads = [i for i in inputs if i.evidence_upload is not None]
    if not quota or not uploads:
        return
    freed = sum(
        _stored_size(current[i.measure.pk].evidence_file.name)
        for i in uploads
        if i.measure.pk in current and current[i.measure.pk].evidence_file
    )
    used = evidence_usage(body) - freed
    adding = sum(getattr(i.evidence_upload, "size", 0) or 0 for i in uploads)
    if used + adding > quota:
        raise EvidenceQuotaExceeded(
            _(
                "%(body)sの根拠資料ファイルの保存容量（上限 %(quota)s）を超えるため添付できません"
                "（使用中 %(used)s、今回 %(adding)s）。不要になったファイルを差し替えるか、"
                "根拠資料をURLで示してください。"
            )
            % {
                "body": body.name,
                "quota": filesizeformat(quota),
                "used": filesizeformat(used),
                "adding": filesizeformat(adding),
            },
            code="evidence_quota",
        )


def _delete_replaced(names: list[str]) -> None:
    """After the commit: delete files no answer refers to any more (the ones just replaced)."""
    still_used = set(
        Answer.objects.filter(evidence_file__in=names).values_list("evidence_file", flat=True)
    )
    for name in names:
        if name not in still_used:
            default_storage.delete(name)


class _Retry(Exception):
    """A colleague saved between our read and our write: roll back and classify again."""


def _plain(value):
    if value is None or isinstance(value, (bool, int)):
        return value
    if isinstance(value, models.fields.files.FieldFile):
        return value.name or ""
    return str(value)


def _new_values(answer: Answer | None, data: dict, confirm: bool = False) -> dict:
    values = {name: getattr(answer, name) if answer else _default(name) for name in TRACKED_FIELDS}
    values.update({name: data[name] for name in EDITABLE_FIELDS if name in data})
    if values["not_applicable"]:
        values["level"] = None
    if confirm:
        # Only an explicit confirmation clears the marker: saving is not looking at it.
        values["carried_over_from"] = ""
    return values


def _field(name: str) -> Field:
    """A concrete field of Answer (every tracked name is one)."""
    return cast(Field, Answer._meta.get_field(name))


def _default(name: str):
    model_field = _field(name)
    return (
        model_field.get_default()
        if model_field.has_default()
        else ("" if not model_field.null else None)
    )


def _diff(answer: Answer | None, values: dict) -> dict:
    """{field: [old, new]} for every field whose value changes (JSON-ready)."""
    old = {n: _plain(getattr(answer, n) if answer else _default(n)) for n in values}
    return {n: [old[n], _plain(v)] for n, v in values.items() if old[n] != _plain(v)}


def answers_save(
    *,
    assessment: Assessment,
    user: User,
    inputs: list[AnswerInput],
    source: str = "form",
    all_or_nothing: bool = False,
) -> SaveResult:
    """Save the answers of several measures at once; stale ones are returned, not saved.

    With `all_or_nothing` (the questionnaire upload), one stale answer raises StaleAnswer and
    nothing is saved. The number of queries does not depend on how many answers are saved: one read of the current
    rows, one guarded UPDATE, one INSERT of new answers, one INSERT of changes, one version bump.
    """
    if not access.can_fill(user, assessment):
        raise PermissionDenied
    stored: list[str] = []
    try:
        for _attempt in range(3):
            try:
                return _answers_save(assessment, user, inputs, source, all_or_nothing, stored)
            except _Retry:
                for name in stored:  # the attempt was rolled back; its files go too
                    default_storage.delete(name)
                stored.clear()
        raise RuntimeError("answers kept changing while saving")
    except BaseException:
        for name in stored:
            default_storage.delete(name)
        raise


@transaction.atomic
def _answers_save(assessment, user, inputs, source, all_or_nothing, stored) -> SaveResult:
    locked = Assessment.objects.select_for_update().get(pk=assessment.pk)
    if locked.status not in Assessment.EDITABLE_STATUSES:
        raise PermissionDenied(_("提出済みまたは承認済みの自己評価は変更できません。"))
    current = {
        a.measure_id: a
        for a in Answer.objects.select_related("updated_by").filter(
            assessment=assessment, measure__in=[i.measure for i in inputs]
        )
    }
    _check_quota(assessment.body, inputs, current)
    result = SaveResult()
    replaced: list[str] = []
    updates: list[tuple[Answer, int]] = []
    creates: list[tuple[Answer, int]] = []
    changes: list[tuple[Answer, dict]] = []
    now = timezone.now()
    for item in inputs:
        answer = current.get(item.measure.pk)
        if (answer.version if answer else 0) != item.expected_version:
            result.stale[item.measure.pk] = StaleAnswer(item.measure, answer)
            continue
        values = _new_values(answer, item.data, item.confirm)
        if item.evidence_upload is not None:
            # Stored under a random name: the user's name is kept for display and download only.
            name = default_storage.save(
                f"evidence/{assessment.body.code}/{assessment.fiscal_year}/"
                f"{uuid.uuid4().hex}.{extension(item.evidence_upload.name)}",
                item.evidence_upload,
            )
            stored.append(name)
            if answer is not None and answer.evidence_file:
                replaced.append(str(answer.evidence_file.name))
            values["evidence_file"] = name
            values["evidence_name"] = safe_filename(item.evidence_upload.name)
        diff = _diff(answer, values)
        if not diff:
            if answer:
                result.saved[item.measure.pk] = answer
            continue
        if answer is None:
            answer = Answer(assessment=assessment, measure=item.measure, version=1)
        for name, value in values.items():
            setattr(answer, name, value)
        answer.updated_by = user
        answer.full_clean(exclude=_RELATIONS, validate_unique=False, validate_constraints=False)
        (creates if answer.pk is None else updates).append((answer, item.expected_version))
        changes.append((answer, diff))
        result.saved[item.measure.pk] = answer
    if all_or_nothing and result.stale:
        raise next(iter(result.stale.values()))  # rolls back; stored files are deleted above
    if updates:
        _guarded_update(updates, user, now)
    if creates:
        try:
            with transaction.atomic():
                Answer.objects.bulk_create([a for a, _v in creates])
        except IntegrityError:
            raise _Retry from None  # a colleague answered the same measure first
    if changes:
        AnswerChange.objects.bulk_create(
            AnswerChange(answer=a, changed_by=user, changes=d, source=source) for a, d in changes
        )
        Assessment.objects.filter(pk=assessment.pk).update(version=F("version") + 1, updated_at=now)
        if locked.status == Assessment.Status.NOT_STARTED:
            workflow.assessment_transition(assessment=locked, user=user, action="start")
    for answer, _v in updates + creates:
        answer.updated_at = now
    if replaced:
        # Only once the new names are committed: a rollback keeps the old file in use. Robust: a
        # storage error is logged, never raised into answers_save (which would then delete the
        # new, committed files as if the save had failed).
        transaction.on_commit(lambda: _delete_replaced(replaced), robust=True)
    return result


def _guarded_update(updates, user, now) -> None:
    """One UPDATE for every row, each guarded by the version it was loaded with."""
    if len(updates) == 1:  # an autosave: the plain UPDATE … WHERE pk AND version
        answer, expected = updates[0]
        count = Answer.objects.filter(pk=answer.pk, version=expected).update(
            **{name: getattr(answer, name) for name in TRACKED_FIELDS},
            version=F("version") + 1,
            updated_by=user,
            updated_at=now,
        )
        if count != 1:
            raise _Retry
        answer.version = expected + 1
        return
    guard = Q()
    for answer, expected in updates:
        guard |= Q(pk=answer.pk, version=expected)
    columns = {}
    for name in TRACKED_FIELDS:
        model_field = _field(name)
        # Cast: PostgreSQL types a CASE whose branches are all NULL as text.
        columns[name] = Cast(
            Case(
                *[
                    When(pk=a.pk, then=Value(_plain(getattr(a, name)), output_field=model_field))
                    for a, _v in updates
                ],
                default=F(name),
                output_field=model_field,
            ),
            output_field=model_field,
        )
    count = Answer.objects.filter(guard).update(
        **columns, version=F("version") + 1, updated_by=user, updated_at=now
    )
    if count != len(updates):
        raise _Retry
    for answer, expected in updates:
        answer.version = expected + 1


def answer_save(
    *,
    assessment: Assessment,
    measure: Measure,
    user: User,
    data: dict,
    expected_version: int,
    source: str = "form",
    evidence_upload=None,
) -> Answer | None:
    """Save one measure's answer, or raise StaleAnswer with the colleague's current row."""
    result = answers_save(
        assessment=assessment,
        user=user,
        inputs=[AnswerInput(measure, data, expected_version, evidence_upload)],
        source=source,
    )
    if measure.pk in result.stale:
        raise result.stale[measure.pk]
    return result.saved.get(measure.pk)


def answers_confirm(*, assessment: Assessment, user: User, measures: list[Measure]) -> list[Answer]:
    """Confirm the carried-over answers (引継ぎ（未確認）) of `measures`, recorded in history.

    Answers that were not carried over are left alone; a colleague's save in between is not
    overwritten (the guarded update of answers_save).
    """
    carried = Answer.objects.filter(assessment=assessment, measure__in=measures).exclude(
        carried_over_from=""
    )
    result = answers_save(
        assessment=assessment,
        user=user,
        inputs=[
            AnswerInput(a.measure, {}, a.version, confirm=True)
            for a in carried.select_related("measure")
        ],
        source=AnswerChange.Source.CONFIRMATION,
    )
    return list(result.saved.values())


# --- Starting an assessment ----------------------------------------------------------------------


@transaction.atomic
def assessment_start(
    *,
    body: Body,
    guideline: Guideline,
    fiscal_year: int,
    user: User,
    prefill: str = "none",
) -> Assessment:
    """Create (or open) the body's assessment, move it to in progress, and carry answers over.

    Carried answers keep `carried_over_from` until a user confirms them (answers_confirm), so the
    screen shows them as 引継ぎ（未確認） and submission waits for them. Nothing is carried into an assessment that already has answers.
    """
    if prefill not in PREFILL_CHOICES:
        raise ValueError(prefill)
    if not access.can_fill_body(user, body):
        raise PermissionDenied
    # One edition of a guideline a year: an assessment a survey round made for the body (on the
    # edition the round was opened on) is the one started, even if a later edition exists.
    made = (
        Assessment.objects.filter(
            body=body, fiscal_year=fiscal_year, guideline__series=guideline.series
        )
        .select_related("guideline")
        .first()
    )
    if made is not None:
        guideline = made.guideline
    assessment, _created = Assessment.objects.get_or_create(
        body=body,
        guideline=guideline,
        fiscal_year=fiscal_year,
        defaults={
            "survey_round": SurveyRound.objects.filter(
                guideline=guideline, fiscal_year=fiscal_year
            ).first()
        },
    )
    if assessment.status == Assessment.Status.NOT_STARTED:
        workflow.assessment_transition(assessment=assessment, user=user, action="start")
    if prefill == "none" or assessment.answers.exists():
        return assessment
    if prefill == "previous_year":
        carried = _from_previous_year(assessment)
    else:
        carried = _through_crosswalk(assessment)
    if carried:
        Answer.objects.bulk_create(answer for answer, _d in carried)
        AnswerChange.objects.bulk_create(
            AnswerChange(
                answer=a, changed_by=user, changes=d, source=AnswerChange.Source.CARRY_OVER
            )
            for a, d in carried
        )
        Assessment.objects.filter(pk=assessment.pk).update(version=F("version") + 1)
        assessment.refresh_from_db()
    return assessment


def _carried(assessment, measure, old: Answer, origin: str, user=None):
    answer = Answer(assessment=assessment, measure=measure, carried_over_from=origin)
    for name in CARRIED_FIELDS:
        setattr(answer, name, getattr(old, name))
    answer.full_clean(exclude=_RELATIONS, validate_unique=False, validate_constraints=False)
    diff = {
        name: [_plain(_default(name)), _plain(getattr(answer, name))] for name in CARRIED_FIELDS
    }
    diff = {k: v for k, v in diff.items() if v[0] != v[1]}
    diff["carried_over_from"] = ["", origin]
    return answer, diff


def _from_previous_year(assessment):
    previous = (
        Assessment.objects.filter(
            body=assessment.body_id,
            guideline=assessment.guideline_id,
            fiscal_year__lt=assessment.fiscal_year,
        )
        .order_by("-fiscal_year")
        .first()
    )
    if previous is None:
        return []
    origin = _("%(year)s年度の回答") % {"year": previous.fiscal_year}
    return [
        _carried(assessment, old.measure, old, origin)
        for old in previous.answers.select_related("measure").filter(
            measure__in=Measure.objects.to_answer(assessment)
        )
        if old.is_answered
    ]


def _through_crosswalk(assessment):
    """Answers of the body's latest assessment of another guideline, along CrosswalkLink.

    Only links between measures the body answers carry (a scored source that applies to the
    body, onto a measure it answers now); where several sources map onto one target, the
    primary link decides, and the others only stand in when its source was not answered.
    """
    kinds = values_for_kind(assessment.body.kind)
    links = (
        CrosswalkLink.objects.filter(
            target__in=Measure.objects.to_answer(assessment),
            source__is_scored=True,
            source__applies_to__in=kinds,
        )
        .select_related("source", "source__guideline", "target")
        .order_by("target__order", "-primary", "source__order")
    )
    source_guidelines = {link.source.guideline_id for link in links}
    sources = {}
    for old in (
        Answer.objects.filter(
            assessment__body=assessment.body_id,
            assessment__guideline__in=source_guidelines,
            assessment__fiscal_year__lte=assessment.fiscal_year,
        )
        .exclude(assessment=assessment)
        .order_by("assessment__fiscal_year")
    ):
        sources[old.measure_id] = old  # the latest year wins
    carried, done = [], set()
    for link in links:
        source = sources.get(link.source_id)
        if link.target_id in done or source is None or not source.is_answered:
            continue
        origin = _("%(year)s年指針 %(ref)s") % {
            "year": link.source.guideline.issued_on.year,
            "ref": link.source.ref,
        }
        carried.append(_carried(assessment, link.target, source, origin))
        done.add(link.target_id)
    return carried


# --- Reading the history -------------------------------------------------------------------------
