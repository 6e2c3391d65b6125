"""The catalog: guidelines, their numbered measures, level descriptions and the crosswalk."""

import datetime
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Self

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Count, Exists, F, OuterRef, Q
from django.db.models.signals import post_delete, post_save
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from assessments.applicability import AppliesTo, values_for_kind
from assessments.levels import MAX_LEVEL, Level

if TYPE_CHECKING:
    from assessments.models.registry import Body


def _localized(obj, field: str) -> str:
    """Return the English value of `field` when the active language is English and one exists."""
    if (get_language() or "ja").startswith("en"):
        value = getattr(obj, f"{field}_en", "")
        if value:
            return value
    return getattr(obj, f"{field}_ja")


class GuidelineQuerySet(models.QuerySet["Guideline"]):
    def latest_editions(self) -> Self:
        """The latest edition of each series: what a new assessment or survey round starts on."""
        later = Guideline.objects.filter(series=OuterRef("series"), edition__gt=OuterRef("edition"))
        return self.filter(~Exists(later))


class Guideline(models.Model):
    """One edition of a guideline. A guideline file's `code` names its series; a change to what
    is scored, once an assessment uses the latest edition, is loaded as a new edition (a new row
    with its own measures), so that assessments keep the edition they were started on
    (assessments/catalog/, fixtures/guidelines/README.md)."""

    code = models.SlugField(_("コード"), max_length=40, unique=True)
    series = models.SlugField(
        _("指針の系列"), max_length=40, help_text=_("指針ファイルの code。版が変わっても同じ。")
    )
    edition = models.PositiveSmallIntegerField(
        _("版"), default=1, validators=[MinValueValidator(1)]
    )
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
    # Raised whenever a measure or level text of the guideline is saved or deleted (below), so
    # that what is kept of the catalog between requests (selectors/catalog.py) is keyed by it.
    revision = models.PositiveIntegerField(_("改訂番号"), default=1, editable=False)

    objects = GuidelineQuerySet.as_manager()

    class Meta:
        verbose_name = _("指針")
        verbose_name_plural = _("指針")
        ordering = ["issued_on", "edition"]
        constraints = [
            models.UniqueConstraint(fields=["series", "edition"], name="guideline_unique_edition"),
            models.CheckConstraint(condition=Q(edition__gte=1), name="guideline_edition_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.title_ja}（{self.issued_on.year}）{self.edition_suffix}"

    @property
    def edition_suffix(self) -> str:
        """「（第2版）」 from the second edition on; nothing for the first (what every list shows)."""
        if self.edition <= 1:
            return ""
        return _("（第%(n)s版）") % {"n": self.edition}

    @property
    def title(self) -> str:
        return f"{_localized(self, 'title')}{self.edition_suffix}"

    @property
    def issuer(self) -> str:
        return _localized(self, "issuer")


class MeasureQuerySet(models.QuerySet):
    def scored(self) -> Self:
        """The measures a body answers and that count in its score, in guideline order."""
        return self.filter(is_scored=True).order_by("order")

    def for_kind(self, kind: str) -> Self:
        """The measures that apply to a body of `kind` (see assessments.applicability)."""
        return self.filter(applies_to__in=values_for_kind(kind))

    def for_body(self, body: "Body") -> Self:
        """The measures that apply to `body`: `scored().for_body(body)` is what it answers."""
        return self.for_kind(body.kind)

    def to_answer(self, assessment) -> Self:
        """What `assessment` answers and is scored on: its guideline's scored measures that apply
        to its body. Every list and count of an assessment's measures starts here."""
        return self.filter(guideline=assessment.guideline_id).scored().for_body(assessment.body)

    def sections(self) -> Self:
        """The headings at the guideline's section depth (章), in order."""
        return self.filter(depth=models.F("guideline__section_depth")).order_by("order")

    def scored_sections(self, kind: str = "") -> Self:
        """Sections holding at least one scored measure, each with `to_answer` (how many).

        With a body `kind`, only the measures that apply to it count (a section of
        prefecture-only measures is then left out for a municipality); else every scored one.
        """
        counted = Q(section_measures__is_scored=True)
        if kind:
            counted &= Q(section_measures__applies_to__in=values_for_kind(kind))
        return (
            self.sections()
            .annotate(to_answer=Count("section_measures", filter=counted))
            .filter(to_answer__gt=0)
        )


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
    weight_rationale_ja = models.CharField(
        _("重みの理由"), max_length=200, blank=True, help_text=_("重みが1より大きい項目に一行で。")
    )
    weight_rationale_en = models.CharField(_("重みの理由（英語）"), max_length=300, blank=True)
    applies_to = models.CharField(
        _("対象の団体"), max_length=20, choices=AppliesTo.choices, default=AppliesTo.ALL
    )

    objects = MeasureQuerySet.as_manager()

    to_answer: int  # annotated by MeasureQuerySet.scored_sections()

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
            models.CheckConstraint(
                condition=Q(applies_to__in=AppliesTo.values), name="measure_applies_to_valid"
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

    @property
    def weight_rationale(self) -> str:
        return _localized(self, "weight_rationale")

    def applies_to_kind(self, kind: str) -> bool:
        """Whether the measure applies to a body of `kind` (a BodyKind value)."""
        return self.applies_to in values_for_kind(kind)


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
    primary = models.BooleanField(
        _("主たる対応"),
        default=False,
        help_text=_(
            "移行先に複数の移行元があるとき、回答の引き継ぎに使う対応（移行先ごとに1つまで）。"
        ),
    )

    class Meta:
        verbose_name = _("指針間の対応")
        verbose_name_plural = _("指針間の対応")
        constraints = [
            models.UniqueConstraint(
                fields=["target"], condition=Q(primary=True), name="crosswalk_one_primary"
            ),
            models.UniqueConstraint(fields=["source", "target"], name="crosswalk_unique_pair"),
            models.CheckConstraint(
                condition=~Q(source=models.F("target")), name="crosswalk_not_self"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.source} → {self.target}"


class MeasureNoteQuerySet(models.QuerySet["MeasureNote"]):
    def in_force(self, on: datetime.date) -> Self:
        """The notes that apply on `on`: those whose effective_from is on or before it (the
        rule of MeasureNote.in_force_on, as a filter)."""
        return self.filter(effective_from__lte=on)

    def for_assessment(self, assessment) -> Self:
        """The notes of `assessment`'s guideline in force on its base date (Assessment.base_date).

        This is the one rule of which notes apply; every page and the PDF ask through
        `by_measure` below.
        """
        return self.filter(measure__guideline=assessment.guideline_id).in_force(
            assessment.base_date
        )

    def by_measure(self) -> dict[int, list["MeasureNote"]]:
        """{measure id: [notes, oldest first]} in one query."""
        notes: dict[int, list[MeasureNote]] = {}
        for note in self.order_by("effective_from", "pk"):
            notes.setdefault(note.measure_id, []).append(note)
        return notes


class MeasureNote(models.Model):
    """A dated note on a measure: from `effective_from` on, how the measure is read today.

    The guidelines date from 2000 and 2003; a later law or notice can succeed what a measure names
    (住基カード → マイナンバーカード), and the note says so to staff, reviewers and in the PDF for
    every assessment whose base date is on or after `effective_from`. The source names the law,
    notice or MIC document with its date.
    """

    measure = models.ForeignKey(
        Measure, models.CASCADE, related_name="notes", verbose_name=_("項目")
    )
    effective_from = models.DateField(
        _("適用開始日"), help_text=_("基準日（年度の4月1日）がこの日以後の評価に表示します。")
    )
    text_ja = models.TextField(_("注記"))
    text_en = models.TextField(_("注記（英語）"))
    source_ja = models.CharField(
        _("出典"), max_length=1000, help_text=_("法令・通知・総務省資料と日付")
    )
    source_en = models.CharField(_("出典（英語）"), max_length=1000)

    objects = MeasureNoteQuerySet.as_manager()

    class Meta:
        verbose_name = _("項目の注記")
        verbose_name_plural = _("項目の注記")
        ordering = ["measure", "effective_from"]
        constraints = [
            models.UniqueConstraint(
                fields=["measure", "effective_from"], name="measure_note_unique_date"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.measure.ref} {self.effective_from.isoformat()}"

    @property
    def text(self) -> str:
        return _localized(self, "text")

    @property
    def source(self) -> str:
        return _localized(self, "source")

    def in_force_on(self, day: datetime.date) -> bool:
        """Whether the note applies to an assessment whose base date is `day`."""
        return self.effective_from <= day


# --- Revisions ---------------------------------------------------------------------------------
# Every change of a measure or of a level text raises its guideline's `revision`: pages keep the
# catalog in memory per (guideline, revision) and so never show a text older than the database.
# The loader writes hundreds of rows: inside `catalog_changes()` the revisions are raised once,
# at the end, for every guideline.

_deferred = threading.local()


@contextmanager
def catalog_changes() -> Iterator[None]:
    """Raise the revision of every guideline once when the block ends, instead of per row."""
    if getattr(_deferred, "active", False):  # already inside one
        yield
        return
    _deferred.active, _deferred.changed = True, False
    try:
        yield
        changed = _deferred.changed
    finally:
        _deferred.active, _deferred.changed = False, False
    if changed:  # not after an error: the transaction is rolled back anyway
        Guideline.objects.update(revision=F("revision") + 1)


def _raise_revision(guidelines: Q) -> None:
    if getattr(_deferred, "active", False):
        _deferred.changed = True
    else:
        Guideline.objects.filter(guidelines).update(revision=F("revision") + 1)


def _measure_changed(sender, instance: Measure, raw: bool = False, **kwargs) -> None:
    if not raw:
        _raise_revision(Q(pk=instance.guideline_id))


def _level_text_changed(sender, instance: LevelDescription, raw: bool = False, **kwargs) -> None:
    if not raw:
        _raise_revision(Q(measures=instance.measure_id))


def _note_changed(sender, instance: "MeasureNote", raw: bool = False, **kwargs) -> None:
    if not raw:
        _raise_revision(Q(measures=instance.measure_id))


for _model, _receiver in (
    (Measure, _measure_changed),
    (LevelDescription, _level_text_changed),
    (MeasureNote, _note_changed),
):
    post_save.connect(_receiver, sender=_model, dispatch_uid=f"catalog-revision-{_model.__name__}")
    post_delete.connect(
        _receiver, sender=_model, dispatch_uid=f"catalog-revision-{_model.__name__}-delete"
    )


class GuidelineImport(models.Model):
    """One uploaded guideline file, kept between its preview and its confirmation: the bytes are
    validated again on confirmation (nothing from the preview is trusted), and the row records
    who imported what, when, and what it did."""

    class Status(models.TextChoices):
        PREVIEWED = "previewed", _("確認中")
        IMPORTED = "imported", _("取込済み")
        REFUSED = "refused", _("エラーあり")

    uploaded_by = models.ForeignKey(
        "assessments.User", models.PROTECT, related_name="+", verbose_name=_("取り込んだ人")
    )
    created_at = models.DateTimeField(_("アップロード日時"), auto_now_add=True)
    filename = models.CharField(_("ファイル名"), max_length=200)
    content = models.BinaryField(_("内容"))
    sha256 = models.CharField(_("SHA-256"), max_length=64)
    status = models.CharField(
        _("状態"), max_length=20, choices=Status.choices, default=Status.PREVIEWED
    )
    summary = models.JSONField(_("結果の要約"), default=dict, blank=True)
    guideline = models.ForeignKey(
        Guideline,
        models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("取り込んだ版"),
    )
    imported_at = models.DateTimeField(_("取込日時"), null=True, blank=True)

    class Meta:
        verbose_name = _("指針の取込")
        verbose_name_plural = _("指針の取込")
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.filename}（{self.created_at:%Y-%m-%d %H:%M}）"
