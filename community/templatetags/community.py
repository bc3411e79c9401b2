"""Community answers on marketplace pages, which cannot import community code.

- `{% provider_answers provider %}`: the provider's newest visible answers (one query).
- `{% category_questions category %}`: the category's newest questions and the way to ask (one query).
"""

from django import template

from community.selectors import answers_by_provider, questions_in

register = template.Library()

PROVIDER_ANSWERS_SHOWN = 5
CATEGORY_QUESTIONS_SHOWN = 3


@register.inclusion_tag("community/_provider_answers.html")
def provider_answers(provider) -> dict:
    return {"provider": provider, "answers": answers_by_provider(provider=provider, limit=PROVIDER_ANSWERS_SHOWN)}


@register.inclusion_tag("community/_category_questions.html")
def category_questions(category) -> dict:
    return {"category": category, "questions": list(questions_in(category=category)[:CATEGORY_QUESTIONS_SHOWN])}
