"""The domain: guidelines and their measures, the registry of bodies, and their assessments."""

from django.conf import settings
from django.contrib.auth.models import AbstractUser
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from assessments import fiscal_year as fy
from assessments.codes import validate_body_code

MAX_LEVEL = 4


def _localized(obj, field: str) -> str:
    """Return the English value of `field` when the active language is English and one exists."""
    if (get_language() or "ja").startswith("en"):
        value = getattr(obj, f"{field}_en", "")
        if value:
            return value
    return getattr(obj, f"{field}_ja")


class Level(models.IntegerChoices):
    """The maturity scale shared by every measure; each measure describes its own levels."""

    NOT_STARTED = 0, _("0 未着手")
    PLANNING = 1, _("1 検討・計画中")
    PARTIAL = 2, _("2 一部実施")
    OPERATING = 3, _("3 全庁的に運用")
    IMPROVING = 4, _("4 評価・改善")


# --- Catalog -----------------------------------------------------------------------------------


class Guideline(models.Model):
    code = models.SlugField(_("コード"), max_length=40, unique=True)
    title_ja = models.CharField(_("名称"), max_length=200)
    title_en = models.CharField(_("名称（英語）"), max_length=200)
    issuer_ja = models.CharField(_("発出者"), max_length=100)
    issuer_en = models.CharField(_("発出者（英語）"), max_length=150)
    issued_on = models.DateField(_("発出日"))
    note_ja = models.CharField(_("備考"), max_length=200, blank=True)
    note_en = models.CharField(_("備考（英語）"), max_length=200, blank=True)
    section_depth = models.PositiveSmallIntegerField(
        _("章として扱う階層"),
        default=1,
        validators=[MinValueValidator(1), MaxValueValidator(4)],
        help_text=_("画面の章・章別スコアに使う階層（1 = 最上位）。"),
    )

    class Meta:
        verbose_name = _("指針")
        verbose_name_plural = _("指針")
        ordering = ["issued_on"]

    def __str__(self) -> str:
        return f"{self.title_ja}（{self.issued_on.year}）"

    @property
    def title(self) -> str:
        return _localized(self, "title")

    @property
    def issuer(self) -> str:
        return _localized(self, "issuer")


class MeasureQuerySet(models.QuerySet):
    def scored(self):
        return self.filter(is_scored=True)

    def sections(self):
        return self.filter(depth=models.F("guideline__section_depth"))


