"""/api/v1: the signed-in user, API tokens and public shops, as an API client sees them."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
import time_machine
from django.test import Client
from django.utils import timezone

from micromarket.accounts import services
from micromarket.accounts.models import ApiToken, User
from micromarket.accounts.tests.factories import DEFAULT_PASSWORD, ShopFactory, UserFactory

pytestmark = pytest.mark.django_db

PROBLEM = "application/problem+json"
BACKEND = "micromarket.accounts.backends.EmailBackend"


def bearer(raw: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {raw}"}


def user_with_token(**kwargs) -> tuple[User, str]:
    user = UserFactory(**kwargs)
    _token, raw = services.token_create(user=user, name="script")
    return user, raw


def patch_json(client: Client, path: str, data: dict, **kwargs):
    return client.patch(path, json.dumps(data), content_type="application/json", **kwargs)


def assert_problem(response, status: int, code: str) -> dict:
    assert response.status_code == status, response.content
    assert response["Content-Type"] == PROBLEM
    body = response.json()
    assert body["status"] == status
    assert body["code"] == code
    assert body["detail"]
    return body


# --- /me ------------------------------------------------------------------------------------


class TestMe:
    def test_anonymous_is_401_problem(self, client):
        response = client.get("/api/v1/me")

        body = assert_problem(response, 401, "not_authenticated")
        assert body["instance"] == "/api/v1/me"
        assert response["WWW-Authenticate"].startswith("Bearer")

    def test_bearer_token_returns_my_data(self, client):
        user, raw = user_with_token(email="me@example.com", display_name="Me Myself")
        ShopFactory(owner=user, name="My Shop", slug="my-shop")

        response = client.get("/api/v1/me", headers=bearer(raw))

        assert response.status_code == 200
        data = response.json()
        assert data["id"] == user.pk
        assert data["email"] == "me@example.com"
        assert data["display_name"] == "Me Myself"
        assert data["email_verified"] is True
        assert data["roles"] == ["buyer", "seller"]
        assert data["shop"]["slug"] == "my-shop"
        assert data["shop"]["url"] == "http://testserver/shops/my-shop/"
        assert data["two_factor_enabled"] is False

    def test_session_auth_works(self, client):
        user = UserFactory(email="session@example.com")
        client.force_login(user, backend=BACKEND)

        response = client.get("/api/v1/me")

        assert response.status_code == 200
        assert response.json()["email"] == "session@example.com"
        assert response.json()["shop"] is None

    @pytest.mark.parametrize(
        "raw", ["mm_unknown-token", "not-even-our-format", ""], ids=["unknown", "foreign", "empty"]
    )
    def test_unknown_token_is_401(self, client, raw):
        user_with_token()

        response = client.get("/api/v1/me", headers=bearer(raw))

        assert_problem(response, 401, "not_authenticated")

    def test_revoked_token_is_401(self, client):
        user = UserFactory()
        token, raw = services.token_create(user=user, name="script")
        services.token_revoke(user=user, token_id=token.pk)

        response = client.get("/api/v1/me", headers=bearer(raw))

        assert_problem(response, 401, "not_authenticated")

    def test_expired_token_is_401(self, client):
        user = UserFactory()
        _token, raw = services.token_create(user=user, name="script", expires_in_days=1)

        with time_machine.travel(timezone.now() + timedelta(days=2)):
            response = client.get("/api/v1/me", headers=bearer(raw))

        assert_problem(response, 401, "not_authenticated")

    def test_token_of_closed_account_is_401(self, client):
        user, raw = user_with_token()
        services.account_delete(user=user, password=DEFAULT_PASSWORD)

        response = client.get("/api/v1/me", headers=bearer(raw))

        assert_problem(response, 401, "not_authenticated")


class TestMePatch:
    def test_bearer_patch_updates_profile(self, client):
        user, raw = user_with_token()

        response = patch_json(
            client,
            "/api/v1/me",
            {"display_name": "New Name", "timezone": "Europe/Paris", "languages": ["French"]},
            headers=bearer(raw),
        )

        assert response.status_code == 200
        assert response.json()["display_name"] == "New Name"
        assert response.json()["timezone"] == "Europe/Paris"
        user.refresh_from_db()
        assert user.display_name == "New Name"
        assert user.timezone == "Europe/Paris"
        assert user.languages == ["French"]

    def test_bearer_patch_needs_no_csrf_token(self):
        """A script with a token has no cookies: CSRF protects sessions, not bearer tokens."""
        user, raw = user_with_token()
        client = Client(enforce_csrf_checks=True)

        response = patch_json(client, "/api/v1/me", {"location": "Lisbon"}, headers=bearer(raw))

        assert response.status_code == 200
        user.refresh_from_db()
        assert user.location == "Lisbon"

    def test_bad_timezone_is_422_naming_the_field_and_changes_nothing(self, client):
        user, raw = user_with_token(display_name="Before")

        response = patch_json(
            client,
            "/api/v1/me",
            {"display_name": "After", "timezone": "Mars/Olympus_Mons"},
            headers=bearer(raw),
        )

        body = assert_problem(response, 422, "validation_failed")
        assert any("timezone" in error["loc"] for error in body["errors"])
        user.refresh_from_db()
        assert user.timezone == "UTC"
        assert user.display_name == "Before"

    def test_schema_violation_is_422_naming_the_field(self, client):
        user, raw = user_with_token()

        response = patch_json(
            client, "/api/v1/me", {"preferred_currency": "EURO"}, headers=bearer(raw)
        )

        body = assert_problem(response, 422, "validation_failed")
        assert any("preferred_currency" in error["loc"] for error in body["errors"])
        user.refresh_from_db()
        assert user.preferred_currency == "USD"

    def test_session_patch_without_csrf_token_is_refused(self):
        user = UserFactory(display_name="Before")
        client = Client(enforce_csrf_checks=True)
        client.force_login(user, backend=BACKEND)

        response = patch_json(client, "/api/v1/me", {"display_name": "Forged"})

        assert response.status_code == 403
        assert response["Content-Type"] == PROBLEM
        user.refresh_from_db()
        assert user.display_name == "Before"

    def test_session_patch_with_csrf_token_is_accepted(self):
        user = UserFactory()
        client = Client(enforce_csrf_checks=True)
        client.force_login(user, backend=BACKEND)
        client.get("/settings/profile/")  # sets the CSRF cookie, as any page does

        response = patch_json(
            client,
            "/api/v1/me",
            {"display_name": "Via htmx"},
            headers={"X-CSRFToken": client.cookies["csrftoken"].value},
        )

        assert response.status_code == 200
        user.refresh_from_db()
        assert user.display_name == "Via htmx"

    def test_anonymous_patch_is_refused(self):
        UserFactory()

        response = patch_json(Client(), "/api/v1/me", {"display_name": "Nobody"})

        assert_problem(response, 401, "not_authenticated")
        assert not User.objects.filter(display_name="Nobody").exists()


# --- tokens ---------------------------------------------------------------------------------


class TestTokens:
    def test_list_is_paginated(self, client):
        user, raw = user_with_token()
        for i in range(4):
            services.token_create(user=user, name=f"extra {i}")
        services.token_create(user=UserFactory(), name="someone else's")

        response = client.get("/api/v1/me/tokens?limit=2&offset=2", headers=bearer(raw))

        assert response.status_code == 200
        page = response.json()
        assert set(page) == {"items", "count", "limit", "offset", "next", "previous"}
        assert page["count"] == 5
        assert page["limit"] == 2
        assert page["offset"] == 2
        assert len(page["items"]) == 2
        assert page["next"] == "/api/v1/me/tokens?limit=2&offset=4"
        assert page["previous"] == "/api/v1/me/tokens?limit=2&offset=0"
        assert all("token" not in item and "digest" not in item for item in page["items"])

        last = client.get(page["next"], headers=bearer(raw)).json()
        assert len(last["items"]) == 1
        assert last["next"] is None
        names = {i["name"] for i in page["items"] + last["items"]}
        assert "someone else's" not in names

    def test_first_page_has_no_previous(self, client):
        _user, raw = user_with_token()

        page = client.get("/api/v1/me/tokens", headers=bearer(raw)).json()

        assert page["count"] == 1
        assert page["limit"] == 20
        assert page["offset"] == 0
        assert page["previous"] is None
        assert page["next"] is None

    @pytest.mark.parametrize("query", ["limit=101", "limit=0", "offset=-1"])
    def test_out_of_range_paging_is_422(self, client, query):
        _user, raw = user_with_token()

        response = client.get(f"/api/v1/me/tokens?{query}", headers=bearer(raw))

        assert_problem(response, 422, "validation_failed")

    def test_create_returns_the_secret_once(self, client):
        user, raw = user_with_token()

        response = client.post(
            "/api/v1/me/tokens",
            {"name": "ci", "expires_in_days": 30},
            content_type="application/json",
            headers=bearer(raw),
        )

        assert response.status_code == 201
        created = response.json()
        assert created["name"] == "ci"
        assert created["token"].startswith("mm_")
        assert created["expires_at"] is not None
        assert services.token_authenticate(raw=created["token"]) == user
        listing = client.get("/api/v1/me/tokens", headers=bearer(raw))
        assert created["token"] not in listing.content.decode()
        assert {t["name"] for t in listing.json()["items"]} == {"script", "ci"}

    def test_create_with_bad_input_is_422(self, client):
        user, raw = user_with_token()

        response = client.post(
            "/api/v1/me/tokens",
            {"name": "", "expires_in_days": 1000},
            content_type="application/json",
            headers=bearer(raw),
        )

        body = assert_problem(response, 422, "validation_failed")
        assert {"name", "expires_in_days"} <= {e["loc"][-1] for e in body["errors"]}
        assert ApiToken.objects.filter(user=user).count() == 1

    def test_create_with_session_and_csrf_header(self):
        user = UserFactory()
        client = Client(enforce_csrf_checks=True)
        client.force_login(user, backend=BACKEND)
        client.get("/settings/tokens/")

        response = client.post(
            "/api/v1/me/tokens",
            {"name": "from the browser"},
            content_type="application/json",
            headers={"X-CSRFToken": client.cookies["csrftoken"].value},
        )

        assert response.status_code == 201
        assert ApiToken.objects.filter(user=user, name="from the browser").exists()

    def test_revoke_own_token(self, client):
        user, raw = user_with_token()
        other, other_raw = services.token_create(user=user, name="old")

        response = client.delete(f"/api/v1/me/tokens/{other.pk}", headers=bearer(raw))

        assert response.status_code == 204
        assert services.token_authenticate(raw=other_raw) is None
        assert_problem(
            client.get("/api/v1/me", headers=bearer(other_raw)), 401, "not_authenticated"
        )

    def test_revoking_another_users_token_is_404_and_it_still_works(self, client):
        _me, raw = user_with_token()
        victim = UserFactory(email="victim@example.com")
        token, victim_raw = services.token_create(user=victim, name="victim's")

        response = client.delete(f"/api/v1/me/tokens/{token.pk}", headers=bearer(raw))

        assert_problem(response, 404, "not_found")
        token.refresh_from_db()
        assert token.revoked_at is None
        still = client.get("/api/v1/me", headers=bearer(victim_raw))
        assert still.status_code == 200
        assert still.json()["email"] == "victim@example.com"


# --- public shops and the schema ------------------------------------------------------------


class TestShops:
    def test_public_shop_needs_no_auth(self, client):
        shop = ShopFactory(
            name="Vogel Keramik",
            slug="vogel-keramik",
            owner__display_name="Lena Vogel",
            owner__email="lena@example.com",
        )

        response = client.get(f"/api/v1/shops/{shop.slug}")

        assert response.status_code == 200
        data = response.json()
        assert data["name"] == "Vogel Keramik"
        assert data["slug"] == "vogel-keramik"
        assert data["seller"]["display_name"] == "Lena Vogel"
        assert "lena@example.com" not in response.content.decode()

    def test_unknown_slug_is_404_problem(self, client):
        response = client.get("/api/v1/shops/no-such-shop")

        body = assert_problem(response, 404, "not_found")
        assert body["instance"] == "/api/v1/shops/no-such-shop"

    def test_deactivated_shop_is_404(self, client):
        shop = ShopFactory(is_active=False)

        assert_problem(client.get(f"/api/v1/shops/{shop.slug}"), 404, "not_found")


def test_openapi_schema_lists_the_paths(client):
    response = client.get("/api/v1/openapi.json")

    assert response.status_code == 200
    schema = response.json()
    assert {
        "/api/v1/me",
        "/api/v1/me/tokens",
        "/api/v1/me/tokens/{token_id}",
        "/api/v1/shops/{slug}",
    } <= set(schema["paths"])
    assert set(schema["paths"]["/api/v1/me"]) >= {"get", "patch"}
    assert "get" in schema["paths"]["/api/v1/shops/{slug}"]
