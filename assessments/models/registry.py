"""The registry of bodies: the 47 prefectures and their municipalities."""

from typing import TYPE_CHECKING, Self

from django.db import models
from django.db.models import Q
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


def mic_category_expression(prefix: str = "") -> models.Case:
    """The 団体区分 of a body as a query expression (`prefix` leads to the body, e.g. "body__")."""
    return models.Case(
        *[
            models.When(**{f"{prefix}kind": kind}, then=models.Value(str(category)))
            for kind, category in MIC_CATEGORY_OF_KIND.items()
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
