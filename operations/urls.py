from django.urls import path

from . import views

app_name = "operations"
urlpatterns = [
    path("", views.operation_list, name="list"),
    path("new/", views.operation_create, name="create"),
    path("<str:code>/", views.operation_detail, name="detail"),
    path("<str:code>/status/", views.operation_status, name="status"),
    path("<str:code>/dashboard/", views.dashboard, name="dashboard"),
    path("<str:code>/dashboard/data/", views.dashboard_data, name="dashboard_data"),
    path("<str:code>/seizures/", views.seizures, name="seizures"),
    path("<str:code>/seizures/new/", views.seizure_new, name="seizure_new"),
    path("<str:code>/seizures/submit/", views.seizure_submit, name="seizure_submit"),
    path("<str:code>/seizures/<uuid:uuid>/", views.seizure_detail, name="seizure"),
    path(
        "<str:code>/seizures/<uuid:uuid>/validate/", views.seizure_validate, name="seizure_validate"
    ),
    path("<str:code>/seizures/<uuid:uuid>/reject/", views.seizure_reject, name="seizure_reject"),
    path("<str:code>/seizures/<uuid:uuid>/correct/", views.seizure_correct, name="seizure_correct"),
]
