"""Survey rounds, assessments, their answers, and what happens to them (history, review)."""

import datetime
import functools
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING, Self

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import connections, models
from django.db.models import (
    Case,
    Count,
    F,
    IntegerField,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    When,
)
from django.db.models.expressions import Combinable
from django.db.models.functions import Coalesce
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from assessments import fiscal_year as fy
from assessments import scoring
from assessments.levels import MAX_LEVEL, Choice, Level, choice_of, validate_reason
from assessments.limits import (
    ANSWER_TEXT_MAX_LENGTHS,
    REVIEW_COMMENT_MAX_LENGTH,
    REVIEW_COMMENT_MAX_LINES,
    TRANSITION_COMMENT_MAX_LENGTH,
    TRANSITION_COMMENT_MAX_LINES,
    max_length_validator,
    max_lines_validator,
    text_validators,
)
from assessments.models.catalog import Guideline, Measure
from assessments.models.registry import Body, prefecture_q, readable_bodies_q

if TYPE_CHECKING:
    from assessments.models.users import User


def validate_reminder_days(value: str) -> None:
    try:
        days = reminder_days_of(value)
    except ValueError:
        days = None
    if not days or any(d < 1 or d > 365 for d in days):
        raise ValidationError(
            _("1〜365 の日数をカンマ区切りで入力してください（例: 14,3）。"), code="invalid"
        )


def reminder_days_of(value: str) -> list[int]:
    """ "14,3" → [14, 3]"""
    return sorted(
        {int(part) for part in value.replace("、", ",").split(",") if part.strip()}, reverse=True
    )


class SurveyRound(models.Model):
    """A national survey round: one guideline, one fiscal year, every body in scope."""

    guideline = models.ForeignKey(Guideline, models.PROTECT, verbose_name=_("指針"))
    fiscal_year = models.PositiveSmallIntegerField(
        _("年度"),
        validators=[MinValueValidator(fy.MIN_FISCAL_YEAR), MaxValueValidator(fy.MAX_FISCAL_YEAR)],
    )
    due_on = models.DateField(_("提出期限"))
    reminder_days = models.CharField(
        _("期限前の督促（何日前、カンマ区切り）"),
        max_length=50,
        default="14,3",
        validators=[validate_reminder_days],
    )
    overdue_every_days = models.PositiveSmallIntegerField(
        _("期限超過後の督促の間隔（日）"),
        default=7,
        validators=[MinValueValidator(1), MaxValueValidator(90)],
        help_text=_("期限の翌日に督促し、その後この間隔で繰り返します。"),
    )
    closed_at = models.DateTimeField(_("締切日時"), null=True, blank=True)
    closed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("締め切った人"),
    )
    close_reason = models.TextField(_("締切の理由"), blank=True)
    opened_at = models.DateTimeField(_("開始日時"), auto_now_add=True)
    opened_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("開始した人"),
    )

    class Meta:
        verbose_name = _("調査回")
        verbose_name_plural = _("調査回")
        ordering = ["-fiscal_year", "guideline"]
        constraints = [
            models.UniqueConstraint(fields=["guideline", "fiscal_year"], name="round_unique"),
        ]

    def __str__(self) -> str:
        return f"{fy.label(self.fiscal_year)} {self.guideline.title_ja}"


class AssessmentStatus(models.TextChoices):
    NOT_STARTED = "not_started", _("未着手")
    IN_PROGRESS = "in_progress", _("作成中")
    SUBMITTED = "submitted", _("提出済み")
    RETURNED = "returned", _("差戻し")
    APPROVED = "approved", _("承認済み")


EDITABLE_STATUSES = (
    AssessmentStatus.NOT_STARTED,
    AssessmentStatus.IN_PROGRESS,
    AssessmentStatus.RETURNED,
)
# Assessments whose scores are results: ranked, averaged and published. Others are drafts.
RESULT_STATUSES = (AssessmentStatus.SUBMITTED, AssessmentStatus.APPROVED)


