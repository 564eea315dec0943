from django.apps import AppConfig


class CencommConfig(AppConfig):
    name = "cencomm"
    verbose_name = "CENcomm"

    def ready(self):
        from . import signals  # noqa: F401
