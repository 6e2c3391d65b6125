"""People and their role: staff or viewers of a body, prefecture reviewers, national administrators."""

from django.contrib.auth.models import AbstractUser
from django.db import models
from django.db.models import Q
from django.db.models.functions import Lower
from django.utils.translation import gettext_lazy as _

from assessments.models.registry import Body


class Role(models.TextChoices):
    """What a user does: fill or read a body's assessments, review a prefecture, run rounds."""

    BODY_STAFF = "body_staff", _("団体の担当者")
    BODY_VIEWER = "body_viewer", _("団体の閲覧者")
    PREFECTURE_REVIEWER = "prefecture_reviewer", _("都道府県の審査担当")
    NATIONAL_ADMIN = "national_admin", _("国の管理者")


class User(AbstractUser):
    Role = Role

    role = models.CharField(_("役割"), max_length=30, choices=Role, blank=True)
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
                condition=Q(role="") | Q(role=Role.NATIONAL_ADMIN) | Q(body__isnull=False),
                name="user_body_required_for_role",
            ),
            # Notifications and invitations go to this address: one account per address.
            models.UniqueConstraint(
                Lower("email"), condition=~Q(email=""), name="user_email_unique"
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
