"""Background jobs of the operations app, run by the django-tasks worker (`manage.py db_worker`)."""

from django_tasks import task

from .models import TransferRun


@task()
def run_cen_transfer(run_id: int) -> str:
    """Run one queued CEN transfer; returns the run's state when the job ends."""
    from .transfer import TransferBusy, cen_transfer_run

    run = TransferRun.objects.filter(pk=run_id).first()
    if run is None:
        return "missing"
    try:
        return cen_transfer_run(run=run).state
    except TransferBusy:
        # Another process (a command, another worker) holds the run: nothing to do here.
        return "busy"
