"""On PostgreSQL the database itself refuses to change or delete an audit entry."""

from django.db import migrations

FORWARD = """
CREATE OR REPLACE FUNCTION cencomm_audit_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION USING MESSAGE = 'the audit trail is append-only: ' || TG_OP || ' refused';
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER cencomm_audit_append_only
    BEFORE UPDATE OR DELETE ON cencomm_auditentry
    FOR EACH ROW EXECUTE FUNCTION cencomm_audit_append_only();
"""
BACKWARD = """
DROP TRIGGER IF EXISTS cencomm_audit_append_only ON cencomm_auditentry;
DROP FUNCTION IF EXISTS cencomm_audit_append_only();
"""


def forward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(FORWARD)


def backward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(BACKWARD)


class Migration(migrations.Migration):
    dependencies = [("cencomm", "0001_initial")]
    operations = [migrations.RunPython(forward, backward)]
