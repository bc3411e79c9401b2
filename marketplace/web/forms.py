"""Web forms: they check types and sizes; the services decide the rules."""

from zoneinfo import available_timezones

from django import forms
from django.contrib.auth.forms import AuthenticationForm

from categories.matching_weights import MAX_RADIUS_KM, MIN_RADIUS_KM
from categories.models import Category
from imatch.web import MarkInvalidMixin
from marketplace.models import Provider, Seeker
from marketplace.services.profiles import PROVIDER_EDITABLE, SEEKER_EDITABLE
from marketplace.us_states import STATE_CODES

US_STATES = [("", "—"), *[(code, code) for code in STATE_CODES]]
MONEY = {"max_digits": 12, "decimal_places": 2, "min_value": 0, "required": False}


class EmailAuthenticationForm(MarkInvalidMixin, AuthenticationForm):
    username = forms.EmailField(label="Email", max_length=254, widget=forms.EmailInput(attrs={"autofocus": True}))


class SignupForm(MarkInvalidMixin, forms.Form):
    email = forms.EmailField(max_length=254, widget=forms.EmailInput(attrs={"autocomplete": "email"}))
    name = forms.CharField(max_length=150, widget=forms.TextInput(attrs={"autocomplete": "name"}))
    password = forms.CharField(
        max_length=128, widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}), strip=False
    )
    referral_code = forms.CharField(max_length=16, required=False, label="Referral code (optional)")
    # Filled by static/js/time-zone.js from the browser; the service falls back to UTC.
    time_zone = forms.CharField(max_length=64, required=False, widget=forms.HiddenInput(attrs={"data-time-zone": ""}))


class AccountForm(SignupForm):
    """The sign-up fields inside a first profile's form, for a person who is not logged in yet."""

    field_order = ["name", "email", "password", "referral_code", "time_zone"]


class TimeZoneForm(MarkInvalidMixin, forms.Form):
    time_zone = forms.ChoiceField(label="Your time zone", help_text="Dates and times are shown in it.")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["time_zone"].choices = [(name, name.replace("_", " ")) for name in sorted(available_timezones())]


class LeaderboardOptInForm(MarkInvalidMixin, forms.Form):
    """How the person appears on leaderboards: by name, or as "Anonymous" (still ranked)."""

    SHOWN, ANONYMOUS = "shown", "anonymous"
    leaderboard_name = forms.ChoiceField(
        label="On leaderboards, show me",
        choices=[(SHOWN, "By my name"), (ANONYMOUS, "As “Anonymous”")],
        widget=forms.RadioSelect,
    )

    @classmethod
    def for_user(cls, user) -> "LeaderboardOptInForm":
        return cls(initial={"leaderboard_name": cls.SHOWN if user.leaderboard_name_shown else cls.ANONYMOUS})

    @property
    def opt_in(self) -> bool:
        return self.cleaned_data["leaderboard_name"] == self.SHOWN


class PhotoForm(MarkInvalidMixin, forms.Form):
    """A profile photo upload: the service checks the type and size and re-encodes it."""

    photo = forms.FileField(
        label="Profile photo",
        help_text="JPEG, PNG or WebP, up to 5 MB. We resize it and remove its metadata.",
        widget=forms.ClearableFileInput(attrs={"accept": "image/jpeg,image/png,image/webp"}),
    )


class SearchForm(forms.Form):
    """The home page's search box: what you need, and where (a city, or "remote")."""

    need = forms.CharField(label="What do you need?", max_length=200)
    where = forms.CharField(label="City or “remote”", max_length=100, required=False)


class ProfileForm(MarkInvalidMixin, forms.Form):
    """Fields both roles share; the category's specialties are the choices."""

    specialties = forms.MultipleChoiceField(required=False, widget=forms.CheckboxSelectMultiple)
    city = forms.CharField(max_length=100, required=False)
    state = forms.ChoiceField(choices=US_STATES, required=False)

    PRICED = ()  # money fields whose label says the category's pricing unit

    def __init__(self, *args, category: Category, **kwargs):
        super().__init__(*args, **kwargs)
        self.category = category
        self.fields["specialties"].choices = [(s.slug, s.name) for s in category.specialties.all()]
        for name in self.PRICED:
            self.fields[name].label = f"{self.fields[name].label} {category.get_pricing_unit_display()}"

    @classmethod
    def initial_from(cls, profile: Seeker | Provider, fields: list[str]) -> dict:
        initial = {field: getattr(profile, field) for field in fields}
        initial["specialties"] = [s.slug for s in profile.specialties.all()]
        return initial


