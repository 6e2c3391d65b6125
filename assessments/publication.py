"""Publishing a closed round's statistics (統計の公表), and correcting them.

`statistics_publish` tabulates the round (selectors.statistics.tabulate), and:
- the first time, creates release 第N号 (N: the next number) and its version 1;
- later, compares the new tables with the latest version cell by cell: no changed cell → no new
  version (ValidationError "no_change"); else version n+1, whose 正誤表 lists each changed cell
  修正前 → 修正後, with the date and the reason (required).
The version's CSV, XLSX and PDF are rendered here, once, and stored with their SHA-256; nothing
ever renders an earlier version again, so its files stay byte for byte what was published.

Data of a closed round is locked. To correct it, a national administrator reopens one approved
assessment for correction (`correction_reopen`, recorded with the reason): it is unlocked and
goes back to 差戻し; once it is approved again, publishing locks it again. While an assessment
reopened this way is not approved, the round cannot be published.
"""

from dataclasses import dataclass, field

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.translation import gettext as _

from assessments import access, workflow
from assessments.models import (
    Assessment,
    AssessmentTransition,
    Correction,
    ReleaseVersion,
    StatisticsRelease,
    SurveyRound,
    User,
)
from assessments.reports.statistics import statistics_csv, statistics_pdf, statistics_xlsx
from assessments.selectors.statistics import (
    BY_CATEGORY,
    BY_PREFECTURE,
    PublishedTables,
    base_date,
    tabulate,
)


@dataclass(frozen=True)
class CellChange:
    """One cell of a table whose figure changed: (count, denominator) before and after."""

    table: str
    measure_ref: str
    measure_title: str
    row_key: str
    row_label: str
    column_key: str
    column_label: str
    before: tuple[int, int]
    after: tuple[int, int]


@dataclass
class Preview:
    """What publishing the round now would do (the dry run)."""

    survey_round: SurveyRound
    data: dict
    release: StatisticsRelease | None
    previous: ReleaseVersion | None
    changes: list[CellChange] = field(default_factory=list)
    blockers: list[str] = field(default_factory=list)

    @property
    def next_version(self) -> int:
        return self.previous.number + 1 if self.previous else 1

    @property
    def unchanged(self) -> bool:
        return self.previous is not None and not self.changes

    @property
    def can_publish(self) -> bool:
        return not self.blockers and not self.unchanged


def _cells(data: dict) -> dict[tuple[str, str, str, str], tuple[int, int, str, str, str]]:
    """{(table, ref, row, column): (count, denominator, measure title, row label, column
    label)} of every cell of the frozen data."""
    tables = PublishedTables(data)
    labels = dict(tables.columns)
    result = {}
    for table in (BY_CATEGORY, BY_PREFECTURE):
        for measure in tables.tables(table):
            for row in measure.rows:
                for (column, _label), cell in zip(tables.columns, row.cells, strict=True):
                    result[(table, measure.ref, row.key, column)] = (
                        cell.count,
                        cell.total,
                        measure.title,
                        row.label,
                        labels[column],
                    )
    return result


def changed_cells(before: dict, after: dict) -> list[CellChange]:
    """Every cell whose count or denominator differs between two versions' data, in the order
    of the newer tables (cells only in the older data last)."""
    old, new = _cells(before), _cells(after)
    changes = []
    for key in [*new, *(k for k in old if k not in new)]:
        was, now = old.get(key), new.get(key)
        if was is not None and now is not None and was[:2] == now[:2]:
            continue
        labels = (now or was)[2:]  # type: ignore[index]
        changes.append(
            CellChange(
                *key[:2],
                labels[0],
                key[2],
                labels[1],
                key[3],
                labels[2],
                before=was[:2] if was else (0, 0),
                after=now[:2] if now else (0, 0),
            )
        )
    return changes


def _blockers(survey_round: SurveyRound) -> list[str]:
    if survey_round.closed_at is None:
        return [_("調査回が締め切られていないため、公表できません。")]
    in_correction = (
        Assessment.objects.filter(survey_round=survey_round, locked_at__isnull=True)
        .exclude(status=Assessment.Status.APPROVED)
        .select_related("body")
        .order_by("body__code")
    )
    return [
        _("%(body)s は修正のため再開中です（承認されるまで公表できません）。")
        % {"body": a.body.name}
        for a in in_correction
    ]


