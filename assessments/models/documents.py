"""How a body's official documents are headed: 文書番号, 宛先, 発信者, 担当課, and its 決裁欄.

A body's staff set these once; every assessment PDF of the body uses them. A field left blank
takes the default for the body's kind (documents.defaults_for), so a body that never opens the
page still gets a correct official document: a town's 決裁欄 has no 部長, a 政令指定都市's has a
局長.
"""

from dataclasses import dataclass

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext, gettext_noop
from django.utils.translation import gettext_lazy as _

from assessments.fiscal_year import era_of_fiscal_year
from assessments.models.registry import Body, BodyKind

N_ = gettext_noop

APPROVAL_COLUMNS_MAX = 8
APPROVAL_COLUMN_MAX_LENGTH = 8

# The 決裁欄 by kind of body, from the person in charge up to the head. Designated cities have
# 局 above 部; towns and villages usually have no 部 (課 report to the deputy head directly).
DEFAULT_APPROVAL_COLUMNS: dict[str, tuple[str, ...]] = {
    BodyKind.PREFECTURE: (N_("担当"), N_("課長"), N_("部長"), N_("副知事"), N_("知事")),
    BodyKind.DESIGNATED_CITY: (
        N_("担当"),
        N_("課長"),
        N_("部長"),
        N_("局長"),
        N_("副市長"),
        N_("市長"),
    ),
    BodyKind.CORE_CITY: (N_("担当"), N_("係長"), N_("課長"), N_("部長"), N_("副市長"), N_("市長")),
    BodyKind.CITY: (N_("担当"), N_("係長"), N_("課長"), N_("部長"), N_("副市長"), N_("市長")),
    BodyKind.TOWN: (N_("担当"), N_("係長"), N_("課長"), N_("副町長"), N_("町長")),
    BodyKind.VILLAGE: (N_("担当"), N_("課長"), N_("副村長"), N_("村長")),
    BodyKind.SPECIAL_WARD: (
        N_("担当"),
        N_("係長"),
        N_("課長"),
        N_("部長"),
        N_("副区長"),
        N_("区長"),
    ),
}

# The head of a body, for the default 発信者: a prefecture's 知事 (北海道知事), a municipality's
# 長 after its name (札幌市長, 当別町長, 千代田区長).
HEAD_TITLES: dict[str, str] = {BodyKind.PREFECTURE: N_("知事")}

NUMBER_PLACEHOLDERS = ("{年度}", "{番号}")


def split_columns(text: str) -> list[str]:
    """「担当、課長、市長」 or one per line → ["担当", "課長", "市長"] (blanks dropped)."""
    for separator in ("\r\n", "\n", "、", ",", "，", "/", "／"):
        text = text.replace(separator, "\n")
    return [part.strip() for part in text.split("\n") if part.strip()]


def validate_approval_columns(text: str) -> None:
    columns = split_columns(text)
    if len(columns) > APPROVAL_COLUMNS_MAX:
        raise ValidationError(
            gettext("決裁欄は%(max)s欄までです（%(n)s欄あります）。")
            % {"max": APPROVAL_COLUMNS_MAX, "n": len(columns)}
        )
    long = [c for c in columns if len(c) > APPROVAL_COLUMN_MAX_LENGTH]
    if long:
        raise ValidationError(
            gettext("決裁欄の職名は%(max)s文字までです: %(names)s")
            % {"max": APPROVAL_COLUMN_MAX_LENGTH, "names": "、".join(long)}
        )


def validate_number_pattern(text: str) -> None:
    stripped = text
    for placeholder in NUMBER_PLACEHOLDERS:
        stripped = stripped.replace(placeholder, "")
    if "{" in stripped or "}" in stripped:
        raise ValidationError(
            gettext("文書番号に使える差し込みは {年度} と {番号} だけです。"),
        )


