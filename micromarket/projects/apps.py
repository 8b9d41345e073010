from django.apps import AppConfig


class ProjectsConfig(AppConfig):
    """Buyer projects split into micro-tasks that several sellers take on."""

    name = "micromarket.projects"
    label = "projects"
    verbose_name = "Projects"