def publication_preview(survey_round: SurveyRound) -> Preview:
    """Tabulate the round and compare it with its latest published version (if any)."""
    data = tabulate(survey_round.guideline, survey_round.fiscal_year).as_data()
    release = StatisticsRelease.objects.filter(survey_round=survey_round).first()
    previous = release.versions.order_by("-number").first() if release else None
    preview = Preview(survey_round, data, release, previous, blockers=_blockers(survey_round))
    if previous is not None:
        preview.changes = changed_cells(previous.data, data)
    return preview


@transaction.atomic
def statistics_publish(
    *, survey_round: SurveyRound, user: User | None, note: str = ""
) -> ReleaseVersion:
    """Publish the round's statistics as a new version (see the module's docstring).

    `user` is the national administrator publishing from the web; None for the management
    command (the operator)."""
    if user is not None:
        access.require_national_admin(user)
    survey_round = SurveyRound.objects.select_for_update().get(pk=survey_round.pk)
    preview = publication_preview(survey_round)
    note = (note or "").strip()
    if preview.blockers:
        raise ValidationError(preview.blockers, code="blocked")
    if preview.unchanged:
        raise ValidationError(
            _("前回の公表（第%(n)s版）から数値に変更がないため、新しい版は作成しません。")
            % {"n": preview.previous.number if preview.previous else 0},
            code="no_change",
        )
    if preview.previous is not None and not note:
        raise ValidationError(_("修正の理由を入力してください。"), code="reason_required")
    release = preview.release
    if release is None:
        number = (StatisticsRelease.objects.aggregate(n=Max("number"))["n"] or 0) + 1
        release = StatisticsRelease.objects.create(
            number=number,
            survey_round=survey_round,
            base_date=base_date(survey_round.fiscal_year),
        )
    version = ReleaseVersion(
        release=release,
        number=preview.next_version,
        published_at=timezone.now(),
        published_by=user,
        note=note,
        data=preview.data,
    )
    corrections = [
        Correction(
            version=version,
            order=i,
            table=c.table,
            measure_ref=c.measure_ref,
            measure_title=c.measure_title,
            row_key=c.row_key,
            row_label=c.row_label,
            column_key=c.column_key,
            column_label=c.column_label,
            before_count=c.before[0],
            before_total=c.before[1],
            after_count=c.after[0],
            after_total=c.after[1],
        )
        for i, c in enumerate(preview.changes, start=1)
    ]
    version.set_file("csv", statistics_csv(version.data))
    version.set_file("xlsx", statistics_xlsx(version.data))
    version.set_file("pdf", statistics_pdf(version, corrections))
    version.full_clean(exclude=["release", "published_by"])
    version.save()
    Correction.objects.bulk_create(corrections)
    # Assessments reopened for correction and approved again are locked again with the round.
    Assessment.objects.filter(survey_round=survey_round, locked_at__isnull=True).update(
        locked_at=version.published_at
    )
    return version


@transaction.atomic
def correction_reopen(*, assessment: Assessment, user: User, reason: str) -> AssessmentTransition:
    """Reopen an approved assessment of a closed round for correction (recorded, with the
    reason): it is unlocked and goes back to 差戻し for its body to correct and resubmit."""
    access.require_national_admin(user)
    survey_round = assessment.survey_round
    if survey_round is None or survey_round.closed_at is None:
        raise ValidationError(
            _("締め切られた調査回の自己評価だけを修正のため再開できます。"), code="not_closed"
        )
    if assessment.status != Assessment.Status.APPROVED:
        raise ValidationError(_("再開できるのは承認済みの自己評価だけです。"), code="state")
    if not (reason or "").strip():
        raise ValidationError(_("再開の理由を入力してください。"), code="reason_required")
    Assessment.objects.filter(pk=assessment.pk).update(locked_at=None)
    assessment.locked_at = None
    return workflow.assessment_transition(
        assessment=assessment, user=user, action="reopen", comment=reason
    )
