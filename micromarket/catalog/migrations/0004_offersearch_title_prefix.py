"""Suggestions: an index for "titles that start with what the buyer typed".

A range scan on the normalised title key, in byte order on both engines (PostgreSQL: the "C"
collation, whatever the database's locale), so its cost does not grow with the catalog.
"""

from django.db import migrations

FORWARD = {
    "sqlite": "CREATE INDEX catalog_os_title_prefix ON catalog_offersearch (title_key)",
    "postgresql": (
        'CREATE INDEX catalog_os_title_prefix ON catalog_offersearch ((title_key COLLATE "C"))'
    ),
}


def forward(apps, schema_editor):
    statement = FORWARD.get(schema_editor.connection.vendor)
    if statement:
        schema_editor.execute(statement)


def backward(apps, schema_editor):
    if schema_editor.connection.vendor in FORWARD:
        schema_editor.execute("DROP INDEX IF EXISTS catalog_os_title_prefix")


class Migration(migrations.Migration):
    dependencies = [("catalog", "0003_offersearch")]

    operations = [migrations.RunPython(forward, backward)]
