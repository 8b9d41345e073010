"""Reads of the imports area: the seller's past imports."""

from __future__ import annotations

from micromarket.books.models import ImportBatch
from micromarket.core.errors import NotFound


def import_batches(owner):
    return ImportBatch.objects.filter(owner=owner).order_by("-created_at", "-id")


def import_batch_get(owner, batch_id) -> ImportBatch:
    batch = ImportBatch.objects.filter(owner=owner, pk=batch_id).first()
    if batch is None:
        raise NotFound("There is no such import.", code="import_not_found")
    return batch
