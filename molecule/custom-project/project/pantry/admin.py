from django.contrib import admin

from pantry.models import Item, Shelf

admin.site.register(Shelf)
admin.site.register(Item)
