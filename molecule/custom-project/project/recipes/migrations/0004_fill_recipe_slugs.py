from django.db import migrations
from django.utils.text import slugify


def fill_slugs(apps, schema_editor):
    Recipe = apps.get_model("recipes", "Recipe")
    for recipe in Recipe.objects.filter(slug=""):
        recipe.slug = slugify(recipe.title)[:200]
        recipe.save(update_fields=["slug"])


class Migration(migrations.Migration):
    dependencies = [("recipes", "0003_recipe_slug")]

    operations = [migrations.RunPython(fill_slugs, migrations.RunPython.noop)]
