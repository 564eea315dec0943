from django.apps import AppConfig


class DemoConfig(AppConfig):
    """The demo world and the benchmark world: built through the services, above every app."""

    name = "demo"
    verbose_name = "Demo"
