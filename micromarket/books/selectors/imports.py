"""Reads of the imports area: the seller's past imports."""

from __future__ import annotations

from django.db.models import F

from micromarket.books.models import ImportBatch
from micromarket.core.errors import NotFound


def import_batches(owner):
    """Newest first; ``excluded``: the rows the seller left out (transfers, payouts …)."""
    return (
        ImportBatch.objects.filter(owner=owner)
        .annotate(excluded=F("rows") - F("imported") - F("duplicates"))
        .order_by("-created_at", "-id")
    )


def import_batch_get(owner, batch_id) -> ImportBatch:
    batch = import_batches(owner).filter(pk=batch_id).first()
    if batch is None:
        raise NotFound("There is no such import.", code="import_not_found")
    return batch
