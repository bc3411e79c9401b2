from django import forms
from django.conf import settings

from imatch.web import MarkInvalidMixin
from library.models import Article


class LibrarySearchForm(forms.Form):
    q = forms.CharField(label="Words", required=False, max_length=100)
    category = forms.ChoiceField(label="Category", required=False)

    def __init__(self, *args, categories=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["category"].choices = [("", "Every category")] + [(c.name, c.display_name) for c in categories]


class ArticleForm(MarkInvalidMixin, forms.Form):
    """An author's draft; the service checks the rules again (and the price bounds)."""

    provider = forms.TypedChoiceField(label="Category (your provider profile)", coerce=int)
    title = forms.CharField(max_length=Article.TITLE_MAX)
    summary = forms.CharField(
        max_length=Article.SUMMARY_MAX,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="Plain text. Everyone sees it, also before unlocking a premium article.",
    )
    body = forms.CharField(
        max_length=Article.BODY_MAX,
        widget=forms.Textarea(attrs={"rows": 14}),
        help_text="Markdown: ## headings, **bold**, _italic_, - lists, [links](https://…). No HTML or images.",
    )
    premium = forms.BooleanField(label="Premium: readers unlock it with POT", required=False)
    price_pot = forms.IntegerField(
        label="Price in POT",
        required=False,
        help_text=f"For a premium article: {settings.CONTENT_PRICE_MIN_POT} to {settings.CONTENT_PRICE_MAX_POT} "
        f"POT. You receive {settings.CONTENT_AUTHOR_SHARE_PERCENT}% of each unlock.",
    )

    def __init__(self, *args, providers=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["provider"].choices = [(p.pk, f"{p.category.display_name} — {p.business_name}") for p in providers]
        if len(self.fields["provider"].choices) == 1:
            self.fields["provider"].widget = forms.HiddenInput()
            self.fields["provider"].initial = self.fields["provider"].choices[0][0]
