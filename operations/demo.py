"""The demo's library and community (`seed_demo`, after `marketplace.demo`): articles, questions, answers.

Built through the services, as a real author, asker and operator would: drafts submitted and
published (the author's `content_published` award), one premium article per category, questions
from the demo's seekers answered by its listed providers, one answer accepted per category,
votes. The text is a short fixed set per category, so the same seed always gives the same pages.
"""

import random
from dataclasses import dataclass

from categories.models import Category
from community.services import answer_accept, answer_post, answer_vote, question_ask
from library.services import article_create, article_publish, article_submit
from marketplace.demo import DEMO_DOMAIN, OPERATOR_EMAIL
from marketplace.models import Provider, Seeker, User

PREMIUM_PRICE_POT = 20


@dataclass(frozen=True)
class Writing:
    title: str
    summary: str
    body: str


@dataclass(frozen=True)
class Asking:
    title: str
    body: str
    answers: tuple[str, ...]


ARTICLES: dict[str, tuple[Writing, ...]] = {
    "financial_advisors": (
        Writing(
            "Five questions to ask before you hire a financial advisor",
            "How they are paid, who holds your money, and what a first year together looks like.",
            "## 1. How are you paid?\n\nFee-only, commission or both: ask for it in writing.\n\n"
            "## 2. Are you a fiduciary at all times?\n\n## 3. Who holds my money?\n\n"
            "An independent custodian, never the advisor's own account.\n\n"
            "## 4. What will we do in the first 90 days?\n\n## 5. How do we measure progress?",
        ),
        Writing(
            "Retirement at 60: a worked example",
            "A couple with $400,000 saved and ten years to go: contributions, Social Security timing, withdrawals.",
            "Start from spending, not from returns. **Needs first**: housing, health, food. Then decide when "
            "to claim Social Security: every year of delay raises the benefit by about 8% until 70.\n\n"
            "- Max out the 401(k) match\n- Build a two-year cash bucket before retiring\n- Rebalance yearly",
        ),
    ),
    "career_coaches": (
        Writing(
            "Negotiating your first offer without burning the bridge",
            "Anchor on the role's market range, ask once, and put the whole package on the table.",
            "Most offers have room. **Ask for the range** before naming a number, then answer with the top "
            "of it and your reasons. Negotiate the package: signing bonus, start date, title, learning budget.",
        ),
        Writing(
            "Changing careers at 40: a 12-week plan",
            "From a list of options to two informational interviews a week and a first project in the new field.",
            "Weeks 1-2: list what you enjoy and what pays. Weeks 3-6: **talk to people** doing the job. "
            "Weeks 7-12: a small paid or volunteer project, then a résumé that leads with it.",
        ),
    ),
    "therapists": (
        Writing(
            "What happens in a first therapy session",
            "Paperwork, your story in your words, goals, and how to tell whether the fit is right.",
            "The first session is mostly listening. You will be asked what brings you, what you have tried and "
            "what you hope changes. **Fit matters more than method**: after three sessions, ask yourself "
            "whether you feel heard.",
        ),
        Writing(
            "Grief does not follow five stages",
            "Grieving comes in waves; what helps, and when to ask for support.",
            "The stages were never a schedule. Waves of grief can come years later, set off by a song or a date. "
            "Ask for support when sleep, work or relationships keep suffering after the first months.",
        ),
    ),
    "fitness_trainers": (
        Writing(
            "Strength training after 50: start here",
            "Three sessions a week, six movements, and progress you can measure in a month.",
            "Squat, hinge, push, pull, carry, and a balance drill. **Start light**, add a little weight each "
            "week, and rest a day between sessions. Measure: a chair stand test today and in four weeks.",
        ),
        Writing(
            "Your first 5K in eight weeks",
            "Run-walk intervals from week one, one longer outing a week, and rest days that count.",
            "Week 1: one minute running, two walking, eight times. Add a minute of running each week. "
            "Rest days are training days: **sleep** and easy walks.",
        ),
    ),
}
GENERIC_ARTICLE = Writing(
    "How to choose a provider in {category}",
    "What to look for on a profile, what to ask in the first conversation, and the signs of a good fit.",
    "Read the ratings and how recent they are, check the license where the category needs one, and use "
    "the first conversation to ask how they would work with you.",
)

