"""manage.py import_seizures OPERATION FILE — what the upload page does, from a shell."""

from pathlib import Path

from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.management.base import BaseCommand, CommandError

from core.errors import DomainError, NotFound, command_error
from groups.models import Membership, Role
from operations.models import Operation
from operations.spreadsheets import seizures_import


class Command(BaseCommand):
    help = "Import seizures from an .xlsx or .csv file into an operation: every row, or none."

    def add_arguments(self, parser):
        parser.add_argument("operation", help="the operation's code, e.g. DEMO-2026")
        parser.add_argument("file", type=Path)
        parser.add_argument(
            "--as", dest="username", help="the reporting officer (default: the first coordinator)"
        )

    def handle(self, *args, operation: str, file: Path, username: str | None, **options):
        found = Operation.objects.select_related("group").filter(code=operation.upper()).first()
        if found is None:
            raise CommandError(f"There is no operation {operation}.")
        if username:
            reporter = get_user_model().objects.filter(username=username).first()
        else:
            membership = (
                Membership.objects.filter(
                    group=found.group, role=Role.COORDINATOR, removed_at__isnull=True
                )
                .select_related("user")
                .order_by("created_at")
                .first()
            )
            reporter = membership.user if membership else None
        if reporter is None:
            raise CommandError("No reporting officer: name one with --as.")
        if not file.is_file():
            raise CommandError(f"There is no file {file}.")
        try:
            report = seizures_import(reporter=reporter, operation=found, data=file.read_bytes())
        except NotFound:
            raise CommandError(f"{reporter.username} is not a member of {found.code}.") from None
        except (DomainError, PermissionDenied, ValidationError) as error:
            raise command_error(error) from None
        if not report.ok:
            for row, column, problem in report.errors:
                self.stderr.write(f"row {row}, {column or '-'}: {problem}")
            raise CommandError(
                f"Nothing imported: {len(report.errors)} problem(s) in {report.rows} rows."
            )
        for row, _column, warning in report.warnings:
            self.stderr.write(f"row {row}: {warning}")
        self.stdout.write(
            f"{report.created} seizures imported, {report.updated} corrected, "
            f"{report.already_there} already imported ({report.rows} rows)."
        )
