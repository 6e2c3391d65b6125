"""The registry of bodies: the 47 prefectures and their municipalities, over time.

A body exists from `valid_from` (empty: since before the registry's records) to `valid_until`
(its last day; empty: it still exists). Mergers and code changes end a body and link it to its
successor (BodySuccession). A change that keeps the code (中核市移行, 名称変更) is a succession of
the body to itself that records the kind and name it had before, so `kind_on(day)` knows what a
past round saw.
"""

import datetime
from typing import TYPE_CHECKING, Self

from django.db import models
from django.db.models import F, OuterRef, Q, Subquery
from django.db.models.functions import Coalesce
from django.db.models.lookups import Exact
from django.utils.translation import gettext_lazy as _

from assessments.codes import validate_body_code

if TYPE_CHECKING:
    from assessments.models.users import User


# --- The read scope --------------------------------------------------------------------------
# Which bodies a user may read follows from their role and body alone, so it is stated here, once
# as a filter (for querysets) and once for one body (for object checks); access.py asks these.
# National administrators read everything; a prefecture reviewer reads the prefecture and its
# municipalities; staff and viewers read their own body; a user without a role reads nothing.


def readable_bodies_q(user: "User", *, prefix: str = "") -> Q:
    """A filter on Body (or on a relation to it, through `prefix`) for what `user` may read."""
    if not user.is_authenticated or not user.role:
        return Q(pk__in=[])
    if user.is_national_admin:
        return Q()
    if user.is_prefecture_reviewer:
        return Q(**{f"{prefix}prefecture_id": user.body_id}) | Q(**{f"{prefix}pk": user.body_id})
    return Q(**{f"{prefix}pk": user.body_id})


def may_read_body(user: "User", body: "Body") -> bool:
    """readable_bodies_q for one body, without a query."""
    if not user.is_authenticated or not user.role:
        return False
    if user.is_national_admin:
        return True
    if user.is_prefecture_reviewer:
        return body.pk == user.body_id or body.prefecture_id == user.body_id
    return body.pk == user.body_id


def prefecture_q(prefecture: "Body", *, prefix: str = "", itself: bool = True) -> Q:
    """A prefecture's municipalities, and the prefecture itself unless `itself` is False."""
    municipalities = Q(**{f"{prefix}prefecture": prefecture})
    return municipalities | Q(**{f"{prefix}pk": prefecture.pk}) if itself else municipalities


class BodyKind(models.TextChoices):
    """Kinds of local government, as the registry records them."""

    PREFECTURE = "prefecture", _("都道府県")
    DESIGNATED_CITY = "designated_city", _("政令指定都市")
    CORE_CITY = "core_city", _("中核市")
    CITY = "city", _("市")
    TOWN = "town", _("町")
    VILLAGE = "village", _("村")
    SPECIAL_WARD = "special_ward", _("特別区")


class MicCategory(models.TextChoices):
    """MIC's 団体区分, the columns of its published tables (地方自治情報管理概要).

    中核市 stands apart from その他の市; 町 and 村 are counted together as 町村; 特別区 is kept as
    its own column (MIC shows it apart or with 町村 depending on the table).
    """

    PREFECTURE = "prefecture", _("都道府県")
    DESIGNATED_CITY = "designated_city", _("政令指定都市")
    CORE_CITY = "core_city", _("中核市")
    OTHER_CITY = "other_city", _("その他の市")
    TOWN_VILLAGE = "town_village", _("町村")
    SPECIAL_WARD = "special_ward", _("特別区")


MIC_CATEGORY_OF_KIND: dict[str, str] = {
    BodyKind.PREFECTURE: MicCategory.PREFECTURE,
    BodyKind.DESIGNATED_CITY: MicCategory.DESIGNATED_CITY,
    BodyKind.CORE_CITY: MicCategory.CORE_CITY,
    BodyKind.CITY: MicCategory.OTHER_CITY,
    BodyKind.TOWN: MicCategory.TOWN_VILLAGE,
    BodyKind.VILLAGE: MicCategory.TOWN_VILLAGE,
    BodyKind.SPECIAL_WARD: MicCategory.SPECIAL_WARD,
}


