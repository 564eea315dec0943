# The group event stream now belongs to groups (groups/0009_group_event): forgotten
# here in the migration state only; its table is kept and renamed there.

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("messaging", "0001_initial"),
        ("groups", "0009_group_event"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[migrations.DeleteModel(name="GroupEvent")],
        ),
    ]
