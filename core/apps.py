from django.apps import AppConfig


class CoreConfig(AppConfig):
    """The kernel every app builds on: audit trail, bulk writes, metrics, error model.

    Its label stays "cencomm": the audit table and its migrations were made under it.
    """

    name = "core"
    label = "cencomm"
    verbose_name = "CENcomm"

    def ready(self):
        from . import signals  # noqa: F401