class AssessmentQuerySet(models.QuerySet):
    def visible_to(self, user: "User") -> Self:
        """Assessments `user` may read: own body, own prefecture's bodies, or all (national)."""
        return self.filter(readable_bodies_q(user, prefix="body__"))

    def of_prefecture(self, prefecture: Body, *, itself: bool = True) -> Self:
        """The prefecture's municipalities' assessments, and its own unless `itself` is False."""
        return self.filter(prefecture_q(prefecture, prefix="body__", itself=itself))

    def of_round(self, guideline: Guideline | int, fiscal_year: int) -> Self:
        return self.filter(guideline=guideline, fiscal_year=fiscal_year)

    def results(self, *, include_drafts: bool = False) -> Self:
        """Submitted and approved assessments (drafts too when a user asks for them)."""
        if include_drafts:
            return self.exclude(status=AssessmentStatus.NOT_STARTED)
        return self.filter(status__in=RESULT_STATUSES)

    def with_scores(self, guideline: Guideline | None = None) -> Self:
        """Annotate progress (answered_count, not_applicable_count, to_answer_count) and the
        score's sums (score_earned, score_possible, score_value) as one join and GROUP BY.

        Name the `guideline` when every row is of it: its number of scored measures is then one
        uncorrelated subquery, computed once instead of once per joined answer row.
        """

        def to_answer(kind: str) -> Coalesce:
            count = (
                Measure.objects.filter(
                    guideline=guideline.pk if guideline is not None else OuterRef("guideline")
                )
                .scored()
                .for_kind(kind)
                .order_by()
                .values("guideline")
                .annotate(n=Count("pk"))
                .values("n")[:1]
            )
            return Coalesce(Subquery(count, output_field=IntegerField()), 0)

        # What the body answers depends on its kind (assessments.applicability): one count for
        # prefectures and one for municipalities, each still uncorrelated for a named guideline.
        return self.annotate(
            **scoring.totals("answers__"),
            to_answer_count=Case(
                When(body__kind=Body.Kind.PREFECTURE, then=to_answer(Body.Kind.PREFECTURE)),
                default=to_answer(Body.Kind.CITY),
                output_field=IntegerField(),
            ),
        ).annotate(score_value=scoring.score_expression())

    def ranked_by_score(self, *, descending: bool = True) -> Self:
        """Results by score (annotated by with_scores), then drafts: a draft is never ranked."""
        score = (
            F("score_value").desc(nulls_last=True)
            if descending
            else F("score_value").asc(nulls_last=True)
        )
        draft = Case(When(status__in=RESULT_STATUSES, then=0), default=1)
        return self.order_by(draft, score, "body__code")

    def with_due_dates(self) -> Self:
        """Annotate `due_date`: the body's own extended due date, else its round's (or None)."""
        return self.annotate(due_date=Coalesce("due_on", "survey_round__due_on"))

    def overdue(self, today: datetime.date) -> Self:
        """Not yet submitted (nor excused) after the due date: the late ones."""
        return self.with_due_dates().filter(
            due_date__lt=today, status__in=EDITABLE_STATUSES, excusal__isnull=True
        )

    def mean_scores(self, by: Mapping[str, str | Combinable] | None = None) -> dict:
        """scoring.mean_scores over these assessments; `by` holds lookups on Answer
        ({"section": "measure__section_id", "kind": "assessment__body__kind"})."""
        return scoring.mean_scores(Answer.objects.filter(assessment__in=self.values("pk")), by)


