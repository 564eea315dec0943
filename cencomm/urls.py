from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView

from cencomm import audit_views
from cencomm import views as platform_views
from cencomm.health import health
from core.api import api_docs
from core.metrics import metrics
from groups import account_views
from groups import views as group_views
from operations import search_views
from operations.cen import rilo_views
from operations.cen import views as cen_views

urlpatterns = [
    path("", group_views.home, name="home"),
    path("sw.js", platform_views.service_worker, name="service_worker"),
    # Unnamed: a public file like /sw.js, kept out of the authorization matrix of pages.
    path("manifest.webmanifest", platform_views.web_manifest, name="web_manifest"),
    path("health/", health, name="health"),
    path("metrics", metrics, name="metrics"),
    path("login/", account_views.CencommLoginView.as_view(), name="login"),
    path("login/verify/", account_views.login_verify, name="login_verify"),
    path("account/two-factor/", account_views.two_factor_page, name="account_two_factor"),
    path(
        "account/two-factor/recovery-codes/",
        account_views.two_factor_recovery_codes,
        name="account_recovery_codes",
    ),
    path(
        "account/two-factor/disable/",
        account_views.two_factor_disable,
        name="account_two_factor_disable",
    ),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("language/", group_views.language_set, name="language_set"),
    path("account/sessions/", group_views.account_sessions, name="account_sessions"),
    path("account/sessions/end/", group_views.account_session_end, name="account_session_end"),
    path("account/device/", group_views.account_device, name="account_device"),
    path(
        "account/device/installed/",
        group_views.account_device_installed,
        name="account_device_installed",
    ),
    path("search/", search_views.search_page, name="search"),
    path("groups/", include("cencomm.group_urls")),
    path("groups/<slug:slug>/search/", search_views.group_search_page, name="group_search"),
    path("groups/<slug:slug>/", include("messaging.urls")),
    path("audit/", audit_views.audit_all, name="audit"),
    path("operations/<str:code>/audit/", audit_views.audit_operation, name="operation_audit"),
    path("operations/", include("operations.urls")),
    path("cen/", cen_views.analyst_page, name="cen_analyst"),
    path("cen/data/", cen_views.analyst_data, name="cen_analyst_data"),
    path("cen/rilo/", rilo_views.rilo_page, name="cen_rilo"),
    path("api/v1/", include("cencomm.api_urls")),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("api/docs/", api_docs, name="api-docs"),
    path("admin/", admin.site.urls),
]

# The platform's own error pages, or the JSON error to a script that asked for JSON.
handler403 = "cencomm.error_views.permission_denied"
handler404 = "cencomm.error_views.page_not_found"
handler500 = "cencomm.error_views.server_error"
