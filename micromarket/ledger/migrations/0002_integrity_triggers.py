"""Database-level guards of the ledger's rules (the services check the same in code).

PostgreSQL:
* a DEFERRABLE INITIALLY DEFERRED constraint trigger checks at commit that every transaction
  touched sums to zero per currency;
* postings and transactions cannot be updated or deleted (TRUNCATE, used by test flushes,
  stays possible for the table owner).
Both engines:
* a posting's currency must be its account's currency;
* postings cannot be updated.
SQLite cannot defer a trigger to commit, so there the zero-sum rule is enforced in code only;
and DELETE stays possible there because Django's test flush deletes rows.
"""

from django.db import migrations

PG_FORWARD = [
    """
    CREATE FUNCTION ledger_transaction_balanced() RETURNS trigger LANGUAGE plpgsql AS $$
    DECLARE
        bad record;
    BEGIN
        SELECT currency, sum(amount) AS total INTO bad
        FROM ledger_posting WHERE transaction_id = NEW.transaction_id
        GROUP BY currency HAVING sum(amount) <> 0 LIMIT 1;
        IF FOUND THEN
            RAISE EXCEPTION 'ledger transaction % does not balance: % %',
                NEW.transaction_id, bad.total, bad.currency
                USING ERRCODE = 'integrity_constraint_violation';
        END IF;
        RETURN NULL;
    END $$;
    """,
    """
    CREATE CONSTRAINT TRIGGER ledger_posting_balanced
    AFTER INSERT ON ledger_posting DEFERRABLE INITIALLY DEFERRED
    FOR EACH ROW EXECUTE FUNCTION ledger_transaction_balanced();
    """,
    """
    CREATE FUNCTION ledger_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        RAISE EXCEPTION 'the ledger is append-only: % on % refused (post a reversal)',
            TG_OP, TG_TABLE_NAME USING ERRCODE = 'integrity_constraint_violation';
    END $$;
    """,
    """
    CREATE TRIGGER ledger_posting_append_only BEFORE UPDATE OR DELETE ON ledger_posting
    FOR EACH ROW EXECUTE FUNCTION ledger_append_only();
    """,
    """
    CREATE TRIGGER ledger_transaction_append_only BEFORE UPDATE OR DELETE ON ledger_transaction
    FOR EACH ROW EXECUTE FUNCTION ledger_append_only();
    """,
    """
    CREATE FUNCTION ledger_posting_currency() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        IF NEW.currency <> (SELECT currency FROM ledger_account WHERE id = NEW.account_id) THEN
            RAISE EXCEPTION 'posting currency % differs from its account''s', NEW.currency
                USING ERRCODE = 'integrity_constraint_violation';
        END IF;
        RETURN NEW;
    END $$;
    """,
    """
    CREATE TRIGGER ledger_posting_currency BEFORE INSERT ON ledger_posting
    FOR EACH ROW EXECUTE FUNCTION ledger_posting_currency();
    """,
]
PG_BACKWARD = [
    "DROP TRIGGER IF EXISTS ledger_posting_currency ON ledger_posting",
    "DROP FUNCTION IF EXISTS ledger_posting_currency()",
    "DROP TRIGGER IF EXISTS ledger_transaction_append_only ON ledger_transaction",
    "DROP TRIGGER IF EXISTS ledger_posting_append_only ON ledger_posting",
    "DROP FUNCTION IF EXISTS ledger_append_only()",
    "DROP TRIGGER IF EXISTS ledger_posting_balanced ON ledger_posting",
    "DROP FUNCTION IF EXISTS ledger_transaction_balanced()",
]
SQLITE_FORWARD = [
    """
    CREATE TRIGGER ledger_posting_currency BEFORE INSERT ON ledger_posting
    WHEN NEW.currency <> (SELECT currency FROM ledger_account WHERE id = NEW.account_id)
    BEGIN SELECT RAISE(ABORT, 'posting currency differs from its account''s'); END
    """,
    """
    CREATE TRIGGER ledger_posting_append_only BEFORE UPDATE ON ledger_posting
    BEGIN SELECT RAISE(ABORT, 'the ledger is append-only: post a reversal'); END
    """,
    """
    CREATE TRIGGER ledger_transaction_append_only BEFORE UPDATE ON ledger_transaction
    BEGIN SELECT RAISE(ABORT, 'the ledger is append-only: post a reversal'); END
    """,
]
SQLITE_BACKWARD = [
    "DROP TRIGGER IF EXISTS ledger_posting_currency",
    "DROP TRIGGER IF EXISTS ledger_posting_append_only",
    "DROP TRIGGER IF EXISTS ledger_transaction_append_only",
]


def _run(statements_by_vendor):
    def run(apps, schema_editor):
        for sql in statements_by_vendor.get(schema_editor.connection.vendor, []):
            schema_editor.execute(sql, params=None)  # no %-placeholders: RAISE uses %

    return run


class Migration(migrations.Migration):
    dependencies = [("ledger", "0001_initial")]

    operations = [
        migrations.RunPython(
            _run({"postgresql": PG_FORWARD, "sqlite": SQLITE_FORWARD}),
            _run({"postgresql": PG_BACKWARD, "sqlite": SQLITE_BACKWARD}),
        )
    ]
