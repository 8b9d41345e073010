"""Settings that protect people: checked here because the test profile relaxes a few of them."""

import importlib


def test_argon2_is_the_first_password_hasher_outside_tests():
    base = importlib.import_module("micromarket.settings.base")
    assert base.PASSWORD_HASHERS[0] == "django.contrib.auth.hashers.Argon2PasswordHasher"


def test_sqlite_default_uses_wal_and_immediate_transactions():
    base = importlib.import_module("micromarket.settings.base")
    db = base.DATABASES["default"]
    if db["ENGINE"].endswith("sqlite3"):
        assert db["OPTIONS"]["transaction_mode"] == "IMMEDIATE"
        assert "journal_mode=WAL" in db["OPTIONS"]["init_command"]


def test_login_is_throttled_by_email_and_address():
    base = importlib.import_module("micromarket.settings.base")
    assert base.AUTHENTICATION_BACKENDS[0] == "axes.backends.AxesStandaloneBackend"
    assert base.AXES_FAILURE_LIMIT == 5
    assert base.AXES_LOCKOUT_PARAMETERS == [["username", "ip_address"]]
