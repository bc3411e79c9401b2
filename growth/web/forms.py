"""The leaderboards page's pickers: a launched category and a month (the selectors decide what is valid)."""

from datetime import datetime

from django import forms

from growth import leaderboards
from growth.ranking import Month
from imatch.errors import DomainError
from imatch.web import MarkInvalidMixin

MONTHS_OFFERED = 12  # the month picker lists this many, the current first (the URL takes any earlier one)


class LeaderboardPickForm(MarkInvalidMixin, forms.Form):
    category = forms.CharField(label="Category", required=False, widget=forms.Select)
    month = forms.CharField(label="Month", required=False, widget=forms.Select)

    def __init__(self, data, *, categories: list, now: datetime):
        super().__init__(data)
        self.now = now
        self.default_category = categories[0] if categories else None
        self.fields["category"].widget.choices = [(category.name, category.display_name) for category in categories]
        months = Month.of(now).recent(MONTHS_OFFERED)
        chosen = Month.parse(data.get("month", ""))
        if chosen is not None and chosen not in months and chosen < months[0]:
            months.append(chosen)  # an older month from a link: keep it chosen
        self.fields["month"].widget.choices = [(month.key, month.label) for month in months]

    def clean_category(self):
        name = self.cleaned_data["category"]
        if not name:
            return self.default_category
        try:
            return leaderboards.leaderboard_category(name=name)
        except DomainError as error:
            raise forms.ValidationError(error.message, code=error.code) from error

    def clean_month(self):
        try:
            return leaderboards.leaderboard_month(text=self.cleaned_data["month"], now=self.now)
        except DomainError as error:
            raise forms.ValidationError(error.message, code=error.code) from error
