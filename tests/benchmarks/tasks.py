"""Steps the benchmark runs inside a Django process on the benchmark databases.

python -m tests.benchmarks.tasks missed-events SLUG COUNT
"""

import sys

import django


def missed_events(slug: str, count: int) -> None:
    """Append COUNT message events to a group at once; prints the seq before and after."""
    from django.db import transaction

    from groups.models import ClosedUserGroup, GroupEvent

    with transaction.atomic():
        group = ClosedUserGroup.objects.select_for_update().get(slug=slug)
        start = group.last_seq
        events = [
            GroupEvent(
                group=group,
                seq=seq,
                type="message.created",
                data={"seq": seq, "kind": "text", "html": f"<p>missed {seq}</p>"},
            )
            for seq in range(start + 1, start + count + 1)
        ]
        GroupEvent.objects.bulk_create(events, batch_size=2000)
        ClosedUserGroup.objects.filter(pk=group.pk).update(last_seq=start + count)
    print(start, start + count)


if __name__ == "__main__":
    django.setup()
    task, *arguments = sys.argv[1:]
    if task == "missed-events":
        missed_events(arguments[0], int(arguments[1]))
    else:
        raise SystemExit(f"unknown task {task}")