class Assessment(models.Model):
    """One body's self-assessment against one guideline for one fiscal year."""

    Status = AssessmentStatus
    EDITABLE_STATUSES = EDITABLE_STATUSES
    RESULT_STATUSES = RESULT_STATUSES

    body = models.ForeignKey(
        Body, models.PROTECT, related_name="assessments", verbose_name=_("団体")
    )
    guideline = models.ForeignKey(
        Guideline, models.PROTECT, related_name="assessments", verbose_name=_("指針")
    )
    fiscal_year = models.PositiveSmallIntegerField(
        _("年度"),
        validators=[MinValueValidator(fy.MIN_FISCAL_YEAR), MaxValueValidator(fy.MAX_FISCAL_YEAR)],
    )
    status = models.CharField(
        _("状態"), max_length=20, choices=Status.choices, default=Status.NOT_STARTED
    )
    survey_round = models.ForeignKey(
        SurveyRound,
        models.SET_NULL,
        null=True,
        blank=True,
        related_name="assessments",
        verbose_name=_("調査回"),
    )
    version = models.PositiveIntegerField(
        _("版"), default=1, help_text=_("変更のたびに1増える（同時編集の検出・キャッシュに使用）。")
    )
    created_at = models.DateTimeField(_("作成日時"), auto_now_add=True)
    updated_at = models.DateTimeField(_("更新日時"), auto_now=True)
    submitted_at = models.DateTimeField(_("提出日時"), null=True, blank=True)
    approved_at = models.DateTimeField(_("承認日時"), null=True, blank=True)
    due_on = models.DateField(
        _("個別の提出期限"),
        null=True,
        blank=True,
        help_text=_("この団体だけ延長したときの期限（空なら調査回の期限）。"),
    )
    locked_at = models.DateTimeField(
        _("確定日時"),
        null=True,
        blank=True,
        help_text=_("都道府県の取りまとめが国に受理され、変更できなくなった日時。"),
    )

    objects = AssessmentQuerySet.as_manager()

    # Annotated by AssessmentQuerySet.with_scores() (see assessments.scoring.totals).
    answered_count: int
    not_applicable_count: int
    to_answer_count: int
    score_earned: int | None
    score_possible: int | None

    class Meta:
        verbose_name = _("自己評価")
        verbose_name_plural = _("自己評価")
        ordering = ["-fiscal_year", "body__code"]
        constraints = [
            models.UniqueConstraint(
                fields=["body", "guideline", "fiscal_year"], name="assessment_unique_per_year"
            ),
            models.CheckConstraint(
                condition=Q(fiscal_year__gte=fy.MIN_FISCAL_YEAR)
                & Q(fiscal_year__lte=fy.MAX_FISCAL_YEAR),
                name="assessment_fiscal_year_range",
            ),
            models.CheckConstraint(
                condition=Q(status__in=AssessmentStatus.values),
                name="assessment_status_valid",
            ),
            models.CheckConstraint(
                condition=~Q(status=AssessmentStatus.APPROVED) | Q(approved_at__isnull=False),
                name="assessment_approved_has_date",
            ),
        ]
        indexes = [models.Index(fields=["guideline", "fiscal_year", "status"])]

    def __str__(self) -> str:
        return f"{self.body.name} {fy.label(self.fiscal_year)} {self.guideline.code}"

    def get_absolute_url(self) -> str:
        return reverse("assessment_detail", kwargs=self.url_kwargs)

    @property
    def url_kwargs(self) -> dict:
        return {
            "body_code": self.body.code,
            "fiscal_year": self.fiscal_year,
            "guideline_code": self.guideline.code,
        }

    @property
    def is_editable(self) -> bool:
        return self.status in self.EDITABLE_STATUSES

    @property
    def fiscal_year_label(self) -> str:
        return fy.label(self.fiscal_year)

    @property
    def base_date(self) -> datetime.date:
        """The day the assessment describes: April 1 of its fiscal year (MIC's 基準日).

        A survey round is one guideline and one fiscal year and carries no date of its own, so an
        assessment in a round has its round's base date too. Notes (MeasureNote) apply from it.
        """
        return fy.fiscal_year_start(self.fiscal_year)

    @property
    def effective_due_on(self) -> datetime.date | None:
        """The due date that applies to this body: its own extension, else the round's."""
        if self.due_on is not None:
            return self.due_on
        survey_round = self.survey_round if self.survey_round_id else None
        return survey_round.due_on if survey_round is not None else None

    @property
    def is_locked(self) -> bool:
        """Part of a prefecture's accepted sign-off: nothing changes until it is returned."""
        return self.locked_at is not None

    @property
    def is_result(self) -> bool:
        """Submitted or approved: its score is a result, not a draft's (暫定)."""
        return self.status in RESULT_STATUSES

    def set_totals(self, totals: Iterable["SectionTotals"], to_answer: int) -> None:
        """Set with_scores()'s annotations from this assessment's section totals (Answer.objects.
        section_totals) and its number of measures to answer: the sums of the sections are what
        with_scores() computes over the same answers (scoring.totals), without a second query."""
        every = list(totals)
        earned, possible = sum(t.earned for t in every), sum(t.possible for t in every)
        self.answered_count = sum(t.answered for t in every)
        self.not_applicable_count = sum(t.not_applicable for t in every)
        self.to_answer_count = to_answer
        self.score_earned = earned if possible else None
        self.score_possible = possible if possible else None

    @property
    def score(self) -> scoring.Score:
        """The score as shown everywhere (needs the annotations of with_scores() or set_totals)."""
        return scoring.Score(
            value=scoring.score_of(self.score_earned, self.score_possible),
            provisional=not self.is_result,
            answered=self.answered_count,
            to_answer=self.to_answer_count,
        )


