from django.core.serializers.json import DjangoJSONEncoder
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


class IdempotencyRecord(models.Model):
    """The first response to an API request sent with an ``Idempotency-Key`` header.

    A retry with the same key and the same request gets this response again; the same key with
    a different request is refused. Kept for ``IDEMPOTENCY_KEY_HOURS`` (at least 24 hours).
    """

    user = models.ForeignKey("accounts.User", on_delete=models.CASCADE, related_name="+")
    key = models.CharField(max_length=120)
    method = models.CharField(max_length=10)
    path = models.CharField(max_length=300)
    fingerprint = models.CharField(max_length=64)
    status_code = models.PositiveSmallIntegerField(null=True)  # None while in progress
    response = models.JSONField(null=True, encoder=DjangoJSONEncoder)  # dates, decimals
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "key"], name="core_idempotency_user_key")
        ]

    def __str__(self) -> str:
        return f"{self.method} {self.path} [{self.key}]"
