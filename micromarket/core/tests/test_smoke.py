import pytest

from micromarket.accounts.tests.factories import ShopFactory


@pytest.mark.django_db
def test_home_shows_open_shops(client):
    shop = ShopFactory(name="Studio Naranja", tagline="Logos that feel like you")
    response = client.get("/")
    assert response.status_code == 200
    assert "Studio Naranja" in response.text
    assert shop.tagline in response.text