def kind_on_expression(day: datetime.date, prefix: str = "") -> Coalesce:
    """The kind a body had on `day`, as a query expression (Body.kind_on for many rows): the
    previous kind of the earliest later change of kind at its code, else its kind now."""
    later_change = (
        BodySuccession.objects.filter(
            predecessor=OuterRef(f"{prefix}pk"), successor=OuterRef(f"{prefix}pk"), on__gt=day
        )
        .exclude(previous_kind="")
        .order_by("on", "pk")
        .values("previous_kind")[:1]
    )
    return Coalesce(Subquery(later_change, output_field=models.CharField()), F(f"{prefix}kind"))


def mic_category_expression(prefix: str = "", *, on: datetime.date | None = None) -> models.Case:
    """The 団体区分 of a body as a query expression (`prefix` leads to the body, e.g. "body__"):
    by its kind now, or by the kind it had on the day `on` (a round's base date: a city that
    became a 中核市 later is その他の市 in that year's tables)."""
    kind = F(f"{prefix}kind") if on is None else kind_on_expression(on, prefix)
    return models.Case(
        *[
            models.When(Exact(kind, models.Value(kind_value)), then=models.Value(str(category)))
            for kind_value, category in MIC_CATEGORY_OF_KIND.items()
        ],
        output_field=models.CharField(),
    )


class BodyQuerySet(models.QuerySet):
    def prefectures(self) -> Self:
        return self.filter(kind=Body.Kind.PREFECTURE)

    def municipalities(self) -> Self:
        return self.exclude(kind=Body.Kind.PREFECTURE)

    def visible_to(self, user: "User") -> Self:
        return self.filter(readable_bodies_q(user))

    def of_prefecture(self, prefecture: "Body", *, itself: bool = True) -> Self:
        return self.filter(prefecture_q(prefecture, itself=itself))

    def existing_on(self, day: datetime.date) -> Self:
        """The bodies that existed on `day` (a round's base date: April 1 of its fiscal year)."""
        return self.filter(existing_on_q(day))


def existing_on_q(day: datetime.date, *, prefix: str = "") -> Q:
    """A filter on Body (or a relation to it, through `prefix`) for the bodies existing on `day`."""
    return (Q(**{f"{prefix}valid_from__isnull": True}) | Q(**{f"{prefix}valid_from__lte": day})) & (
        Q(**{f"{prefix}valid_until__isnull": True}) | Q(**{f"{prefix}valid_until__gte": day})
    )


