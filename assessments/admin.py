from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.utils.translation import gettext_lazy as _
from import_export.admin import ExportMixin, ImportExportModelAdmin

from assessments import models, resources
from assessments.spreadsheets import EXPORT_FORMATS, IMPORT_FORMATS


class SafeImportExportAdmin(ImportExportModelAdmin):
    """Import/export that is all-or-nothing, validates models and neutralises formulas."""

    import_formats = IMPORT_FORMATS
    export_formats = EXPORT_FORMATS

    def get_import_data_kwargs(self, **kwargs):
        kwargs = super().get_import_data_kwargs(**kwargs)
        kwargs["rollback_on_validation_errors"] = True
        kwargs["use_transactions"] = True
        return kwargs


class ReadOnlyCatalog:
    """Guidelines, measures and level texts are read and exported here, and changed only
    through the guideline import page or `manage.py import_guideline` (assessments/catalog/):
    it checks the whole file and applies the edition rule, so that a change to what is scored
    never alters an assessment already made. An edit or a row-wise import here would bypass
    both."""

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class CatalogExportAdmin(ReadOnlyCatalog, ExportMixin, admin.ModelAdmin):
    export_formats = EXPORT_FORMATS


@admin.register(models.Guideline)
class GuidelineAdmin(CatalogExportAdmin):
    resource_classes = [resources.GuidelineResource]
    list_display = ("code", "title_ja", "edition", "issuer_ja", "issued_on")
    search_fields = ("code", "series", "title_ja", "title_en")


@admin.register(models.GuidelineImport)
class GuidelineImportAdmin(admin.ModelAdmin):
    """Who imported which guideline file, when, and what it did (read only: the page imports)."""

    list_display = ("filename", "uploaded_by", "created_at", "status", "guideline")
    list_filter = ("status",)
    list_select_related = ("uploaded_by", "guideline")
    exclude = ("content",)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


class LevelDescriptionInline(ReadOnlyCatalog, admin.TabularInline):
    model = models.LevelDescription
    extra = 0
    max_num = 5


class MeasureNoteInline(ReadOnlyCatalog, admin.StackedInline):
    model = models.MeasureNote
    extra = 0


@admin.register(models.Measure)
class MeasureAdmin(CatalogExportAdmin):
    resource_classes = [resources.MeasureResource]
    list_display = ("ref", "title_ja", "guideline", "is_scored", "applies_to", "weight")
    list_filter = ("guideline", "is_scored", "applies_to", "depth")
    search_fields = ("ref", "title_ja", "title_en", "guidance_ja")
    list_select_related = ("guideline",)
    readonly_fields = ("guideline", "parent", "section", "ref", "depth", "order")
    inlines = [LevelDescriptionInline, MeasureNoteInline]
    ordering = ("guideline", "order")


@admin.register(models.LevelDescription)
class LevelDescriptionAdmin(CatalogExportAdmin):
    resource_classes = [resources.LevelDescriptionResource]
    list_display = ("measure", "level", "description_ja")
    list_filter = ("measure__guideline", "level")
    search_fields = ("measure__ref", "measure__title_ja", "description_ja")
    list_select_related = ("measure",)


@admin.register(models.CrosswalkLink)
class CrosswalkLinkAdmin(ReadOnlyCatalog, admin.ModelAdmin):
    list_display = ("source", "target", "primary", "note_ja")
    list_filter = ("primary",)
    list_select_related = ("source", "target")
    autocomplete_fields = ("source", "target")
    search_fields = ("source__title_ja", "target__title_ja")


class _SuccessionInline(admin.TabularInline):
    """Successions are read only here: the change list (load_bodies --changes) records them."""

    model = models.BodySuccession
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


class PredecessorInline(_SuccessionInline):
    """What became this body: mergers, former codes, changes of kind at the same code."""

    fk_name = "successor"
    verbose_name = _("前身・変遷")
    verbose_name_plural = _("前身・変遷")
    fields = ("on", "kind", "predecessor", "previous_kind", "previous_name", "note")
    readonly_fields = fields


