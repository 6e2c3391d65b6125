"""Background jobs that render many reports into one ZIP file."""

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

from assessments import fiscal_year as fy
from assessments.models.catalog import Guideline
from assessments.models.registry import Body


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


class ReportRender(models.Model):
    """One assessment PDF rendered by the worker, for one state of the assessment.

    `cache_key` names the state and the language (reports.pdf.report_cache_key): one render per
    state, so a click on a failed render shows the failure instead of starting it again.
    """

    class Status(models.TextChoices):
        QUEUED = "queued", _("待機中")
        RUNNING = "running", _("作成中")
        DONE = "done", _("完了")
        FAILED = "failed", _("失敗")

    assessment = models.ForeignKey(
        "assessments.Assessment",
        models.CASCADE,
        related_name="report_renders",
        verbose_name=_("自己評価"),
    )
    cache_key = models.CharField(_("キャッシュキー"), max_length=255, unique=True)
    language = models.CharField(_("言語"), max_length=10)
    status = models.CharField(
        _("状態"), max_length=10, choices=Status.choices, default=Status.QUEUED
    )
    error = models.TextField(_("エラー"), blank=True)
    attempts = models.PositiveSmallIntegerField(_("試行回数"), default=0)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("依頼した人"),
    )
    created_at = models.DateTimeField(_("依頼日時"), auto_now_add=True)
    started_at = models.DateTimeField(_("開始日時"), null=True, blank=True)
    finished_at = models.DateTimeField(_("完了日時"), null=True, blank=True)

    class Meta:
        verbose_name = _("報告書の作成")
        verbose_name_plural = _("報告書の作成")
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.assessment_id} {self.language} {self.status}"

    @property
    def is_finished(self) -> bool:
        return self.status in (self.Status.DONE, self.Status.FAILED)