class Body(models.Model):
    """A local government (地方公共団体): a prefecture or a municipality."""

    Kind = BodyKind

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
    is_special_city = models.BooleanField(
        _("施行時特例市"),
        default=False,
        help_text=_("特例市制度の廃止（2015年4月1日）の際に特例市で、中核市に移行していない市。"),
    )
    valid_from = models.DateField(
        _("設置日"), null=True, blank=True, help_text=_("空欄: 記録の始まる前から存在する団体。")
    )
    valid_until = models.DateField(
        _("廃止日の前日"),
        null=True,
        blank=True,
        help_text=_("団体が存在した最後の日。空欄: 現に存在する団体。"),
    )

    objects = BodyQuerySet.as_manager()

    class Meta:
        verbose_name = _("団体")
        verbose_name_plural = _("団体")
        ordering = ["code"]
        constraints = [
            models.CheckConstraint(
                condition=(Q(kind=BodyKind.PREFECTURE) & Q(prefecture__isnull=True))
                | (~Q(kind=BodyKind.PREFECTURE) & Q(prefecture__isnull=False)),
                name="body_prefecture_iff_municipality",
            ),
            models.CheckConstraint(
                condition=Q(code__regex=r"^[0-9]{6}$"), name="body_code_six_digits"
            ),
            models.CheckConstraint(
                condition=Q(valid_from__isnull=True)
                | Q(valid_until__isnull=True)
                | Q(valid_until__gte=F("valid_from")),
                name="body_valid_dates_in_order",
            ),
            models.CheckConstraint(
                condition=Q(is_special_city=False) | Q(kind=BodyKind.CITY),
                name="body_special_city_is_a_city",
            ),
        ]

    def __str__(self) -> str:
        if self.prefecture is not None and self.kind != self.Kind.PREFECTURE:
            return f"{self.prefecture.name}{self.name}（{self.code}）"
        return f"{self.name}（{self.code}）"

    @property
    def is_prefecture(self) -> bool:
        return self.kind == self.Kind.PREFECTURE

    @property
    def mic_category(self) -> str:
        """MIC's 団体区分 (MicCategory) of this body."""
        return MIC_CATEGORY_OF_KIND[self.kind]

    def mic_category_on(self, day: datetime.date) -> str:
        """Its 団体区分 on `day` (from kind_on: one query)."""
        return MIC_CATEGORY_OF_KIND[self.kind_on(day)]

    def exists_on(self, day: datetime.date) -> bool:
        return (self.valid_from is None or self.valid_from <= day) and (
            self.valid_until is None or self.valid_until >= day
        )

    def kind_on(self, day: datetime.date) -> str:
        """The kind the body had on `day`: its kind now, unless a later change of kind at the
        same code (a succession to itself) recorded what it was before. One query
        (kind_on_expression, the one definition, which tables use for many bodies)."""
        return (
            Body.objects.filter(pk=self.pk)
            .annotate(kind_then=kind_on_expression(day))
            .values_list("kind_then", flat=True)
            .get()
        )

    def history(self) -> list["BodySuccession"]:
        """Every succession that led to this body, recursively (this body's own links first,
        then its predecessors', and so on; newest first within each): what was merged into it,
        when and how, back to the start of the records. Changes at the same code are included.

        One query per generation of predecessors (mergers rarely go more than two deep).
        """
        found: list[BodySuccession] = []
        seen = {self.pk}
        generation = [self.pk]
        while generation:
            links = list(
                BodySuccession.objects.filter(successor_id__in=generation)
                .select_related("predecessor", "successor")
                .order_by("-on", "predecessor__code")
            )
            found.extend(links)
            generation = [link.predecessor_id for link in links if link.predecessor_id not in seen]
            seen.update(generation)
        return found

    @property
    def predecessors(self) -> models.QuerySet["Body"]:
        """The bodies that became this one directly (merged into it, or its former code)."""
        return Body.objects.filter(successor_links__successor=self).exclude(pk=self.pk).distinct()


class BodySuccession(models.Model):
    """One change of the registry on a date: `predecessor` ended (or changed) and became part of
    `successor`. A change that keeps the code links a body to itself and records in
    `previous_kind` / `previous_name` what it was before."""

    class Kind(models.TextChoices):
        ABSORPTION = "absorption", _("編入合併")
        NEW_MERGER = "new_merger", _("新設合併")
        CITY_STATUS = "city_status", _("市制施行")
        TOWN_STATUS = "town_status", _("町制施行")
        DESIGNATED_CITY = "designated_city", _("政令指定都市移行")
        CORE_CITY = "core_city", _("中核市移行")
        RENAME = "rename", _("名称変更")
        CODE_CHANGE = "code_change", _("コード変更")
        KIND_CHANGE = "kind_change", _("区分変更")

    predecessor = models.ForeignKey(
        Body, models.PROTECT, related_name="successor_links", verbose_name=_("旧団体")
    )
    successor = models.ForeignKey(
        Body, models.PROTECT, related_name="predecessor_links", verbose_name=_("新団体")
    )
    on = models.DateField(_("改正年月日"), help_text=_("変更の効力が生じた日（施行日）。"))
    kind = models.CharField(_("改正事由"), max_length=20, choices=Kind.choices)
    previous_kind = models.CharField(
        _("変更前の区分"), max_length=20, choices=BodyKind.choices, blank=True
    )
    previous_name = models.CharField(_("変更前の団体名"), max_length=50, blank=True)
    note = models.CharField(_("備考"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("団体の変遷")
        verbose_name_plural = _("団体の変遷")
        ordering = ["-on", "successor__code", "predecessor__code"]
        constraints = [
            models.UniqueConstraint(
                fields=["predecessor", "successor", "on"], name="body_succession_once"
            ),
        ]

    def __str__(self) -> str:
        return (
            f"{self.on} {self.get_kind_display()}: {self.predecessor.name} → {self.successor.name}"
        )
