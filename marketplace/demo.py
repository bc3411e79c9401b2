"""A living demo marketplace, built only through the services (`manage.py seed_demo`).

Fictional people (Faker, seeded: the same `seed` gives the same people, profiles and
choices) sign up, some with a friend's referral code, create profiles in the four launched
categories, get their licenses verified by a demo operator, are matched, introduced,
accepted or declined; engagements are reported, confirmed, some cancelled, completed,
invoiced and paid; both sides rate; people spend POT on boosts and extra matches and a few
ask to redeem. Every write goes through the same service a page, the API or the admin
calls, so the ledger, the match slots and the account types stay exactly as real use
would leave them. (Referral codes and timestamps are not seeded: they come from the
services.)
"""

import random
from dataclasses import dataclass
from decimal import Decimal

from django.db import transaction
from faker import Faker

from categories.models import Category
from categories.services import category_launch
from currency import services as pot
from currency.models import Wallet
from imatch.errors import DomainError
from marketplace.models import Engagement, Match, MatchStatus, Provider, Seeker, User
from marketplace.services import engagements, matches, profiles, ratings, verification

DEMO_DOMAIN = "demo.imatch.test"  # .test is reserved (RFC 2606): no mail can ever reach these
OPERATOR_EMAIL = f"operator@{DEMO_DOMAIN}"

CITIES = (
    ("New York", "NY"),
    ("Brooklyn", "NY"),
    ("Los Angeles", "CA"),
    ("San Francisco", "CA"),
    ("San Diego", "CA"),
    ("Chicago", "IL"),
    ("Houston", "TX"),
    ("Austin", "TX"),
    ("Dallas", "TX"),
    ("Phoenix", "AZ"),
    ("Philadelphia", "PA"),
    ("Seattle", "WA"),
    ("Denver", "CO"),
    ("Boston", "MA"),
    ("Atlanta", "GA"),
    ("Miami", "FL"),
    ("Orlando", "FL"),
    ("Minneapolis", "MN"),
    ("Portland", "OR"),
    ("Nashville", "TN"),
    ("Charlotte", "NC"),
    ("Columbus", "OH"),
)


@dataclass(frozen=True)
class CategoryPlan:
    """How the demo's people behave in one category."""

    share: int  # relative number of people
    price: tuple[int, int]  # lowest and highest price per pricing unit, USD
    units: tuple[int, int]  # pricing units in a deal (hours, sessions, months)
    firm_words: tuple[str, ...]
    credentials: tuple[str, ...]
    needs: dict[str, str]  # specialty slug -> what a seeker writes


PLANS = {
    "financial_advisors": CategoryPlan(
        share=35,
        price=(120, 400),
        units=(4, 20),
        firm_words=("Wealth Partners", "Financial Planning", "Advisory", "Capital Planning"),
        credentials=("CFP", "CFA", "ChFC", "CPA/PFS", "Series 65"),
        needs={
            "retirement-planning": "I want to retire in ten years and need a plan for income and Social Security.",
            "investment-management": "My 401(k) and IRA are scattered; I need help with allocation and fees.",
            "tax-planning": "I sold a rental property and want to understand the tax impact.",
            "estate-planning": "We have two kids and no will or trust yet.",
            "debt-management": "Student loans and a car loan: which to pay first while still saving?",
            "college-savings": "We want to start a 529 plan for our daughter.",
            "insurance-planning": "How much life and disability insurance do we actually need?",
            "small-business-finance": "I run a small bakery and need help with cash flow and a SEP IRA.",
            "budgeting": "We earn well but never seem to save; I want a realistic budget.",
            "socially-responsible-investing": "I'd like my savings invested in line with my values (ESG).",
        },
    ),
    "career_coaches": CategoryPlan(
        share=25,
        price=(80, 250),
        units=(3, 10),
        firm_words=("Career Coaching", "Career Studio", "Leadership Coaching", "Talent Advisors"),
        credentials=("ICF PCC", "ICF ACC", "CPCC", "SHRM-CP", "Gallup Strengths Coach"),
        needs={
            "career-change": "After twelve years in retail management I want to move into UX or product.",
            "job-search": "I've been applying for months with few callbacks; I need a better strategy.",
            "resume-review": "My resume needs a rewrite for senior engineering roles.",
            "interview-preparation": "I have final-round interviews coming up and freeze under pressure.",
            "salary-negotiation": "I got an offer and want to negotiate salary and equity.",
            "leadership-development": "I was just promoted to manage my former peers.",
            "executive-coaching": "New VP role: I want a coach for my first 100 days.",
            "returning-to-work": "I'm returning to work after five years raising my kids.",
            "tech-careers": "I want to break into data analytics from a teaching background.",
        },
    ),
    "therapists": CategoryPlan(
        share=20,
        price=(90, 220),
        units=(6, 20),
        firm_words=("Counseling", "Therapy Practice", "Wellness Center", "Psychotherapy"),
        credentials=("LCSW", "LMFT", "LPC", "PsyD", "PhD, Licensed Psychologist"),
        needs={
            "anxiety": "Work stress has turned into constant anxiety and poor sleep.",
            "depression": "I've felt low and unmotivated for months and want to talk to someone.",
            "couples-therapy": "My partner and I keep having the same arguments; we want help communicating.",
            "family-therapy": "Our teenager and we are struggling to get along.",
            "trauma-ptsd": "I'm looking for trauma-informed therapy after a car accident.",
            "grief": "I lost my father this year and am finding it hard to cope.",
            "addiction": "I want support cutting back on drinking.",
            "cbt": "I'd like structured CBT for negative thinking patterns.",
            "stress-management": "Burnout from caregiving; I need tools to manage stress.",
            "adhd": "Recently diagnosed with ADHD as an adult; I want strategies that work.",
        },
    ),
    "fitness_trainers": CategoryPlan(
        share=20,
        price=(45, 130),
        units=(8, 24),
        firm_words=("Fitness", "Strength Lab", "Training", "Performance"),
        credentials=("NASM-CPT", "ACE-CPT", "NSCA-CSCS", "ACSM-EP", "RYT-200"),
        needs={
            "weight-loss": "I want to lose 30 pounds sustainably before my wedding.",
            "strength-training": "I'd like to learn to squat and deadlift safely.",
            "hiit": "Short, intense workouts that fit a busy schedule.",
            "yoga": "I want to improve flexibility and calm with regular yoga.",
            "pilates": "Pilates for core strength and posture after desk work.",
            "marathon-training": "Training for my first marathon this fall.",
            "senior-fitness": "I'm 68 and want to stay strong and keep my balance.",
            "post-injury-rehab": "Coming back from a knee injury and physical therapy.",
            "prenatal-fitness": "Staying fit and safe during my pregnancy.",
        },
    ),
}

