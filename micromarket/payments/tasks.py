"""Provider calls made after commit by the worker (retried by the sweeper if lost)."""

from django_tasks import task

from micromarket.payments import services


@task(queue_name="default")
def submit_payout(payout_id: int) -> str:
    return services.payout_submit(payout_id=payout_id).status


@task(queue_name="default")
def submit_refund(refund_id: int) -> str:
    return services.refund_submit(refund_id=refund_id).status