class SuccessorInline(_SuccessionInline):
    fk_name = "predecessor"
    verbose_name = _("承継先")
    verbose_name_plural = _("承継先")
    fields = ("on", "kind", "successor", "note")
    readonly_fields = fields


@admin.register(models.Body)
class BodyAdmin(SafeImportExportAdmin):
    resource_classes = [resources.BodyResource]
    list_display = (
        "code",
        "name",
        "name_kana",
        "kind",
        "is_special_city",
        "prefecture",
        "valid_from",
        "valid_until",
    )
    list_filter = ("kind", "is_special_city", "prefecture")
    inlines = [PredecessorInline, SuccessorInline]
    search_fields = ("code", "name", "name_kana")
    list_select_related = ("prefecture",)
    autocomplete_fields = ("prefecture",)


@admin.register(models.BodySuccession)
class BodySuccessionAdmin(admin.ModelAdmin):
    list_display = ("on", "kind", "predecessor", "successor", "previous_kind", "note")
    list_filter = ("kind",)
    search_fields = ("predecessor__code", "predecessor__name", "successor__code", "successor__name")
    list_select_related = ("predecessor__prefecture", "successor__prefecture")
    autocomplete_fields = ("predecessor", "successor")
    date_hierarchy = "on"


@admin.register(models.User)
class UserAdmin(DjangoUserAdmin):
    fieldsets = (
        *(DjangoUserAdmin.fieldsets or ()),
        (_("役割と所属"), {"fields": ("role", "body", "department")}),
    )
    add_fieldsets = DjangoUserAdmin.add_fieldsets + (
        (_("役割と所属"), {"fields": ("role", "body", "department")}),
    )
    list_display = ("username", "get_full_name", "role", "body", "is_active")
    list_filter = ("role", "is_active", "is_staff")
    list_select_related = ("body",)
    autocomplete_fields = ("body",)


@admin.register(models.SurveyRound)
class SurveyRoundAdmin(admin.ModelAdmin):
    list_display = ("guideline", "fiscal_year", "due_on", "opened_at")
    list_filter = ("guideline", "fiscal_year")


class ReadOnlyInline(admin.TabularInline):
    """Rows the application writes (and logs); the admin only shows them."""

    extra = 0
    can_delete = False

    def get_readonly_fields(self, request, obj=None):
        return self.fields

    def has_add_permission(self, request, obj=None):
        return False


class AnswerInline(ReadOnlyInline):
    model = models.Answer
    fields = ("measure", "level", "not_applicable", "not_applicable_reason", "department")


class TransitionInline(ReadOnlyInline):
    model = models.AssessmentTransition
    fields = ("at", "from_status", "to_status", "by", "comment")


@admin.register(models.Assessment)
class AssessmentAdmin(admin.ModelAdmin):
    """Read-mostly: answers and status change through the application, which logs them."""

    list_display = ("body", "fiscal_year", "guideline", "status", "updated_at")
    list_filter = ("status", "fiscal_year", "guideline", "body__kind")
    search_fields = ("body__code", "body__name")
    list_select_related = ("body", "body__prefecture", "guideline")
    readonly_fields = (
        "body",
        "guideline",
        "fiscal_year",
        "status",
        "version",
        "submitted_at",
        "approved_at",
        "survey_round",
    )
    inlines = [AnswerInline, TransitionInline]

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        """Only a draft that was never submitted: a submitted or approved assessment and its
        history are records (reopen it in the application instead). No bulk delete."""
        if obj is None:
            return False
        return (
            super().has_delete_permission(request, obj)
            and obj.status in (obj.Status.NOT_STARTED, obj.Status.IN_PROGRESS)
            and obj.submitted_at is None
        )


@admin.register(models.AnswerChange)
class AnswerChangeAdmin(admin.ModelAdmin):
    list_display = ("answer", "changed_by", "changed_at", "source")
    list_select_related = ("answer__assessment__body", "answer__measure", "changed_by")
    readonly_fields = ("answer", "changed_by", "changed_at", "changes", "source")

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False  # the history of an answer is never rewritten
