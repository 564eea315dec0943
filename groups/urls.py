from django.urls import path

from . import views

app_name = "groups"
urlpatterns = [
    path("", views.my_groups, name="my_groups"),
    path("<slug:slug>/", views.group_page, name="group"),
    path("<slug:slug>/members/", views.group_members_page, name="members"),
    path("<slug:slug>/members/add/", views.member_add, name="member_add"),
    path("<slug:slug>/members/role/", views.member_change_role, name="member_role"),
    path("<slug:slug>/members/remove/", views.member_remove, name="member_remove"),
]
