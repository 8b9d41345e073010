from django.db import migrations


def seed(apps, schema_editor):
    from micromarket.catalog.taxonomy import TAXONOMY

    Category = apps.get_model("catalog", "Category")
    for top_position, (name, slug, children) in enumerate(TAXONOMY):
        parent, _ = Category.objects.update_or_create(
            slug=slug, defaults={"name": name, "position": top_position, "parent": None}
        )
        for position, (child_name, child_slug) in enumerate(children):
            Category.objects.update_or_create(
                slug=child_slug,
                defaults={"name": child_name, "position": position, "parent": parent},
            )


class Migration(migrations.Migration):
    dependencies = [("catalog", "0001_initial")]

    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
