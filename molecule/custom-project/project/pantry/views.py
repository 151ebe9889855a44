from django.shortcuts import render

from pantry.models import Item
from recipes.models import Recipe
from shopping.models import ShoppingList


def home(request):
    context = {
        "item_count": Item.objects.count(),
        "recipe_count": Recipe.objects.count(),
        "list_count": ShoppingList.objects.count(),
    }
    return render(request, "pantry/home.html", context)
