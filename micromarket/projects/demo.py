"""Demo projects, built through the real services: Alex's bakery relaunch split into three
tasks — a logo awarded to María by proposal, funded and submitted (waiting for Alex's review),
a queue of product-description batches that Priya and Kwame claimed (one approved and paid,
one waiting for funding), and product pages that wait for the logo — plus Ravi's invite-only
furniture job with Sam's proposal waiting."""

from __future__ import annotations

from datetime import timedelta

from django.contrib.auth import get_user_model
from django.utils import timezone

from micromarket.catalog import selectors as catalog_selectors
from micromarket.projects import selectors, services

DOMAIN = "demo.micromarket.test"
CARD = "4242424242424242"  # the sandbox provider's card that always succeeds


def _user(name: str):
    return get_user_model().objects.filter(email=f"{name}@{DOMAIN}").first()


def _category(slug: str) -> int:
    return next(
        child.pk
        for top in catalog_selectors.categories_tree()
        for child in top.children.all()
        if child.slug == slug
    )


def _bakery(alex, maria, priya, kwame) -> str:
    today = timezone.localdate()
    project = services.project_create(
        buyer=alex,
        title="Relaunch our bakery's online shop",
        description="We bake sourdough and pastries in Chicago and are relaunching our web "
        "shop: a new logo, fresh product descriptions and new product pages.",
        category_id=_category("web-app-development"),
        currency="USD",
        budget=200_000,
        deadline=today + timedelta(days=45),
    )
    logo = services.task_create(
        buyer=alex,
        project_id=project.pk,
        title="Design a new logo and shop banner",
        brief="A warm, hand-drawn logo with our name, and a 1600×400 banner for the shop.",
        budget=30_000,
        deadline=today + timedelta(days=14),
        skills=["logo design", "illustration"],
        revisions=2,
    )
    batches = services.task_create(
        buyer=alex,
        project_id=project.pk,
        title="Write product descriptions (a batch of 10)",
        brief="40 products in four batches of ten: 60–90 words each, friendly, no jargon. "
        "We send photos and ingredients for each batch.",
        budget=6_000,
        quantity=4,
        per_seller_limit=2,
        deadline=today + timedelta(days=21),
        skills=["copywriting", "printables", "Python"],
        delivery_days=4,
        claimable=True,
    )
    services.task_create(
        buyer=alex,
        project_id=project.pk,
        title="Build the new product pages",
        brief="Django templates for 40 products using the new logo and banner.",
        budget=80_000,
        deadline=today + timedelta(days=40),
        skills=["Django", "Python"],
        delivery_days=10,
        depends_on_id=logo.pk,
    )
    services.project_publish(buyer=alex, project_id=project.pk)
    proposal = services.proposal_send(
        seller=maria,
        task_id=logo.pk,
        price=28_000,
        days=5,
        message="I draw every logo by hand first. Two concepts, then two rounds of changes.",
    )
    services.proposal_send(
        seller=kwame,
        task_id=logo.pk,
        price=15_000,
        days=3,
        message="Not a designer by trade, but I can do a clean typographic logo quickly.",
    )
    awarded = services.proposal_award(buyer=alex, proposal_id=proposal.pk)
    claimed = services.task_claim(seller=priya, task_id=batches.pk)
    services.assignments_fund(
        buyer=alex,
        assignment_ids=[awarded.pk, claimed.pk],
        payment_method=CARD,
        idempotency_key="demo:projects-bakery-fund",
        return_url="/projects/",
    )
    services.assignment_transition(
        actor=maria,
        assignment_id=awarded.pk,
        name="submit",
        data={"message": "Two concepts attached as described — the wheat-sheaf one is my pick."},
    )
    services.assignment_transition(
        actor=priya,
        assignment_id=claimed.pk,
        name="submit",
        data={"message": "Batch one: ten descriptions in the shared document."},
    )
    services.assignment_transition(actor=alex, assignment_id=claimed.pk, name="approve")
    services.task_claim(seller=kwame, task_id=batches.pk)  # waits for Alex to fund it
    return (
        f"alex@'s bakery relaunch (/projects/{project.pk}/: maria@'s logo waits for review, "
        "kwame@'s claimed batch waits for funding)"
    )


def _furniture(ravi, sam) -> str:
    today = timezone.localdate()
    project = services.project_create(
        buyer=ravi,
        title="Set up our new office in Leicester",
        description="Twelve desks, chairs and shelving to assemble before our team moves in.",
        category_id=_category("handyman-assembly"),
        currency="GBP",
        budget=90_000,
        deadline=today + timedelta(days=20),
        visibility="invited",
    )
    task = services.task_create(
        buyer=ravi,
        project_id=project.pk,
        title="Assemble 12 desks and chairs",
        brief="Flat-packed, delivered to the office on the ground floor. Tools on site.",
        budget=45_000,
        deadline=today + timedelta(days=15),
        skills=["furniture assembly"],
    )
    services.project_invite(buyer=ravi, project_id=project.pk, email=sam.email)
    services.project_publish(buyer=ravi, project_id=project.pk)
    services.proposal_send(
        seller=sam,
        task_id=task.pk,
        price=42_000,
        days=2,
        message="I can do all twelve over a weekend so the office is ready on Monday.",
    )
    return "ravi@'s invite-only office job with sam@'s proposal waiting"


def build(*, stdout, create: bool = True) -> list[str]:
    people = {n: _user(n) for n in ("alex", "ravi", "maria", "priya", "kwame", "sam")}
    if not create or any(u is None for u in people.values()):
        return []
    parts = []
    if not selectors.projects_for_buyer(buyer=people["alex"]).exists():
        parts.append(_bakery(people["alex"], people["maria"], people["priya"], people["kwame"]))
    if not selectors.projects_for_buyer(buyer=people["ravi"]).exists():
        parts.append(_furniture(people["ravi"], people["sam"]))
    if not parts:
        return []
    return ["Projects: " + "; ".join(parts) + " — sellers find open tasks on /projects/tasks/"]
