"""Operators review articles: read the rendered preview, publish (pays the author) or reject with a reason.

Nothing here edits an article: authors write on their pages, and each action calls a service.
"""

from django import forms
from django.contrib import admin, messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.html import format_html
from django.utils.safestring import mark_safe

from imatch.admin import ReadOnlyAdmin, counted
from imatch.errors import DomainError
from library import services
from library.models import Article, ArticleStatus, ArticleUnlock


class ReasonForm(forms.Form):
    """The reason an operator gives when rejecting articles (shown to the author)."""

    text = forms.CharField(max_length=1000, widget=forms.Textarea(attrs={"rows": 3, "cols": 60}))


@admin.register(Article)
class ArticleAdmin(ReadOnlyAdmin):
    list_display = ["id", "title", "author", "category", "status", "premium", "price_pot", "view_count",
                    "submitted_at", "published_at"]  # fmt: skip
    list_filter = ["status", "category", "premium"]
    search_fields = ["title", "author__business_name", "author__user__email"]
    list_select_related = ["author", "category"]
    actions = ["publish", "reject"]
    fields = ["title", "author", "category", "status", "rejection_reason", "premium", "price_pot", "summary",
              "preview", "view_count", "submitted_at", "published_at", "reviewed_by",
              "created_at", "updated_at"]  # fmt: skip
    readonly_fields = fields

    @admin.display(description="Preview (as readers see it)")
    def preview(self, article: Article) -> str:
        # body_html was sanitized when it was saved (library.rendering): safe to show as is.
        return format_html('<div class="content-preview">{}</div>', mark_safe(article.body_html))  # noqa: S308

    def has_review_permission(self, request: HttpRequest) -> bool:
        return request.user.is_staff and request.user.has_perm("library.change_article")

    def _report(self, request: HttpRequest, done: int, verb: str) -> None:
        if done:
            self.message_user(request, f"{verb.capitalize()} {counted(done, 'article')}.", messages.SUCCESS)

    @admin.action(description="Publish selected articles (pays each author once)", permissions=["review"])
    def publish(self, request: HttpRequest, queryset) -> None:
        done = 0
        for article in queryset.order_by("id"):
            if article.status == ArticleStatus.PUBLISHED:
                continue
            try:
                services.article_publish(article_id=article.pk, operator=request.user)
                done += 1
            except DomainError as error:
                self.message_user(request, f"Article #{article.pk}: {error.message}", messages.WARNING)
        self._report(request, done, "published")

    @admin.action(description="Reject selected articles (with a reason for the author)", permissions=["review"])
    def reject(self, request: HttpRequest, queryset) -> HttpResponse | None:
        form = ReasonForm(request.POST if "apply" in request.POST else None)
        if form.is_bound and form.is_valid():
            done = 0
            for article in queryset.order_by("id"):
                try:
                    services.article_reject(
                        article_id=article.pk, operator=request.user, reason=form.cleaned_data["text"]
                    )
                    done += 1
                except DomainError as error:
                    self.message_user(request, f"Article #{article.pk}: {error.message}", messages.WARNING)
            self._report(request, done, "rejected")
            return None
        return render(
            request,
            "admin/library/article/reject.html",
            {
                **self.admin_site.each_context(request),
                "title": "Reject articles",
                "opts": self.model._meta,
                "articles": queryset.select_related("author"),
                "form": form,
                "action": request.POST.get("action"),
                "action_checkbox_name": admin.helpers.ACTION_CHECKBOX_NAME,
            },
        )


@admin.register(ArticleUnlock)
class ArticleUnlockAdmin(ReadOnlyAdmin):
    list_display = ["id", "article", "reader", "price_pot", "author_share_pot", "created_at"]
    list_select_related = ["article", "reader"]
    search_fields = ["reader__email", "article__title"]
