from django.db import models


class PeriodicJob(models.Model):
    """One row per registered periodic job: when it is next due and how its last run went.

    Workers claim a due job with a conditional UPDATE on ``next_run_at`` (see ``sweeper``), so
    with several workers running each period's run happens once.
    """

    name = models.CharField(max_length=100, primary_key=True)
    next_run_at = models.DateTimeField()
    last_started_at = models.DateTimeField(null=True, blank=True)
    last_finished_at = models.DateTimeField(null=True, blank=True)
    last_handled = models.PositiveIntegerField(default=0)
    last_error = models.TextField(blank=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name
