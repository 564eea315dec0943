"""Keep the permanent CEN database apart from the platform database."""

CEN_APP_LABEL = "cen"
CEN_DATABASE = "cen"


class CenRouter:
    def db_for_read(self, model, **hints):
        return CEN_DATABASE if model._meta.app_label == CEN_APP_LABEL else "default"

    db_for_write = db_for_read

    def allow_relation(self, obj1, obj2, **hints):
        # No foreign keys cross the two databases.
        return (obj1._meta.app_label == CEN_APP_LABEL) == (obj2._meta.app_label == CEN_APP_LABEL)

    def allow_migrate(self, db, app_label, model_name=None, **hints):
        if app_label == CEN_APP_LABEL:
            return db == CEN_DATABASE
        return db == "default"
