"""Background jobs of the groups app, run by the django-tasks worker (`manage.py db_worker`)."""

from django_tasks import task


@task()
def deliver_notifications(notices: list[dict]) -> dict[str, int]:
    """Push the notices of one commit to the devices of those they are for; returns how
    many pushes were sent, gone (subscription deleted) or failed."""
    from .notifications import notices_deliver

    return notices_deliver(notices)
