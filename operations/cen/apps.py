from django.apps import AppConfig


class CenConfig(AppConfig):
    """The permanent CEN database of seizures; lives in the `cen` database alias."""

    name = "operations.cen"
    label = "cen"
    verbose_name = "CEN database"