class DocumentSettings(models.Model):
    """The header of a body's official documents (鑑): one row per body, all fields optional."""

    body = models.OneToOneField(
        Body, models.CASCADE, related_name="document_settings", verbose_name=_("団体")
    )
    number_pattern = models.CharField(
        _("文書番号"),
        max_length=40,
        blank=True,
        validators=[validate_number_pattern],
        help_text=_(
            "例: 札デ第{番号}号。{年度} は年度の和暦の年（令和7年度なら 7）、{番号} は決裁時に"
            "手書きする空欄になります。"
        ),
    )
    addressee = models.CharField(
        _("宛先"), max_length=60, blank=True, help_text=_("例: 北海道知事　様")
    )
    sender = models.CharField(
        _("発信者"), max_length=60, blank=True, help_text=_("職名（例: 札幌市長）")
    )
    department = models.CharField(
        _("担当課"), max_length=60, blank=True, help_text=_("例: デジタル戦略推進局 情報政策課")
    )
    contact_person = models.CharField(_("担当者"), max_length=40, blank=True)
    phone = models.CharField(_("電話番号"), max_length=30, blank=True)
    email = models.EmailField(_("メールアドレス"), max_length=120, blank=True)
    approval_columns = models.CharField(
        _("決裁欄"),
        max_length=120,
        blank=True,
        validators=[validate_approval_columns],
        help_text=_(
            "職名を「、」で区切って、担当から順に（例: 担当、課長、部長、副市長、市長）。空欄なら"
            "団体の区分に応じた標準の欄になります。"
        ),
    )
    updated_at = models.DateTimeField(_("更新日時"), auto_now=True)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("更新者"),
    )

    class Meta:
        verbose_name = _("文書の設定")
        verbose_name_plural = _("文書の設定")

    def __str__(self) -> str:
        return str(self.body)


@dataclass(frozen=True)
class DocumentHeader:
    """What a document's 鑑 shows, each field either the body's setting or its default."""

    number: str
    addressee: str
    sender: str
    department: str
    contact_person: str
    phone: str
    email: str
    approval_columns: list[str]
    customised: bool

    @property
    def contact(self) -> str:
        return "　".join(part for part in (self.phone, self.email) if part)


def head_title(body: Body) -> str:
    """札幌市長, 当別町長, 北海道知事: the body's name and the title of its head."""
    return body.name + gettext(HEAD_TITLES.get(body.kind, N_("長")))


def default_addressee(body: Body) -> str:
    """A municipality reports to its prefecture's governor; a prefecture to the minister."""
    if body.prefecture is not None and not body.is_prefecture:
        return gettext("%(prefecture)s知事　様") % {"prefecture": body.prefecture.name}
    return gettext("総務大臣　様")


def default_approval_columns(body: Body) -> list[str]:
    return [gettext(c) for c in DEFAULT_APPROVAL_COLUMNS[body.kind]]


def document_number(pattern: str, fiscal_year: int) -> str:
    """「札デ第{番号}号」 → 「札デ第　　　号」; {年度} is the fiscal year's year in its era."""
    if not pattern:
        return ""
    _era, _era_en, year = era_of_fiscal_year(fiscal_year)
    return pattern.replace("{年度}", str(year)).replace("{番号}", "　" * 3)


def header_for(body: Body, fiscal_year: int, saved: DocumentSettings | None) -> DocumentHeader:
    """The header of `body`'s documents for `fiscal_year`, from its settings or the defaults."""
    s = saved
    columns = split_columns(s.approval_columns) if s and s.approval_columns else []
    return DocumentHeader(
        number=document_number(s.number_pattern if s else "", fiscal_year),
        addressee=(s.addressee if s else "") or default_addressee(body),
        sender=(s.sender if s else "") or head_title(body),
        department=s.department if s else "",
        contact_person=s.contact_person if s else "",
        phone=s.phone if s else "",
        email=s.email if s else "",
        approval_columns=columns or default_approval_columns(body),
        customised=s is not None,
    )


def settings_of(body: Body) -> DocumentSettings | None:
    """The body's saved settings, or None (one query)."""
    return DocumentSettings.objects.filter(body=body).first()
