"""Projects' pages (``projects:`` namespace)."""

from django.urls import path

from micromarket.projects import views

app_name = "projects"
urlpatterns = [
    # buyers
    path("projects/", views.project_list, name="list"),
    path("projects/new/", views.project_create, name="create"),
    path("projects/<int:project_id>/", views.project_detail, name="project"),
    path("projects/<int:project_id>/edit/", views.project_edit, name="edit"),
    path("projects/<int:project_id>/publish/", views.project_publish, name="publish"),
    path("projects/<int:project_id>/close/", views.project_close, name="close"),
    path("projects/<int:project_id>/invites/", views.project_invite, name="invite"),
    path(
        "projects/<int:project_id>/invites/<int:seller_id>/remove/",
        views.project_uninvite,
        name="uninvite",
    ),
    path("projects/<int:project_id>/attachments/", views.attachment_add, name="attachment_add"),
    path("projects/attachments/<int:attachment_id>/", views.attachment_get, name="attachment"),
    path(
        "projects/attachments/<int:attachment_id>/remove/",
        views.attachment_remove,
        name="attachment_remove",
    ),
    path("projects/<int:project_id>/tasks/new/", views.task_create, name="task_create"),
    path("projects/<int:project_id>/fund/", views.fund, name="fund"),
    # tasks (buyers and sellers)
    path("projects/tasks/", views.task_browse, name="browse"),
    path("projects/tasks/<int:task_id>/", views.task_detail, name="task"),
    path("projects/tasks/<int:task_id>/edit/", views.task_edit, name="task_edit"),
    path("projects/tasks/<int:task_id>/close/", views.task_close, name="task_close"),
    path("projects/tasks/<int:task_id>/reopen/", views.task_reopen, name="task_reopen"),
    path("projects/tasks/<int:task_id>/delete/", views.task_delete, name="task_delete"),
    path("projects/tasks/<int:task_id>/propose/", views.proposal_send, name="propose"),
    path("projects/tasks/<int:task_id>/claim/", views.task_claim, name="claim"),
    path(
        "projects/proposals/<int:proposal_id>/withdraw/",
        views.proposal_withdraw,
        name="proposal_withdraw",
    ),
    path(
        "projects/proposals/<int:proposal_id>/decline/",
        views.proposal_decline,
        name="proposal_decline",
    ),
    path("projects/proposals/<int:proposal_id>/award/", views.proposal_award, name="award"),
    path(
        "projects/assignments/<int:assignment_id>/withdraw/",
        views.assignment_withdraw,
        name="assignment_withdraw",
    ),
    # sellers
    path("projects/proposals/", views.my_proposals, name="my_proposals"),
    path("projects/work/", views.my_work, name="my_work"),
]