# The fields a user edits, in the order they are shown.
EDITABLE_FIELDS = (
    "level",
    "not_applicable",
    "not_applicable_reason",
    "note",
    "evidence_url",
    "department",
    "target_level",
    "target_fiscal_year",
    "improvement_plan",
)
# Carried from last year or through the crosswalk (an evidence file stays with its own answer).
CARRIED_FIELDS = tuple(f for f in EDITABLE_FIELDS if f not in ("target_fiscal_year",))
FILE_FIELDS = ("evidence_file", "evidence_name")
TRACKED_FIELDS = EDITABLE_FIELDS + FILE_FIELDS + ("carried_over_from",)


@dataclass(frozen=True)
class SectionTotals:
    """One section's progress and score in one assessment."""

    answered: int = 0
    earned: int = 0
    possible: int = 0
    not_applicable: int = 0

    @property
    def score(self) -> Decimal | None:
        return scoring.score_of(self.earned, self.possible)


class AnswerQuerySet(models.QuerySet):
    def answered(self) -> Self:
        """Answers with a level, or 該当なし with a reason (what submission requires)."""
        return self.filter(
            Q(level__isnull=False) | (Q(not_applicable=True) & ~Q(not_applicable_reason=""))
        )

    def _section_totals_query(self, assessment_ids) -> QuerySet:
        return (
            self.filter(assessment_id__in=assessment_ids)
            .values("assessment_id", "measure__section_id")
            .annotate(**scoring.totals())
            .order_by()
        )

    def section_totals(self, assessment_ids: Iterable[int] | QuerySet) -> dict:
        """{(assessment id, section id): SectionTotals}, in one grouped query for any number.

        For a list of ids asked of all answers (every page that shows a score), the statement is
        the one the ORM compiles for that many ids, compiled once per process and database
        (_section_totals_statement): compiling it took 3.5 ms of CPU, running it under 1 ms.
        """
        if isinstance(assessment_ids, QuerySet) or self.query.where:
            rows = self._section_totals_query(assessment_ids).values_list(*SECTION_TOTALS_COLUMNS)
        else:
            ids = [int(pk) for pk in assessment_ids]
            if not ids:
                return {}
            sql, params = _section_totals_statement(self.db, len(ids))
            with connections[self.db].cursor() as cursor:
                cursor.execute(sql, [ids[p.index] if isinstance(p, _Slot) else p for p in params])
                rows = cursor.fetchall()
        return {
            (assessment_id, section_id): SectionTotals(
                answered=answered, earned=earned or 0, possible=possible or 0, not_applicable=na
            )
            for assessment_id, section_id, answered, na, earned, possible in rows
        }


SECTION_TOTALS_COLUMNS = (
    "assessment_id",
    "measure__section_id",
    "answered_count",
    "not_applicable_count",
    "score_earned",
    "score_possible",
)


@dataclass(frozen=True)
class _Slot:
    """The place of the n-th assessment id among a compiled statement's parameters."""

    index: int