QUESTIONS: dict[str, tuple[Asking, ...]] = {
    "financial_advisors": (
        Asking(
            "Fee-only or commission: which advisor should I look for?",
            "I have about $150,000 in a 401(k) from an old job and want help rolling it over.",
            (
                "For a rollover, a fee-only fiduciary has no product to sell you: ask for a flat fee.",
                "Either can work; ask every advisor to write down all they earn from your account.",
            ),
        ),
        Asking("Is it too late to start saving at 45?", "No savings yet, stable job, two kids.", ()),
    ),
    "career_coaches": (
        Asking(
            "How do I explain a two-year gap on my résumé?",
            "I took time off to care for a parent and want to go back to project management.",
            (
                "Say it in one line, plainly, then move on to what you kept sharp: people respect caregiving.",
                "Add a short 'Career break' entry with dates; lead the interview with a recent project.",
            ),
        ),
    ),
    "therapists": (
        Asking(
            "How do I know if therapy is working?",
            "Six sessions in; I like my therapist but I am not sure anything has changed.",
            (
                "Ask your therapist to review your goals together: progress is often clearer on paper.",
                "Notice small things: sleeping better, fewer arguments. And say your doubt in session.",
            ),
        ),
    ),
    "fitness_trainers": (
        Asking(
            "How often should a beginner lift weights?",
            "I am 35, never trained, and want to get stronger without getting hurt.",
            (
                "Three full-body sessions a week with a rest day between is plenty for the first months.",
                "Twice a week is enough to start; focus on form and add weight slowly.",
            ),
        ),
    ),
}


@dataclass
class ContentCounts:
    articles: int = 0
    questions: int = 0
    answers: int = 0

    def rows(self) -> list[tuple[str, int]]:
        return [("articles", self.articles), ("questions", self.questions), ("answers", self.answers)]


def demo_content_seed(*, seed: int = 1) -> ContentCounts:
    """Publish the demo's articles and ask and answer its questions in every category the demo launched."""
    chooser = random.Random(seed)
    counts = ContentCounts()
    operator = User.objects.get(email=OPERATOR_EMAIL)
    categories = Category.objects.filter(providers__user__email__endswith=f"@{DEMO_DOMAIN}").distinct()
    for category in categories.order_by("name"):
        authors = list(
            Provider.objects.listed_in(category)
            .filter(user__email__endswith=f"@{DEMO_DOMAIN}")
            .select_related("user")
            .order_by("pk")
        )
        if not authors:
            continue
        askers = list(
            Seeker.objects.filter(category=category, user__email__endswith=f"@{DEMO_DOMAIN}")
            .select_related("user")
            .order_by("pk")
        )
        _articles(category, authors=chooser.sample(authors, min(3, len(authors))), operator=operator, counts=counts)
        _questions(category, askers=askers, answerers=authors, chooser=chooser, counts=counts)
    return counts


def _articles(category: Category, *, authors: list[Provider], operator: User, counts: ContentCounts) -> None:
    writings = ARTICLES.get(category.name) or (GENERIC_ARTICLE,)
    for index, (author, writing) in enumerate(zip(authors, writings, strict=False)):
        article = article_create(
            user=author.user,
            provider_id=author.pk,
            title=writing.title.format(category=category.display_name),
            summary=writing.summary,
            body=writing.body,
            premium=index == 1,  # the second article of a category is premium: readers unlock it with POT
            price_pot=PREMIUM_PRICE_POT if index == 1 else None,
        )
        article_submit(user=author.user, article_id=article.pk)
        article_publish(article_id=article.pk, operator=operator)
        counts.articles += 1


def _questions(
    category: Category, *, askers: list[Seeker], answerers: list[Provider], chooser: random.Random, counts
) -> None:
    people = [seeker.user for seeker in askers]
    for asking, asker in zip(QUESTIONS.get(category.name, ()), chooser.sample(people, len(people)), strict=False):
        question = question_ask(user=asker, category=category, title=asking.title, body=asking.body)
        counts.questions += 1
        answers = []
        for text, provider in zip(asking.answers, chooser.sample(answerers, len(answerers)), strict=False):
            if provider.user_id == asker.pk:
                continue
            answers.append(answer_post(user=provider.user, question_id=question.pk, body=text))
            counts.answers += 1
        if answers:
            best = answers[0]
            for voter in people[:3]:
                if voter.pk != best.provider.user_id:  # never one's own answer
                    answer_vote(user=voter, answer_id=best.pk)
            answer_accept(user=asker, answer_id=best.pk)
