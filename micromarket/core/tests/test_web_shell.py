"""The web shell: security headers, error pages, health probes, CSRF for htmx."""

import re

import pytest
from django.db import connections
from django.urls import path

from micromarket.urls import urlpatterns as real_urlpatterns


def _boom(request):
    raise RuntimeError("kaboom")


urlpatterns = [*real_urlpatterns, path("boom/", _boom)]


@pytest.mark.django_db
def test_pages_carry_a_strict_content_security_policy(client):
    response = client.get("/")
    csp = response.headers["Content-Security-Policy"]
    assert "default-src 'self'" in csp
    assert "script-src 'self'" in csp
    assert "unsafe-inline" not in csp
    assert "frame-ancestors 'none'" in csp
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["X-Content-Type-Options"] == "nosniff"


@pytest.mark.django_db
def test_htmx_is_served_locally_and_sends_the_csrf_token(client):
    page = client.get("/").text
    assert '<script src="/static/js/htmx.min.js"' in page
    # No script from another host (a display name such as "McDonald" may contain "cdn").
    assert not re.search(r'<script[^>]+src="(https?:)?//', page)
    assert 'hx-headers=\'{"X-CSRFToken": "' in page


@pytest.mark.django_db
def test_unknown_page_shows_the_404_page(client):
    response = client.get("/no/such/page/")
    assert response.status_code == 404
    assert "Page not found" in response.text
    assert "Go to the home page" in response.text


@pytest.mark.django_db
@pytest.mark.urls(__name__)
def test_a_crash_shows_the_500_page_without_details(client):
    client.raise_request_exception = False
    response = client.get("/boom/")
    assert response.status_code == 500
    assert "Something went wrong on our side" in response.text
    assert "kaboom" not in response.text


@pytest.mark.django_db
def test_expired_form_token_shows_a_friendly_403(client):
    from django.test import Client

    strict = Client(enforce_csrf_checks=True)
    response = strict.post("/accounts/login/", {"username": "a@b.test", "password": "x"})
    assert response.status_code == 403
    assert "Form expired" in response.text


def test_healthz_answers_without_the_database(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


@pytest.mark.django_db
def test_readyz_checks_the_database(client):
    response = client.get("/readyz")
    assert response.status_code == 200
    assert response.json()["databases"] == {"default": "ok"}


@pytest.mark.django_db
def test_readyz_reports_503_when_the_database_fails(client, monkeypatch):
    def broken_cursor(*args, **kwargs):
        raise connections["default"].Database.OperationalError("connection refused")

    monkeypatch.setattr(connections["default"], "cursor", broken_cursor)
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.json()["status"] == "unavailable"


@pytest.mark.django_db
def test_unknown_api_path_answers_problem_json(client):
    response = client.get("/api/v1/no-such-thing")
    assert response.status_code == 404
    assert response.headers["Content-Type"] == "application/problem+json"
    assert response.json()["code"] == "not_found"


@pytest.mark.django_db
def test_api_docs_and_schema_are_served(client):
    schema = client.get("/api/v1/openapi.json")
    assert schema.status_code == 200
    assert "/api/v1/me" in schema.json()["paths"]
    docs = client.get("/api/v1/docs")
    assert docs.status_code == 200
    assert "swagger-ui-bundle.js" in docs.text
    assert "cdn" not in docs.text.lower()