@functools.lru_cache(maxsize=64)
def _section_totals_statement(alias: str, count: int) -> tuple[str, tuple]:
    """AnswerQuerySet.section_totals' statement for `count` ids, as the ORM compiles it for the
    database `alias`, with a _Slot in place of each id (negative stand-ins while compiling: no
    other parameter of it is negative). Same SQL, same parameters, compiled once."""
    stand_ins = [-(i + 1) for i in range(count)]
    query = Answer.objects.using(alias)._section_totals_query(stand_ins)
    compiler = query.values_list(*SECTION_TOTALS_COLUMNS).query.get_compiler(using=alias)
    sql, params = compiler.as_sql()
    slots = tuple(
        _Slot(-p - 1) if isinstance(p, int) and not isinstance(p, bool) and p < 0 else p
        for p in params
    )
    assert sum(isinstance(p, _Slot) for p in slots) == count, sql
    return sql, slots


class Answer(models.Model):
    """A body's answer to one scored measure: a level, or 該当なし with a reason."""

    assessment = models.ForeignKey(
        Assessment, models.CASCADE, related_name="answers", verbose_name=_("自己評価")
    )
    measure = models.ForeignKey(
        Measure, models.PROTECT, related_name="answers", verbose_name=_("項目")
    )
    level = models.PositiveSmallIntegerField(
        _("レベル"), choices=Level.choices, null=True, blank=True
    )
    not_applicable = models.BooleanField(_("該当なし"), default=False)
    not_applicable_reason = models.TextField(
        _("該当なしの理由"),
        blank=True,
        max_length=ANSWER_TEXT_MAX_LENGTHS["not_applicable_reason"],
        validators=text_validators("not_applicable_reason"),
    )
    note = models.TextField(
        _("備考"),
        blank=True,
        max_length=ANSWER_TEXT_MAX_LENGTHS["note"],
        validators=text_validators("note"),
    )
    evidence_url = models.URLField(_("根拠資料のURL"), max_length=500, blank=True)
    evidence_file = models.FileField(
        _("根拠資料のファイル"), upload_to="evidence/%Y/%m/", blank=True, max_length=300
    )
    evidence_name = models.CharField(_("根拠資料のファイル名"), max_length=255, blank=True)
    department = models.CharField(
        _("担当部署"),
        max_length=ANSWER_TEXT_MAX_LENGTHS["department"],
        blank=True,
    )
    target_level = models.PositiveSmallIntegerField(
        _("目標レベル"), choices=Level.choices, null=True, blank=True
    )
    target_fiscal_year = models.PositiveSmallIntegerField(
        _("目標年度"),
        null=True,
        blank=True,
        validators=[MinValueValidator(fy.MIN_FISCAL_YEAR), MaxValueValidator(fy.MAX_FISCAL_YEAR)],
    )
    improvement_plan = models.TextField(
        _("改善計画"),
        blank=True,
        max_length=ANSWER_TEXT_MAX_LENGTHS["improvement_plan"],
        validators=text_validators("improvement_plan"),
    )
    carried_over_from = models.CharField(
        _("引継ぎ元"),
        max_length=100,
        blank=True,
        help_text=_("前年度または旧指針から引き継いだ回答で、まだ確認されていないもの。"),
    )
    version = models.PositiveIntegerField(_("版"), default=1)
    updated_at = models.DateTimeField(_("更新日時"), auto_now=True)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("更新した人"),
    )

    objects = AnswerQuerySet.as_manager()

    class Meta:
        verbose_name = _("回答")
        verbose_name_plural = _("回答")
        ordering = ["assessment", "measure__order"]
        constraints = [
            models.UniqueConstraint(fields=["assessment", "measure"], name="answer_unique"),
            models.CheckConstraint(
                condition=Q(level__isnull=True) | Q(level__lte=MAX_LEVEL),
                name="answer_level_range",
            ),
            models.CheckConstraint(
                condition=Q(target_level__isnull=True) | Q(target_level__lte=MAX_LEVEL),
                name="answer_target_level_range",
            ),
            models.CheckConstraint(
                condition=~Q(not_applicable=True) | Q(level__isnull=True),
                name="answer_na_has_no_level",
            ),
            models.CheckConstraint(
                condition=~Q(not_applicable=True) | ~Q(not_applicable_reason=""),
                name="answer_na_needs_reason",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.assessment} {self.measure.ref}"

    @property
    def is_answered(self) -> bool:
        return self.not_applicable or self.level is not None

    @property
    def choice(self) -> Choice:
        """The level and 該当なし as one choice (assessments.levels)."""
        return choice_of(self)

    def clean(self) -> None:
        validate_reason(self.choice, self.not_applicable_reason)


class ChangeSource(models.TextChoices):
    """How a change reached the answer (shown in its history)."""

    FORM = "form", _("画面から保存")
    AUTOSAVE = "autosave", _("自動保存")
    QUESTIONNAIRE = "questionnaire", _("調査票（Excel）の取込み")
    CARRY_OVER = "carry-over", _("引継ぎ")
    CONFIRMATION = "confirmation", _("引継ぎの確認")
    REVIEWER = "reviewer", _("審査担当")


class AnswerChange(models.Model):
    """One save of an answer: who, when, and each changed field's old and new value."""

    Source = ChangeSource

    answer = models.ForeignKey(
        Answer, models.CASCADE, related_name="changes", verbose_name=_("回答")
    )
    changed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        models.SET_NULL,
        null=True,
        related_name="+",
        verbose_name=_("変更した人"),
    )
    changed_at = models.DateTimeField(_("変更日時"), auto_now_add=True)
    changes = models.JSONField(_("変更内容"), help_text=_('{"項目名": ["旧", "新"]}'))
    source = models.CharField(
        _("経路"), max_length=30, choices=ChangeSource.choices, default=ChangeSource.FORM
    )

    class Meta:
        verbose_name = _("回答の変更履歴")
        verbose_name_plural = _("回答の変更履歴")
        ordering = ["-changed_at", "-id"]

    def __str__(self) -> str:
        return f"{self.answer} {self.changed_at:%Y-%m-%d %H:%M}"


