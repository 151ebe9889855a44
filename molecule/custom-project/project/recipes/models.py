from django.db import models


class Recipe(models.Model):
    title = models.CharField(max_length=200)
    slug = models.SlugField(max_length=200, blank=True, default="")
    instructions = models.TextField(blank=True)


class Ingredient(models.Model):
    recipe = models.ForeignKey(Recipe, related_name="ingredients", on_delete=models.CASCADE)
    item = models.ForeignKey("pantry.Item", on_delete=models.PROTECT)
    amount = models.CharField(max_length=50, blank=True)
