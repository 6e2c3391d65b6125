"""Published statistics (統計の公表): a closed round's results as a numbered release, each
publication a version whose tables and files are frozen when it is published.

A version stores the tabulated data (JSON) and the bytes of its CSV, XLSX and PDF with their
SHA-256, made once at publication and never again, so every earlier version stays downloadable
byte for byte. A version after the first corrects the one before it: its 正誤表 (Correction)
lists each changed cell 修正前 → 修正後; the date and the reason are the version's.
"""

import hashlib

from django.conf import settings
from django.db import models
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from assessments import scoring
from assessments.limits import TRANSITION_COMMENT_MAX_LENGTH, max_length_validator
from assessments.models.assessments import SurveyRound


class StatisticsRelease(models.Model):
    """One round's published statistics: 第N号, with the base date (April 1 of the year)."""

    number = models.PositiveIntegerField(_("号"), unique=True)
    survey_round = models.OneToOneField(
        SurveyRound, models.PROTECT, related_name="release", verbose_name=_("調査回")
    )
    base_date = models.DateField(_("基準日"))
    created_at = models.DateTimeField(_("作成日時"), auto_now_add=True)

    class Meta:
        verbose_name = _("統計の公表")
        verbose_name_plural = _("統計の公表")
        ordering = ["-number"]

    def __str__(self) -> str:
        return str(_("第%(number)s号") % {"number": self.number})

    def get_absolute_url(self) -> str:
        return reverse("statistics_release", kwargs={"number": self.number})


class FileKind(models.TextChoices):
    CSV = "csv", "CSV"
    XLSX = "xlsx", "XLSX"
    PDF = "pdf", "PDF"


class ReleaseVersion(models.Model):
    """One publication of a release: version 1, or a correction of the version before."""

    FileKind = FileKind

    release = models.ForeignKey(
        StatisticsRelease, models.PROTECT, related_name="versions", verbose_name=_("公表")
    )
    number = models.PositiveSmallIntegerField(_("版"))
    published_at = models.DateTimeField(_("公表日時"))
    published_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("公表した人"),
    )
    note = models.TextField(
        _("備考・修正の理由"),
        blank=True,
        max_length=TRANSITION_COMMENT_MAX_LENGTH,
        validators=[max_length_validator(TRANSITION_COMMENT_MAX_LENGTH)],
    )
    data = models.JSONField(_("集計データ"))
    csv = models.BinaryField(_("CSV"))
    csv_sha256 = models.CharField(max_length=64)
    xlsx = models.BinaryField(_("XLSX"))
    xlsx_sha256 = models.CharField(max_length=64)
    pdf = models.BinaryField(_("PDF"))
    pdf_sha256 = models.CharField(max_length=64)

    class Meta:
        verbose_name = _("公表の版")
        verbose_name_plural = _("公表の版")
        ordering = ["release", "number"]
        constraints = [
            models.UniqueConstraint(fields=["release", "number"], name="release_version_unique"),
            models.CheckConstraint(condition=models.Q(number__gte=1), name="release_version_gte_1"),
        ]

    def __str__(self) -> str:
        return f"{self.release} {_('第%(n)s版') % {'n': self.number}}"

    def get_absolute_url(self) -> str:
        return reverse(
            "statistics_version",
            kwargs={"number": self.release.number, "version": self.number},
        )

    @property
    def is_correction(self) -> bool:
        return self.number > 1

    def file(self, kind: str) -> bytes:
        return bytes(getattr(self, kind))

    def set_file(self, kind: str, data: bytes) -> None:
        setattr(self, kind, data)
        setattr(self, f"{kind}_sha256", hashlib.sha256(data).hexdigest())


class Correction(models.Model):
    """A row of a version's 正誤表: one cell of a table, 修正前 → 修正後."""

    version = models.ForeignKey(
        ReleaseVersion, models.CASCADE, related_name="corrections", verbose_name=_("版")
    )
    order = models.PositiveIntegerField(_("順序"))
    table = models.CharField(_("表"), max_length=20)
    measure_ref = models.CharField(_("項目番号"), max_length=40)
    measure_title = models.CharField(_("項目名"), max_length=200)
    row_key = models.CharField(_("行"), max_length=20)
    row_label = models.CharField(_("行の名称"), max_length=50)
    column_key = models.CharField(_("列"), max_length=10)
    column_label = models.CharField(_("列の名称"), max_length=50)
    before_count = models.PositiveIntegerField(_("修正前の団体数"))
    before_total = models.PositiveIntegerField(_("修正前の分母"))
    after_count = models.PositiveIntegerField(_("修正後の団体数"))
    after_total = models.PositiveIntegerField(_("修正後の分母"))

    class Meta:
        verbose_name = _("正誤表の行")
        verbose_name_plural = _("正誤表")
        ordering = ["version", "order"]

    def __str__(self) -> str:
        return f"{self.measure_ref} {self.row_label} {self.column_label}"

    @property
    def before(self) -> str:
        return cell_text(self.before_count, self.before_total)

    @property
    def after(self) -> str:
        return cell_text(self.after_count, self.after_total)


def cell_text(count: int, total: int) -> str:
    """「N団体（x%）」"""
    return ngettext("%(n)s団体（%(p)s%%）", "%(n)s団体（%(p)s%%）", count) % {
        "n": f"{count:,}",
        "p": scoring.percent(count, total),
    }