class AssessmentTransition(models.Model):
    """A change of an assessment's status (submitted, returned, approved …) and why."""

    assessment = models.ForeignKey(
        Assessment, models.CASCADE, related_name="transitions", verbose_name=_("自己評価")
    )
    from_status = models.CharField(_("変更前"), max_length=20, choices=Assessment.Status.choices)
    to_status = models.CharField(_("変更後"), max_length=20, choices=Assessment.Status.choices)
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        models.SET_NULL,
        null=True,
        related_name="+",
        verbose_name=_("操作した人"),
    )
    at = models.DateTimeField(_("日時"), default=timezone.now)
    comment = models.TextField(
        _("コメント"),
        blank=True,
        max_length=TRANSITION_COMMENT_MAX_LENGTH,
        validators=[
            max_length_validator(TRANSITION_COMMENT_MAX_LENGTH),
            max_lines_validator(TRANSITION_COMMENT_MAX_LINES),
        ],
    )

    class Meta:
        verbose_name = _("状態の変更")
        verbose_name_plural = _("状態の変更")
        ordering = ["at", "id"]

    def __str__(self) -> str:
        return f"{self.assessment}: {self.from_status} → {self.to_status}"


class ReviewComment(models.Model):
    """A reviewer's comment on one measure of a submitted assessment."""

    assessment = models.ForeignKey(
        Assessment, models.CASCADE, related_name="review_comments", verbose_name=_("自己評価")
    )
    measure = models.ForeignKey(Measure, models.PROTECT, related_name="+", verbose_name=_("項目"))
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        models.SET_NULL,
        null=True,
        related_name="+",
        verbose_name=_("コメントした人"),
    )
    body = models.TextField(
        _("コメント"),
        max_length=REVIEW_COMMENT_MAX_LENGTH,
        validators=[
            max_length_validator(REVIEW_COMMENT_MAX_LENGTH),
            max_lines_validator(REVIEW_COMMENT_MAX_LINES),
        ],
    )
    needs_fix = models.BooleanField(_("要修正"), default=False)
    created_at = models.DateTimeField(_("日時"), auto_now_add=True)
    resolved_at = models.DateTimeField(_("対応日時"), null=True, blank=True)

    class Meta:
        verbose_name = _("審査コメント")
        verbose_name_plural = _("審査コメント")
        ordering = ["measure__order", "created_at"]

    def __str__(self) -> str:
        return f"{self.assessment} {self.measure.ref}: {self.body[:30]}"
