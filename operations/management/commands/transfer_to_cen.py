"""manage.py transfer_to_cen OPERATION: run a CEN transfer in the foreground.

Prints one line; the exit status is 0 only when the run reconciled.
"""

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils.translation import gettext as _

from core.errors import DomainError, command_error
from operations.models import Operation, TransferRun
from operations.transfer import cen_transfer_run_foreground
from operations.transfer_selectors import transfer_summary


def positive(value: str) -> int:
    number = int(value)
    if number <= 0:
        raise ValueError(value)
    return number


class Command(BaseCommand):
    help = _(
        "Transfer a closed operation's validated seizures to CEN, in the foreground. "
        "A run that was killed is resumed; a completed transfer run again changes nothing."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("operation", help=_("The operation's code, e.g. THUNDER-2026."))
        parser.add_argument(
            "--batch-size",
            type=positive,
            default=None,
            help=_("Seizures per CEN transaction (default: CEN_TRANSFER_BATCH_SIZE)."),
        )

    def handle(self, *args, operation: str, batch_size: int | None, **options) -> None:
        found = Operation.objects.filter(code=operation.strip().upper()).first()
        if found is None:
            raise CommandError(_("There is no operation %(code)s.") % {"code": operation})
        try:
            run = cen_transfer_run_foreground(operation=found, batch_size=batch_size)
        except (DomainError, ValidationError) as error:
            raise command_error(error) from None
        summary = transfer_summary(run)
        if run.state != TransferRun.State.RECONCILED:
            raise CommandError(summary)
        self.stdout.write(summary)
