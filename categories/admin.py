from django.contrib import admin, messages

from categories import selectors, services
from categories.models import Category, Specialty
from imatch import formatting
from imatch.admin import counted


class SpecialtyInline(admin.TabularInline):
    model = Specialty
    extra = 1
    prepopulated_fields = {"slug": ("name",)}


@admin.register(Category)
class CategoryAdmin(admin.ModelAdmin):
    list_display = [
        "display_name",
        "name",
        "active",
        "launched_at",
        "commission",
        "requires_license",
        "pricing_unit",
        "matches_per_request",
    ]
    list_filter = ["active", "requires_license", "pricing_unit"]
    search_fields = ["name", "display_name"]
    readonly_fields = ["active", "launched_at", "created_at"]
    inlines = [SpecialtyInline]
    actions = ["launch", "deactivate"]

    def save_related(self, request, form, formsets, change):
        super().save_related(request, form, formsets, change)
        selectors.catalog_forget()  # a name, rate or specialty the public pages show

    @admin.display(description="commission", ordering="commission_rate")
    def commission(self, category: Category) -> str:
        return formatting.percent(category.commission_rate)

    @admin.action(description="Launch selected categories (make them public)")
    def launch(self, request, queryset):
        for category in queryset:
            services.category_launch(category=category)
        self.message_user(request, f"Launched {counted(queryset.count(), 'category', 'categories')}.", messages.SUCCESS)

    @admin.action(description="Deactivate selected categories (hide them)")
    def deactivate(self, request, queryset):
        for category in queryset:
            services.category_deactivate(category=category)
        self.message_user(
            request, f"Deactivated {counted(queryset.count(), 'category', 'categories')}.", messages.SUCCESS
        )