BIO_OPENERS = (
    "I help clients with",
    "My practice focuses on",
    "Clients come to me for",
    "I specialise in",
    "Over the years I have worked mostly on",
)
BIO_CLOSERS = (
    "First consultation is free.",
    "Evening and weekend appointments available.",
    "I work with individuals and small groups.",
    "Clear plans, honest feedback, measurable progress.",
    "Happy to meet in person or over video.",
    "Sliding-scale fees for students.",
    "",
)
REVIEWS = {
    5: ("Exactly what I needed.", "Thoughtful, clear and kind.", "Highly recommended!", ""),
    4: ("Very helpful overall.", "Good experience, a few scheduling hiccups.", ""),
    3: ("It was fine.", "Helpful but not quite the fit I hoped for.", ""),
    2: ("We did not click.", ""),
    1: ("Not for me.",),
}


@dataclass
class DemoCounts:
    """What the demo made, for the command's summary."""

    categories_launched: int = 0
    people: int = 0
    providers: int = 0
    seekers: int = 0
    licenses_verified: int = 0
    referrals: int = 0
    matches: int = 0
    introductions: int = 0
    accepted: int = 0
    declined: int = 0
    engagements: int = 0
    confirmed: int = 0
    cancelled: int = 0
    completed: int = 0
    invoiced: int = 0
    paid: int = 0
    ratings: int = 0
    pot_spends: int = 0
    redemptions: int = 0

    def rows(self) -> list[tuple[str, int]]:
        return [(name.replace("_", " "), value) for name, value in vars(self).items()]


class DemoRefused(Exception):
    """The demo cannot be seeded here; nothing was written."""


class DemoAlreadySeeded(DemoRefused):
    """The database already holds the demo's people."""


def demo_people_count() -> int:
    return User.objects.filter(email__endswith=f"@{DEMO_DOMAIN}").count()


