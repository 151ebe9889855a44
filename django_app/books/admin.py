from django.contrib import admin
from django.db.models import Count

from books.models import Author, Book


@admin.register(Author)
class AuthorAdmin(admin.ModelAdmin):
    list_display = ["last_name", "first_name", "book_count"]
    search_fields = ["last_name", "first_name"]

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(book_count=Count("books"))

    @admin.display(description="Books", ordering="book_count")
    def book_count(self, author):
        return author.book_count


@admin.register(Book)
class BookAdmin(admin.ModelAdmin):
    list_display = ["title", "author_names"]
    search_fields = ["title", "authors__last_name", "authors__first_name"]
    filter_horizontal = ["authors"]

    def get_queryset(self, request):
        # One query for all authors of the page instead of one per book.
        return super().get_queryset(request).prefetch_related("authors")

    @admin.display(description="Authors")
    def author_names(self, book):
        return ", ".join(str(author) for author in book.authors.all())