class Measure(models.Model):
    """A numbered heading of a guideline; its leaves (most of them) are scored measures."""

    guideline = models.ForeignKey(
        Guideline, models.CASCADE, related_name="measures", verbose_name=_("指針")
    )
    parent = models.ForeignKey(
        "self",
        models.CASCADE,
        null=True,
        blank=True,
        related_name="children",
        verbose_name=_("上位項目"),
    )
    section = models.ForeignKey(
        "self",
        models.PROTECT,
        null=True,
        blank=True,
        related_name="section_measures",
        verbose_name=_("章"),
        help_text=_("指針の section_depth の階層にある祖先（章）。"),
    )
    label = models.CharField(_("番号"), max_length=10, help_text=_("指針の表記のまま（例: ②）"))
    ref = models.CharField(_("参照番号"), max_length=40, help_text=_("例: II.1.(2)②"))
    depth = models.PositiveSmallIntegerField(_("階層"))
    order = models.PositiveIntegerField(_("順序"))
    title_ja = models.CharField(_("見出し"), max_length=200)
    title_en = models.CharField(_("見出し（英語）"), max_length=300)
    guidance_ja = models.TextField(_("解説"), blank=True)
    guidance_en = models.TextField(_("解説（英語）"), blank=True)
    is_scored = models.BooleanField(_("採点対象"), default=False)
    weight = models.PositiveSmallIntegerField(
        _("重み"), default=1, validators=[MinValueValidator(1), MaxValueValidator(10)]
    )

    objects = MeasureQuerySet.as_manager()

    class Meta:
        verbose_name = _("項目")
        verbose_name_plural = _("項目")
        ordering = ["guideline", "order"]
        constraints = [
            models.UniqueConstraint(fields=["guideline", "ref"], name="measure_unique_ref"),
            models.UniqueConstraint(fields=["guideline", "order"], name="measure_unique_order"),
            models.CheckConstraint(
                condition=Q(weight__gte=1) & Q(weight__lte=10), name="measure_weight_range"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.ref} {self.title_ja}"

    @property
    def title(self) -> str:
        return _localized(self, "title")

    @property
    def guidance(self) -> str:
        return _localized(self, "guidance")


class LevelDescription(models.Model):
    """What one level of the maturity scale looks like for one measure."""

    measure = models.ForeignKey(
        Measure, models.CASCADE, related_name="level_descriptions", verbose_name=_("項目")
    )
    level = models.PositiveSmallIntegerField(_("レベル"), choices=Level.choices)
    description_ja = models.TextField(_("説明"))
    description_en = models.TextField(_("説明（英語）"))

    class Meta:
        verbose_name = _("レベルの説明")
        verbose_name_plural = _("レベルの説明")
        ordering = ["measure", "level"]
        constraints = [
            models.UniqueConstraint(fields=["measure", "level"], name="level_description_unique"),
            models.CheckConstraint(
                condition=Q(level__lte=MAX_LEVEL), name="level_description_range"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.measure.ref} L{self.level}"

    @property
    def description(self) -> str:
        return _localized(self, "description")


class CrosswalkLink(models.Model):
    """Two measures of different guidelines that ask for the same thing."""

    source = models.ForeignKey(
        Measure, models.CASCADE, related_name="crosswalk_out", verbose_name=_("移行元の項目")
    )
    target = models.ForeignKey(
        Measure, models.CASCADE, related_name="crosswalk_in", verbose_name=_("移行先の項目")
    )
    note_ja = models.CharField(_("対応の説明"), max_length=300, blank=True)
    note_en = models.CharField(_("対応の説明（英語）"), max_length=300, blank=True)

    class Meta:
        verbose_name = _("指針間の対応")
        verbose_name_plural = _("指針間の対応")
        constraints = [
            models.UniqueConstraint(fields=["source", "target"], name="crosswalk_unique_pair"),
            models.CheckConstraint(
                condition=~Q(source=models.F("target")), name="crosswalk_not_self"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.source} → {self.target}"


# --- Registry of bodies ------------------------------------------------------------------------


class BodyQuerySet(models.QuerySet):
    def prefectures(self):
        return self.filter(kind=Body.Kind.PREFECTURE)

    def municipalities(self):
        return self.exclude(kind=Body.Kind.PREFECTURE)


class Body(models.Model):
    """A local government (地方公共団体): a prefecture or a municipality."""

    class Kind(models.TextChoices):
        PREFECTURE = "prefecture", _("都道府県")
        DESIGNATED_CITY = "designated_city", _("政令指定都市")
        CORE_CITY = "core_city", _("中核市")
        CITY = "city", _("市")
        TOWN = "town", _("町")
        VILLAGE = "village", _("村")
        SPECIAL_WARD = "special_ward", _("特別区")

    code = models.CharField(
        _("団体コード"), max_length=6, unique=True, validators=[validate_body_code]
    )
    name = models.CharField(_("団体名"), max_length=50)
    name_kana = models.CharField(_("団体名（カナ）"), max_length=100)
    name_en = models.CharField(_("団体名（英語）"), max_length=100, blank=True)
    kind = models.CharField(_("区分"), max_length=20, choices=Kind.choices)
    prefecture = models.ForeignKey(
        "self",
        models.PROTECT,
        null=True,
        blank=True,
        related_name="municipalities",
        limit_choices_to={"kind": Kind.PREFECTURE},
        verbose_name=_("都道府県"),
    )

    objects = BodyQuerySet.as_manager()

    class Meta:
        verbose_name = _("団体")
        verbose_name_plural = _("団体")
        ordering = ["code"]
        constraints = [
            models.CheckConstraint(
                condition=(Q(kind="prefecture") & Q(prefecture__isnull=True))
                | (~Q(kind="prefecture") & Q(prefecture__isnull=False)),
                name="body_prefecture_iff_municipality",
            ),
            models.CheckConstraint(
                condition=Q(code__regex=r"^[0-9]{6}$"), name="body_code_six_digits"
            ),
        ]

    def __str__(self) -> str:
        if self.prefecture_id and self.kind != self.Kind.PREFECTURE:
            return f"{self.prefecture.name}{self.name}（{self.code}）"
        return f"{self.name}（{self.code}）"

    @property
    def is_prefecture(self) -> bool:
        return self.kind == self.Kind.PREFECTURE

    @property
    def prefecture_number(self) -> str:
        return self.code[:2]


# --- Users -------------------------------------------------------------------------------------


class User(AbstractUser):
    class Role(models.TextChoices):
        BODY_STAFF = "body_staff", _("団体の担当者")
        BODY_VIEWER = "body_viewer", _("団体の閲覧者")
        PREFECTURE_REVIEWER = "prefecture_reviewer", _("都道府県の審査担当")
        NATIONAL_ADMIN = "national_admin", _("国の管理者")

    role = models.CharField(_("役割"), max_length=30, choices=Role.choices, blank=True)
    body = models.ForeignKey(
        Body,
        models.PROTECT,
        null=True,
        blank=True,
        related_name="users",
        verbose_name=_("所属団体"),
        help_text=_("担当者・閲覧者は自団体、審査担当は担当する都道府県。"),
    )
    department = models.CharField(_("所属部署"), max_length=100, blank=True)

    class Meta:
        verbose_name = _("利用者")
        verbose_name_plural = _("利用者")
        constraints = [
            models.CheckConstraint(
                condition=Q(role="") | Q(role="national_admin") | Q(body__isnull=False),
                name="user_body_required_for_role",
            ),
        ]

    def get_full_name(self) -> str:
        """Family name first, as Japanese names are written (札幌 花子)."""
        return f"{self.last_name} {self.first_name}".strip()

    @property
    def is_national_admin(self) -> bool:
        return self.role == self.Role.NATIONAL_ADMIN

    @property
    def is_prefecture_reviewer(self) -> bool:
        return self.role == self.Role.PREFECTURE_REVIEWER

    @property
    def is_body_staff(self) -> bool:
        return self.role == self.Role.BODY_STAFF

    @property
    def is_body_member(self) -> bool:
        return self.role in (self.Role.BODY_STAFF, self.Role.BODY_VIEWER)


# --- Survey rounds and assessments -------------------------------------------------------------


class SurveyRound(models.Model):
    """A national survey round: one guideline, one fiscal year, every body in scope."""

    guideline = models.ForeignKey(Guideline, models.PROTECT, verbose_name=_("指針"))
    fiscal_year = models.PositiveSmallIntegerField(
        _("年度"),
        validators=[MinValueValidator(fy.MIN_FISCAL_YEAR), MaxValueValidator(fy.MAX_FISCAL_YEAR)],
    )
    due_on = models.DateField(_("提出期限"))
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


class AssessmentQuerySet(models.QuerySet):
    def visible_to(self, user):
        """Assessments `user` may read: own body, own prefecture's bodies, or all (national)."""
        from assessments.access import visible_bodies_q

        return self.filter(visible_bodies_q(user, prefix="body__"))

    def with_scores(self):
        from assessments.scoring import annotate_scores

        return annotate_scores(self)


class Assessment(models.Model):
    """One body's self-assessment against one guideline for one fiscal year."""

    class Status(models.TextChoices):
        NOT_STARTED = "not_started", _("未着手")
        IN_PROGRESS = "in_progress", _("作成中")
        SUBMITTED = "submitted", _("提出済み")
        RETURNED = "returned", _("差戻し")
        APPROVED = "approved", _("承認済み")

    EDITABLE_STATUSES = (Status.NOT_STARTED, Status.IN_PROGRESS, Status.RETURNED)

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

    objects = AssessmentQuerySet.as_manager()

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
                condition=Q(
                    status__in=["not_started", "in_progress", "submitted", "returned", "approved"]
                ),
                name="assessment_status_valid",
            ),
            models.CheckConstraint(
                condition=~Q(status="approved") | Q(approved_at__isnull=False),
                name="assessment_approved_has_date",
            ),
        ]
        indexes = [models.Index(fields=["guideline", "fiscal_year", "status"])]

    def __str__(self) -> str:
        return f"{self.body.name} {fy.label(self.fiscal_year)} {self.guideline.code}"

    def get_absolute_url(self) -> str:
        from django.urls import reverse

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
    not_applicable_reason = models.TextField(_("該当なしの理由"), blank=True)
    note = models.TextField(_("備考"), blank=True)
    evidence_url = models.URLField(_("根拠資料のURL"), max_length=500, blank=True)
    evidence_file = models.FileField(
        _("根拠資料のファイル"), upload_to="evidence/%Y/%m/", blank=True, max_length=300
    )
    evidence_name = models.CharField(_("根拠資料のファイル名"), max_length=255, blank=True)
    department = models.CharField(_("担当部署"), max_length=100, blank=True)
    target_level = models.PositiveSmallIntegerField(
        _("目標レベル"), choices=Level.choices, null=True, blank=True
    )
    target_fiscal_year = models.PositiveSmallIntegerField(
        _("目標年度"),
        null=True,
        blank=True,
        validators=[MinValueValidator(fy.MIN_FISCAL_YEAR), MaxValueValidator(fy.MAX_FISCAL_YEAR)],
    )
    improvement_plan = models.TextField(_("改善計画"), blank=True)
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


class AnswerChange(models.Model):
    """One save of an answer: who, when, and each changed field's old and new value."""

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
    source = models.CharField(_("経路"), max_length=30, default="form")

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
    comment = models.TextField(_("コメント"), blank=True)

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
    body = models.TextField(_("コメント"))
    needs_fix = models.BooleanField(_("要修正"), default=False)
    created_at = models.DateTimeField(_("日時"), auto_now_add=True)
    resolved_at = models.DateTimeField(_("対応日時"), null=True, blank=True)

    class Meta:
        verbose_name = _("審査コメント")
        verbose_name_plural = _("審査コメント")
        ordering = ["measure__order", "created_at"]

    def __str__(self) -> str:
        return f"{self.assessment} {self.measure.ref}: {self.body[:30]}"


# --- Report batches ----------------------------------------------------------------------------


class ReportBatch(models.Model):
    """A background job rendering the PDFs of a prefecture's bodies into one ZIP file."""

    class Status(models.TextChoices):
        QUEUED = "queued", _("待機中")
        RUNNING = "running", _("作成中")
        DONE = "done", _("完了")
        FAILED = "failed", _("失敗")

    public_id = models.UUIDField(_("公開ID"), unique=True, editable=False)
    prefecture = models.ForeignKey(
        Body,
        models.PROTECT,
        related_name="report_batches",
        limit_choices_to={"kind": Body.Kind.PREFECTURE},
        verbose_name=_("都道府県"),
    )
    guideline = models.ForeignKey(Guideline, models.PROTECT, verbose_name=_("指針"))
    fiscal_year = models.PositiveSmallIntegerField(_("年度"))
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        models.SET_NULL,
        null=True,
        related_name="+",
        verbose_name=_("依頼した人"),
    )
    status = models.CharField(
        _("状態"), max_length=10, choices=Status.choices, default=Status.QUEUED
    )
    total = models.PositiveIntegerField(_("対象数"), default=0)
    done = models.PositiveIntegerField(_("作成済み"), default=0)
    failed = models.PositiveIntegerField(_("失敗"), default=0)
    error = models.TextField(_("エラー"), blank=True)
    zip_name = models.CharField(_("ZIPファイル"), max_length=200, blank=True)
    created_at = models.DateTimeField(_("依頼日時"), auto_now_add=True)
    finished_at = models.DateTimeField(_("完了日時"), null=True, blank=True)

    class Meta:
        verbose_name = _("帳票の一括作成")
        verbose_name_plural = _("帳票の一括作成")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(condition=Q(done__lte=F("total")), name="batch_done_le_total"),
        ]

    def __str__(self) -> str:
        return f"{self.prefecture.name} {fy.label(self.fiscal_year)} {self.guideline.code}"

    @property
    def percent(self) -> int:
        return round(100 * self.done / self.total) if self.total else 0

    @property
    def is_finished(self) -> bool:
        return self.status in (self.Status.DONE, self.Status.FAILED)
