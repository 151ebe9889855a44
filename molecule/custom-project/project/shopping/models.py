from django.db import models


from django.conf import settings  # noqa: E402


class ShoppingList(models.Model):
    created = models.DateTimeField(auto_now_add=True)
    done = models.BooleanField(default=False)
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)


class Entry(models.Model):
    shopping_list = models.ForeignKey(ShoppingList, related_name="entries", on_delete=models.CASCADE)
    item = models.ForeignKey("pantry.Item", on_delete=models.CASCADE)
    wanted = models.IntegerField(default=1)
