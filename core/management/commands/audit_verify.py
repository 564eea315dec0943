"""Check the audit trail's hash chain: exit 0 with a count when it is intact, 1 naming
the first entry that was changed, inserted or removed otherwise."""

from django.core.management.base import BaseCommand, CommandError

from core.audit import audit_verify


class Command(BaseCommand):
    help = "Walk the audit trail's hash chain and name the first entry that breaks it."

    def handle(self, *args, **options):
        count, found = audit_verify()
        if found is not None:
            raise CommandError(
                f"Audit trail broken after {count} entries checked: {found.describe()}"
            )
        self.stdout.write(f"Audit trail intact: {count} entries, every one follows the one before.")
