"""Read-mostly admin for operators: projects, tasks, proposals and assignments. Money and states
change only through the services (and the milestone orders' process), never here."""

from django.contrib import admin

from micromarket.projects.models import Assignment, Project, Proposal, Task


class ReadOnly(admin.ModelAdmin):
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Project)
class ProjectAdmin(ReadOnly):
    list_display = ("id", "title", "buyer", "status", "visibility", "budget", "currency")
    list_filter = ("status", "visibility")
    search_fields = ("title", "buyer__email")


@admin.register(Task)
class TaskAdmin(ReadOnly):
    list_display = ("id", "title", "project", "budget", "quantity", "claimable", "status")
    search_fields = ("title",)


@admin.register(Proposal)
class ProposalAdmin(ReadOnly):
    list_display = ("id", "task", "seller", "price", "days", "status")
    list_filter = ("status",)


@admin.register(Assignment)
class AssignmentAdmin(ReadOnly):
    list_display = ("id", "task", "seller", "via", "price", "status", "order")
    list_filter = ("via", "status")
