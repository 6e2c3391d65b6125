from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AssessmentsConfig(AppConfig):
    name = "assessments"
    verbose_name = _("電子自治体 自己評価")

    def ready(self) -> None:
        # Audit receivers only record events (assessments/accounts/receivers.py).
        from assessments.accounts import receivers  # noqa: F401