class SeekerForm(ProfileForm):
    FIELDS = sorted(SEEKER_EDITABLE)
    PRICED = ("budget_min", "budget_max")

    needs_description = forms.CharField(
        label="What do you need?", max_length=5000, required=False, widget=forms.Textarea(attrs={"rows": 4})
    )
    budget_min = forms.DecimalField(label="Budget from (USD)", **MONEY)
    budget_max = forms.DecimalField(label="Budget up to (USD)", **MONEY)
    radius_km = forms.IntegerField(
        label="Within how many km?",
        min_value=MIN_RADIUS_KM,
        max_value=MAX_RADIUS_KM,
        required=False,
        help_text="Providers within this distance fit best. Empty: the category's usual distance.",
    )
    remote_ok = forms.BooleanField(label="A remote provider is fine", required=False, initial=True)

    field_order = [
        "specialties",
        "needs_description",
        "budget_min",
        "budget_max",
        "city",
        "state",
        "radius_km",
        "remote_ok",
    ]


class ProviderForm(ProfileForm):
    FIELDS = sorted(PROVIDER_EDITABLE)
    PRICED = ("pricing_min", "pricing_max")

    business_name = forms.CharField(max_length=200)
    bio = forms.CharField(max_length=5000, required=False, widget=forms.Textarea(attrs={"rows": 5}))
    years_experience = forms.IntegerField(label="Years of experience", min_value=0, max_value=80, required=False)
    certifications = forms.CharField(max_length=1000, required=False, help_text="e.g. CFP, CFA")
    license_number = forms.CharField(max_length=64, required=False)
    pricing_min = forms.DecimalField(label="Price from (USD)", **MONEY)
    pricing_max = forms.DecimalField(label="Price up to (USD)", **MONEY)
    remote = forms.BooleanField(label="I work with clients remotely", required=False)
    accepting_clients = forms.BooleanField(label="Accepting new clients", required=False, initial=True)
    max_active_clients = forms.IntegerField(label="Maximum active clients", min_value=1, max_value=10000, initial=10)

    field_order = ["business_name", "specialties", "bio", "years_experience", "certifications", "license_number"]


class DirectoryFilterForm(forms.Form):
    """The category page's filters (same names as the API's directory filters), keywords and order."""

    q = forms.CharField(label="Keywords", max_length=100, required=False)
    sort = forms.ChoiceField(
        label="Sort by",
        required=False,
        choices=[("best", "Best match"), ("rating", "Rating"), ("price", "Price, lowest first")],
    )
    specialty = forms.ChoiceField(required=False)
    state = forms.ChoiceField(choices=US_STATES, required=False)
    city = forms.CharField(max_length=100, required=False)
    remote = forms.NullBooleanField(
        required=False, widget=forms.Select(choices=[("", "Any"), ("true", "Remote only"), ("false", "In person")])
    )
    max_price = forms.DecimalField(label="Max price (USD)", **MONEY)

    def __init__(self, *args, category: Category, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["specialty"].choices = [("", "Any"), *[(s.slug, s.name) for s in category.specialties.all()]]


# --- The core loop: decline, report an engagement, cancel it, rate -------------------


class DeclineForm(MarkInvalidMixin, forms.Form):
    reason = forms.CharField(
        label="Reason (optional, shared with the other side)",
        max_length=1000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
    )


class EngagementReportForm(MarkInvalidMixin, forms.Form):
    deal_value_usd = forms.DecimalField(
        label="Deal value (USD)",
        max_digits=12,
        decimal_places=2,
        min_value=0.01,
        help_text="What the seeker pays the provider for this engagement. The other side confirms it.",
    )


class EngagementCancelForm(MarkInvalidMixin, forms.Form):
    reason = forms.CharField(label="Why is it cancelled?", max_length=1000, widget=forms.Textarea(attrs={"rows": 3}))

    def __init__(self, *args, answering: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        if answering:  # agreeing to the other side's request: their reason stands
            self.fields["reason"].required = False
            self.fields["reason"].label = "Anything to add? (optional)"


class EngagementDisputeForm(MarkInvalidMixin, forms.Form):
    reason = forms.CharField(
        label="Why should the engagement stand?", max_length=1000, widget=forms.Textarea(attrs={"rows": 3})
    )


class RatingForm(MarkInvalidMixin, forms.Form):
    stars = forms.TypedChoiceField(
        label="Stars",
        coerce=int,
        choices=[(5, "★★★★★ Excellent"), (4, "★★★★ Good"), (3, "★★★ OK"), (2, "★★ Poor"), (1, "★ Bad")],
        widget=forms.RadioSelect,
    )
    review = forms.CharField(
        label="Review (optional)", max_length=5000, required=False, widget=forms.Textarea(attrs={"rows": 4})
    )
