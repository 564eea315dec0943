"""/groups/…: the group pages (cencomm.group_pages) and the member management pages
(groups.views), under one namespace."""

from django.urls import path

from groups import views

from . import group_pages

app_name = "groups"
urlpatterns = [
    path("", group_pages.my_groups, name="my_groups"),
    path("<slug:slug>/", group_pages.group_page, name="group"),
    path("<slug:slug>/members/", views.group_members_page, name="members"),
    path("<slug:slug>/members/add/", views.member_add, name="member_add"),
    path("<slug:slug>/members/add-all/", views.member_add_all, name="member_add_all"),
    path("<slug:slug>/members/role/", views.member_change_role, name="member_role"),
    path("<slug:slug>/members/remove/", views.member_remove, name="member_remove"),
]
