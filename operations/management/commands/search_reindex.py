"""manage.py search_reindex — rebuild every message's search entry (docs/search.md)."""

from django.core.management.base import BaseCommand
from django.db import transaction

from operations.search import search_reindex


class Command(BaseCommand):
    help = "Rebuild the search entries of every message, with the seizures' fields."

    def handle(self, *args, **options):
        with transaction.atomic():
            count = search_reindex()
        self.stdout.write(f"{count} messages indexed for search.")
