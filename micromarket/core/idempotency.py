"""``Idempotency-Key`` for API writes that move money (the Stripe convention).

An endpoint wraps its work in ``idempotent(request, params=…, run=…)``:

* no header → the work runs once, with a fresh key for the service;
* a new key → the work runs with the service key ``api:<user>:<key>`` and its response (success
  or error) is stored;
* the same key and the same parameters → the stored response, nothing runs again;
* the same key and other parameters → 422 ``idempotency_mismatch``;
* the same key while the first request is still running → 409 ``idempotency_in_progress``.

Keys are kept ``IDEMPOTENCY_KEY_HOURS`` (default 48, at least 24) and then purged by a job.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Callable
from typing import Any

from django.db import IntegrityError, transaction

from micromarket.core.errors import Conflict, DomainError, ValidationFailed

HEADER = "Idempotency-Key"


def _fingerprint(method: str, path: str, params: Any) -> str:
    text = json.dumps([method, path, params], sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()


def _stored(record) -> tuple[int, Any]:
    if record.status_code is None:
        raise Conflict(
            "A request with this idempotency key is still being processed; retry shortly.",
            code="idempotency_in_progress",
        )
    if record.status_code >= 400:  # the first attempt failed: the same error again
        body = record.response or {}
        error = DomainError(
            body.get("detail", ""), code=body.get("code"), errors=body.get("errors")
        )
        error.status = record.status_code
        raise error
    return record.status_code, record.response


def idempotent(request, *, params: Any, run: Callable[[str], tuple[int, Any]]) -> tuple[int, Any]:
    """Run ``run(service_key) -> (status, body)`` at most once per Idempotency-Key.

    Domain errors are stored and raised again on replay, like successes (the key was used);
    unexpected exceptions release the key so the client can retry.
    """
    from micromarket.core.models import IdempotencyRecord

    key = request.headers.get(HEADER, "").strip()
    if not key:
        return run(f"api:{request.user.pk}:{uuid.uuid4()}")
    if len(key) > 120:
        raise ValidationFailed("Idempotency-Key is at most 120 characters.", field=HEADER)
    fingerprint = _fingerprint(request.method, request.path, params)
    lookup = {"user": request.user, "key": key}
    record = IdempotencyRecord.objects.filter(**lookup).first()
    if record is None:
        try:
            with transaction.atomic():
                record = IdempotencyRecord.objects.create(
                    method=request.method, path=request.path, fingerprint=fingerprint, **lookup
                )
        except IntegrityError:
            record = IdempotencyRecord.objects.get(**lookup)
        else:
            return _run_and_store(record, run, f"api:{request.user.pk}:{key}")
    if record.fingerprint != fingerprint:
        raise ValidationFailed(
            "This Idempotency-Key was already used with a different request.",
            code="idempotency_mismatch",
        )
    return _stored(record)


def _run_and_store(record, run, service_key: str) -> tuple[int, Any]:
    from micromarket.core.api import problem_body

    try:
        status, body = run(service_key)
    except DomainError as exc:
        status, body = exc.status, problem_body(exc, instance=record.path)
        type(record).objects.filter(pk=record.pk).update(status_code=status, response=body)
        raise
    except BaseException:
        type(record).objects.filter(pk=record.pk).delete()
        raise
    type(record).objects.filter(pk=record.pk).update(status_code=status, response=body)
    return status, body
