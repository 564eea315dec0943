from django.urls import path

from . import handling_views, report_views, spreadsheet_views, transfer_views, views

app_name = "operations"
urlpatterns = [
    path("", views.operation_list, name="list"),
    path("new/", views.operation_create, name="create"),
    path("<str:code>/", views.operation_detail, name="detail"),
    path("<str:code>/status/", views.operation_status, name="status"),
    path("<str:code>/start/", views.operation_start, name="start"),
    path("<str:code>/close/", views.operation_close, name="close"),
    path("<str:code>/reopen/", views.operation_reopen, name="reopen"),
    path(
        "<str:code>/continuous-transfer/",
        views.operation_continuous_transfer,
        name="continuous_transfer",
    ),
    path("<str:code>/transfer/", transfer_views.transfer_start, name="transfer_start"),
    path("<str:code>/transfer/status/", transfer_views.transfer_status, name="transfer_status"),
    path(
        "<str:code>/transfer/<int:run_id>/report.csv",
        transfer_views.transfer_report,
        name="transfer_report",
    ),
    path("<str:code>/dashboard/", views.dashboard, name="dashboard"),
    path("<str:code>/dashboard/data/", views.dashboard_data, name="dashboard_data"),
    path("<str:code>/report/", report_views.report, name="report"),
    path("<str:code>/report.pdf", report_views.report_pdf, name="report_pdf"),
    path("<str:code>/seizures/", views.seizures, name="seizures"),
    path("<str:code>/seizures/new/", views.seizure_new, name="seizure_new"),
    path("<str:code>/seizures/template.xlsx", spreadsheet_views.template, name="seizures_template"),
    path("<str:code>/seizures/import/", spreadsheet_views.import_page, name="seizures_import"),
    path(
        "<str:code>/seizures/export.csv", spreadsheet_views.export_csv, name="seizures_export_csv"
    ),
    path(
        "<str:code>/seizures/export.xlsx",
        spreadsheet_views.export_xlsx,
        name="seizures_export_xlsx",
    ),
    path("<str:code>/seizures/submit/", views.seizure_submit, name="seizure_submit"),
    path("<str:code>/seizures/<uuid:uuid>/", views.seizure_detail, name="seizure"),
    path(
        "<str:code>/seizures/<uuid:uuid>/validate/", views.seizure_validate, name="seizure_validate"
    ),
    path("<str:code>/seizures/<uuid:uuid>/reject/", views.seizure_reject, name="seizure_reject"),
    path(
        "<str:code>/seizures/<uuid:uuid>/undo-review/",
        views.seizure_undo_review,
        name="seizure_undo_review",
    ),
    path("<str:code>/seizures/<uuid:uuid>/correct/", views.seizure_correct, name="seizure_correct"),
    path(
        "<str:code>/seizures/<uuid:uuid>/handling/",
        handling_views.seizure_handling_change,
        name="seizure_handling",
    ),
    path(
        "<str:code>/seizures/<uuid:uuid>/release/",
        handling_views.seizure_release_view,
        name="seizure_release",
    ),
    path(
        "<str:code>/handling/", handling_views.operation_default_handling, name="default_handling"
    ),
]
