"""Show the current two-factor code of a demo user (coordinators and staff need one)."""

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from groups.two_factor import current_code, demo_device_ensure


class Command(BaseCommand):
    help = (
        "Print the current authenticator code of a demo user. Development and demonstration only."
    )

    def add_arguments(self, parser):
        parser.add_argument("username")
        parser.add_argument("--force", action="store_true", help="run even with DEBUG off")

    def handle(self, *args, username: str, force: bool, **options):
        if not settings.DEBUG and not force:
            raise CommandError(
                "demo_totp reads a second factor from the database: it refuses to run with DEBUG off."
            )
        user = get_user_model().objects.filter(username=username).first()
        if user is None:
            raise CommandError(f"There is no user called {username}.")
        self.stdout.write(current_code(demo_device_ensure(user=user)))
