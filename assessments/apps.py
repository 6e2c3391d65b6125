from django.apps import AppConfig
from django.core.management import call_command
from django.db.models.signals import post_migrate
from django.utils.translation import gettext_lazy as _


def create_cache_table(using: str = "default", **kwargs) -> None:
    """Every `migrate` also makes the database cache table (a no-op when it exists or when the
    cache is Redis), so that no setup step can be forgotten."""
    call_command("createcachetable", database=using, verbosity=0)


class AssessmentsConfig(AppConfig):
    name = "assessments"
    verbose_name = _("電子自治体 自己評価")

    def ready(self) -> None:
        # Audit receivers only record events (assessments/accounts/receivers.py).
        from assessments.accounts import receivers  # noqa: F401

        post_migrate.connect(create_cache_table, sender=self)
