"""Bulk onboarding: invite the people listed in a spreadsheet, all or nothing.

Columns 団体コード, 氏名, メールアドレス, 役割 (CSV in UTF-8 or CP932, or XLSX), read through
django-import-export (`resources.run_import`: a transaction, model validation, rollback when any
row is bad). Every row creates a new account — an address that already has one is an error,
never an update — and each row's body and role must be within the importer's scope.
Invitations are queued only when the import commits.
"""

import re

from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import HttpRequest
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from import_export import fields, resources, widgets

from assessments import access
from assessments.accounts.audit import Kind, event_record
from assessments.accounts.services import invitation_send
from assessments.models import Body, User
from assessments.resources import ImportReport, LookupWidget, run_import
from assessments.spreadsheets import read_dataset

COLUMNS = ("団体コード", "氏名", "メールアドレス", "役割")


class RoleWidget(widgets.Widget):
    """A role by its key (`body_staff`) or its Japanese label (`団体の担当者`)."""

    def clean(self, value, row=None, **kwargs):
        value = (value or "").strip()
        by_label = {str(label): key for key, label in User.Role.choices}
        if value in User.Role.values:
            return value
        if value in by_label:
            return by_label[value]
        raise ValueError(
            _("役割「%(value)s」は使えません（使えるもの: %(allowed)s）。")
            % {"value": value, "allowed": "、".join(by_label)}
        )


def split_name(name: str) -> tuple[str, str]:
    """「札幌 花子」→ ("札幌", "花子"): family name first; a name without a space is kept whole."""
    parts = re.split(r"[\s\u3000]+", (name or "").strip(), maxsplit=1)
    return (parts[0], parts[1] if len(parts) > 1 else "")


class UserInviteResource(resources.ModelResource):
    body = fields.Field(
        attribute="body",
        column_name="団体コード",
        widget=LookupWidget(Body, "code", gettext_lazy("団体コード")),
    )
    name = fields.Field(attribute="last_name", column_name="氏名", widget=widgets.CharWidget())
    email = fields.Field(
        attribute="email", column_name="メールアドレス", widget=widgets.CharWidget()
    )
    role = fields.Field(attribute="role", column_name="役割", widget=RoleWidget())

    class Meta:
        model = User
        fields = ("body", "name", "email", "role")
        import_id_fields = ()
        clean_model_instances = True
        use_transactions = True

    def __init__(self, *, actor: User):
        super().__init__()
        self.actor = actor
        self.seen_emails: set[str] = set()
        self.created: list[int] = []
        # What a dry run would create, for the preview: (row, body, name, e-mail, role).
        self.previewed: list[tuple[int, str, str, str, str]] = []

    def before_import_row(self, row, **kwargs):
        # Codes read from spreadsheets lose their leading zero (11002 for 011002).
        code = row.get("団体コード")
        if isinstance(code, int | float):
            row["団体コード"] = f"{int(code):06d}"

    def get_or_init_instance(self, instance_loader, row):
        # Always a new account: a row never updates an existing one (another body's included).
        return self.init_instance(row), True

    def import_instance(self, instance, row, **kwargs):
        errors = {}
        try:
            super().import_instance(instance, row, **kwargs)
        except ValidationError as exc:
            errors = exc.error_dict
        email = (instance.email or "").strip().lower()
        instance.email = email
        instance.username = email
        instance.last_name, instance.first_name = split_name(instance.last_name)
        instance.set_unusable_password()
        if "email" not in errors:
            if not email:
                errors["email"] = [ValidationError(_("メールアドレスを入力してください。"))]
            elif email in self.seen_emails or User.objects.filter(email__iexact=email).exists():
                errors["email"] = [
                    ValidationError(
                        _("メールアドレス「%(email)s」は重複しています。") % {"email": email}
                    )
                ]
            self.seen_emails.add(email)
        if "body" not in errors and "role" not in errors:
            body = instance.body
            if not access.may_assign(self.actor, User.Role.BODY_VIEWER, body):
                errors["body"] = [
                    ValidationError(_("団体「%(body)s」は管轄外です。") % {"body": body.name})
                ]
            elif instance.role == User.Role.NATIONAL_ADMIN:
                errors["role"] = [ValidationError(_("国の管理者は一括登録できません。"))]
            elif instance.role == User.Role.PREFECTURE_REVIEWER and not body.is_prefecture:
                errors["role"] = [ValidationError(_("審査担当の所属は都道府県です。"))]
            elif not access.may_assign(self.actor, instance.role, body):
                errors["role"] = [ValidationError(_("この役割は付与できません。"))]
        if errors:
            raise ValidationError(errors)

    def validate_instance(self, instance, import_validation_errors=None, validate_unique=True):
        errors = dict(import_validation_errors or {})
        try:
            # username and password are derived above; their errors would repeat the e-mail's.
            instance.full_clean(exclude=[*errors, "username", "password"])
        except ValidationError as exc:
            errors = exc.update_error_dict(errors)
        if errors:
            raise ValidationError(errors)

    def after_save_instance(self, instance, row, **kwargs):
        if not kwargs.get("dry_run"):
            self.created.append(instance.pk)
            return
        body = instance.body
        self.previewed.append(
            (
                len(self.previewed) + 2,  # the sheet's row: data starts under the header
                f"{body.name}（{body.code}）" if body else "",
                instance.get_full_name(),
                instance.email,
                instance.get_role_display(),
            )
        )


@transaction.atomic
def users_import(
    *, actor: User, data: bytes, filename: str, dry_run: bool, request: HttpRequest | None = None
) -> ImportReport:
    """Check (dry run) or import a file of people to invite; on commit, queue the invitations.

    Raises SpreadsheetError when the file cannot be read at all.
    """
    access.require_account_manager(actor)
    dataset = read_dataset(data, filename)
    missing = [c for c in COLUMNS if c not in (dataset.headers or [])]
    report = ImportReport(dry_run=dry_run)
    if missing:
        from assessments.resources import RowError

        report.errors.append(
            RowError(1, "", _("列がありません: %(columns)s") % {"columns": "、".join(missing)})
        )
        return report
    resource = UserInviteResource(actor=actor)
    report = run_import(resource, dataset, dry_run=dry_run)
    if report.ok and dry_run:
        report.preview = resource.previewed
    if report.committed:
        for user in User.objects.filter(pk__in=resource.created).select_related("body"):
            invitation_send(user=user, actor=actor)
            event_record(
                kind=Kind.INVITED,
                user=user,
                actor=actor,
                request=request,
                detail=_("一括登録")
                + f": {user.get_role_display()} / {user.body.name if user.body else ''}",
            )
    return report
