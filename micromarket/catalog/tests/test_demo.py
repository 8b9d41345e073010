import io

import pytest
from django.core.management import call_command

from micromarket.catalog import search
from micromarket.catalog.models import Offer


@pytest.mark.django_db
def test_demo_lists_dozens_of_offers_of_every_kind_with_pictures():
    call_command("demo", "--allow-production", stdout=io.StringIO())
    active = Offer.objects.filter(status=Offer.Status.ACTIVE)
    assert active.count() >= 30
    assert set(active.values_list("kind", flat=True)) == set(Offer.Kind.values)
    assert not active.filter(images__isnull=True).exists()
    assert search.search(search.SearchQuery(text="kyoto")).total >= 3
    call_command("demo", "--allow-production", stdout=io.StringIO())
    assert Offer.objects.count() == active.count()
