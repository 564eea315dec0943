import uuid

from django.db import migrations, models


def give_each_session_an_id(apps, schema_editor):
    UserSession = apps.get_model("groups", "UserSession")
    for record in UserSession.objects.filter(public_id__isnull=True).only("pk"):
        record.public_id = uuid.uuid4()
        record.save(update_fields=["public_id"])


class Migration(migrations.Migration):
    dependencies = [("groups", "0005_six_languages_complete")]

    operations = [
        migrations.AddField(
            model_name="usersession",
            name="public_id",
            field=models.UUIDField(editable=False, null=True),
        ),
        migrations.RunPython(give_each_session_an_id, migrations.RunPython.noop),
        migrations.AlterField(
            model_name="usersession",
            name="public_id",
            field=models.UUIDField(default=uuid.uuid4, editable=False, unique=True),
        ),
    ]