class _Builder:
    def __init__(self, *, seed: int) -> None:
        self.random = random.Random(seed)
        self.fake = Faker("en_US")
        self.fake.seed_instance(seed)
        self.counts = DemoCounts()
        self.emails: set[str] = set()
        self.people: list[User] = []
        self.providers: list[Provider] = []

    # --- People and profiles ------------------------------------------------------------

    def operator(self) -> User:
        # An operator account is made the way createsuperuser makes one (no usable password).
        return User.objects.create_user(OPERATOR_EMAIL, name="Demo Operator", is_staff=True, is_superuser=True)

    def launch_categories(self) -> dict[str, Category]:
        launched = {}
        for name in PLANS:
            category = Category.objects.filter(name=name).first()
            if category is None:
                raise DemoRefused(f"Category {name} is missing: run `manage.py seed_categories categories` first.")
            if not category.active:
                category = category_launch(category=category)
                self.counts.categories_launched += 1
            launched[name] = category
        return launched

    def person(self) -> User:
        first, last = self.fake.first_name(), self.fake.last_name()
        email = f"{first}.{last}@{DEMO_DOMAIN}".lower().replace("'", "")
        number = 2
        while email in self.emails:
            email = f"{first}.{last}{number}@{DEMO_DOMAIN}".lower().replace("'", "")
            number += 1
        self.emails.add(email)
        referral_code = None
        if len(self.people) > 20 and self.random.random() < 0.15:  # a friend sent them
            referral_code = self.random.choice(self.people[: len(self.people) // 2]).referral_code
            self.counts.referrals += 1
        user = profiles.user_register(email=email, password=None, name=f"{first} {last}", referral_code=referral_code)
        if self.random.random() < 0.9:  # most people click the link in their sign-up email
            user = verification.email_verify(token=verification.email_verification_token(user=user)).user
        self.people.append(user)
        self.counts.people += 1
        return user

    def person_or_provider(self, category: Category) -> User:
        """A new person, or now and then a provider of another category who also needs help."""
        if self.providers and self.random.random() < 0.05:
            provider = self.random.choice(self.providers)
            if provider.category_id != category.pk:
                return provider.user
        return self.person()

    def category_choice(self) -> str:
        names = list(PLANS)
        return self.random.choices(names, weights=[PLANS[name].share for name in names])[0]

    def place(self) -> tuple[str, str]:
        return self.random.choice(CITIES)

    def provider(self, category: Category, operator: User) -> Provider:
        plan = PLANS[category.name]
        user = self.person()
        slugs = self.random.sample(list(plan.needs), k=self.random.randint(1, 3))
        names = [category.specialties.get(slug=slug).name.lower() for slug in slugs]
        low = self.random.randrange(plan.price[0], plan.price[1] - 20, 5)
        high = min(plan.price[1], low + self.random.randrange(10, 120, 5))
        years = self.random.choice((1, 2, 3, 5, 7, 8, 10, 12, 15, 20, 25))
        city, state = self.place()
        credentials = self.random.sample(plan.credentials, k=self.random.randint(0, 2))
        bio = (
            f"{self.random.choice(BIO_OPENERS)} {', '.join(names)}. {years} years of experience"
            f"{', based in ' + city if self.random.random() < 0.5 else ''}. {self.random.choice(BIO_CLOSERS)}"
        )
        provider = profiles.provider_create(
            user=user,
            category=category,
            business_name=f"{user.name.split()[-1]} {self.random.choice(plan.firm_words)}",
            specialties=slugs,
            bio=bio,
            years_experience=years,
            certifications=", ".join(credentials),
            license_number=f"{state}-{self.random.randint(100000, 999999)}" if category.requires_license else "",
            pricing_min=Decimal(low),
            pricing_max=Decimal(high),
            city=city,
            state=state,
            remote=self.random.random() < 0.4,
            max_active_clients=self.random.choice((5, 8, 10, 15, 20)),
        )
        self.counts.providers += 1
        if category.requires_license and self.random.random() < 0.85:  # a few still wait for an operator
            provider = profiles.provider_verify_license(provider=provider, operator=operator)
            self.counts.licenses_verified += 1
        self.providers.append(provider)
        return provider

    def seeker(self, category: Category) -> Seeker:
        plan = PLANS[category.name]
        user = self.person_or_provider(category)
        slugs = self.random.sample(list(plan.needs), k=self.random.randint(1, 2))
        needs = " ".join(plan.needs[slug] for slug in slugs)
        low = self.random.randrange(plan.price[0] - 30, plan.price[1] - 40, 10)
        city, state = self.place()
        seeker = profiles.seeker_create(
            user=user,
            category=category,
            specialties=slugs,
            needs_description=needs,
            budget_min=Decimal(max(low, 20)),
            budget_max=Decimal(max(low, 20) + self.random.randrange(40, 200, 10)),
            city=city,
            state=state,
            remote_ok=self.random.random() < 0.7,
        )
        self.counts.seekers += 1
        return seeker

    # --- The core loop -----------------------------------------------------------------

    def match_all(self, categories: dict[str, Category]) -> None:
        for category in categories.values():
            self.counts.matches += matches.match_run_for_category(category=category).matches

    def loop(self, operator: User) -> None:
        for seeker in Seeker.objects.select_related("user", "category").order_by("id"):
            suggested = list(seeker.matches.filter(status=MatchStatus.SUGGESTED).order_by("rank"))
            if not suggested or self.random.random() > 0.6:
                continue
            match = matches.match_introduce(match=suggested[0], user=seeker.user)
            self.counts.introductions += 1
            answer = self.random.random()
            provider_user = match.provider.user
            if answer < 0.12:
                matches.match_decline(match=match, user=provider_user, reason="My calendar is full this quarter.")
                self.counts.declined += 1
                continue
            if answer > 0.8:  # left unanswered: it expires after 72 hours
                continue
            match = matches.match_accept(match=match, user=provider_user)
            self.counts.accepted += 1
            if self.random.random() < 0.7:
                self.engagement(match, operator)

    def engagement(self, match: Match, operator: User) -> None:
        plan = PLANS[match.category.name]
        provider = match.provider
        # Whole dollars drawn within the provider's price range: money stays Decimal, never float.
        price = Decimal(self.random.randint(int(provider.pricing_min), int(provider.pricing_max)))
        deal_value = (price * self.random.randint(*plan.units)).quantize(Decimal("1E1")).quantize(Decimal("0.01"))
        seeker_reports = self.random.random() < 0.5
        reporter, other = (match.seeker.user, provider.user) if seeker_reports else (provider.user, match.seeker.user)
        engagement = engagements.engagement_report(match=match, user=reporter, deal_value_usd=deal_value)
        self.counts.engagements += 1
        if self.random.random() < 0.15:  # waiting for the other side
            return
        engagement = engagements.engagement_confirm(engagement=engagement, user=other)
        self.counts.confirmed += 1
        if self.random.random() < 0.1:
            engagements.engagement_cancel(engagement=engagement, user=other, reason="Plans changed.")
            self.counts.cancelled += 1
            return
        if self.random.random() < 0.5:
            engagement = engagements.engagement_complete(engagement=engagement, user=provider.user)
            self.counts.completed += 1
        self.rate(engagement)
        if self.random.random() < 0.6:
            engagement = engagements.engagement_mark_invoiced(engagement=engagement, operator=operator)
            self.counts.invoiced += 1
            if self.random.random() < 0.6:
                engagements.engagement_mark_paid(engagement=engagement, operator=operator)
                self.counts.paid += 1

    def rate(self, engagement: Engagement) -> None:
        sides = ((engagement.seeker.user, 0.75), (engagement.provider.user, 0.45))
        for user, likelihood in sides:
            if self.random.random() < likelihood:
                stars = self.random.choices((5, 4, 3, 2, 1), weights=(55, 30, 9, 4, 2))[0]
                review = self.random.choice(REVIEWS[stars])
                ratings.rating_create(engagement=engagement, user=user, stars=stars, review=review)
                self.counts.ratings += 1

    # --- POT ---------------------------------------------------------------------------

    def spend(self) -> None:
        """Spend POT as people would: boosts, extra matches, a commission credit, a few redemptions."""
        wallets = Wallet.objects.filter(user__email__endswith=f"@{DEMO_DOMAIN}").select_related("user").order_by("id")
        for wallet in wallets:
            user = wallet.user
            for option_key, likelihood in (("profile_boost", 0.5), ("commission_credit", 0.2), ("extra_matches", 0.4)):
                if self.random.random() >= likelihood:
                    continue
                try:
                    pot.pot_spend(user=user, option_key=option_key)
                except DomainError:  # not their audience, or not enough POT: they would not see the offer
                    continue
                self.counts.pot_spends += 1
            wallet.refresh_from_db()
            if wallet.balance >= 600 and self.random.random() < 0.5:
                pot.redemption_request(user=user, pot_amount=500, payment_method=f"PayPal {user.email}")
                self.counts.redemptions += 1


@transaction.atomic
def demo_marketplace_seed(*, seed: int = 1, providers: int = 200, seekers: int = 300) -> DemoCounts:
    """Build the demo marketplace in one transaction (all or nothing); refuses a second run."""
    if demo_people_count():
        raise DemoAlreadySeeded(f"The demo's people (…@{DEMO_DOMAIN}) are already here: nothing was added.")
    builder = _Builder(seed=seed)
    operator = builder.operator()
    categories = builder.launch_categories()
    for _ in range(providers):
        builder.provider(categories[builder.category_choice()], operator)
    for _ in range(seekers):
        builder.seeker(categories[builder.category_choice()])
    builder.match_all(categories)
    builder.loop(operator)
    builder.spend()
    builder.match_all(categories)  # extra-matches purchases and declines free slots: fill them
    # Declines also rematch inside the service: count the matches the database holds.
    builder.counts.matches = Match.objects.filter(seeker__user__email__endswith=f"@{DEMO_DOMAIN}").count()
    return builder.counts
