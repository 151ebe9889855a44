from django.db import models


class Shelf(models.Model):
    name = models.CharField(max_length=100, unique=True)


class Item(models.Model):
    name = models.CharField(max_length=200, db_index=True)
    count = models.IntegerField(default=0)
    shelf = models.ForeignKey(Shelf, null=True, blank=True, on_delete=models.SET_NULL)
    best_before = models.DateField(null=True, blank=True)
