# The group event stream moves from messaging to groups, the app below every writer.
# The table exists already: the model is taken over in the migration state, then the
# table is renamed to this app's name.

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("groups", "0008_rilo_assignment"),
        ("messaging", "0001_initial"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name="GroupEvent",
                    fields=[
                        (
                            "id",
                            models.BigAutoField(
                                auto_created=True,
                                primary_key=True,
                                serialize=False,
                                verbose_name="ID",
                            ),
                        ),
                        ("seq", models.PositiveBigIntegerField()),
                        ("type", models.CharField(max_length=40)),
                        ("data", models.JSONField(default=dict)),
                        ("created_at", models.DateTimeField(auto_now_add=True)),
                        (
                            "group",
                            models.ForeignKey(
                                on_delete=django.db.models.deletion.CASCADE,
                                related_name="events",
                                to="groups.closedusergroup",
                            ),
                        ),
                    ],
                    options={
                        "verbose_name": "group event",
                        "verbose_name_plural": "group events",
                        "ordering": ["group", "seq"],
                        "db_table": "messaging_groupevent",
                        "constraints": [
                            models.UniqueConstraint(
                                fields=("group", "seq"), name="one_event_per_group_seq"
                            )
                        ],
                    },
                ),
            ],
        ),
        migrations.AlterModelTable(name="groupevent", table=None),
    ]
