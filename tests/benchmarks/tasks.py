"""Steps the benchmark runs inside a Django process on the benchmark databases.

python -m tests.benchmarks.tasks world OPERATIONS MEMBERS
python -m tests.benchmarks.tasks missed-events SLUG COUNT
"""

import json
import sys

import django


def world(operations: int, members: int) -> None:
    from django.contrib.auth import get_user_model

    from groups.bench_world import bench_world_build

    coordinator, _created = get_user_model().objects.get_or_create(username="bench.coordinator")
    print(
        json.dumps(
            bench_world_build(operations=operations, members=members, coordinator=coordinator)
        )
    )


def missed_events(slug: str, count: int) -> None:
    """Append COUNT message events to a group at once; prints the seq before and after."""
    from django.db import transaction

    from groups.models import ClosedUserGroup
    from messaging.models import GroupEvent

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
    if task == "world":
        world(int(arguments[0]), int(arguments[1]))
    elif task == "missed-events":
        missed_events(arguments[0], int(arguments[1]))
    else:
        raise SystemExit(f"unknown task {task}")
