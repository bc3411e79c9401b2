"""`{% person_badges user_id %}`: a person's badges, each with its rule on hover (growth/_badges.html).

For a page about one person (provider page, dashboard); a list of people loads
`growth.selectors.badges_of_people` once for the whole page instead.
"""

from django import template

from growth.selectors import badges_of_people

register = template.Library()


@register.inclusion_tag("growth/_badges.html")
def person_badges(user_id: int) -> dict:
    return {"badges": badges_of_people(user_ids=[user_id])[user_id]}
