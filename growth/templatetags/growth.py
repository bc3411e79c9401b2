"""`{% person_badges user_id %}`: a person's badges, each with its rule on hover (growth/_badges.html).

For a page about one person (provider page); a list of people loads
`growth.selectors.badges_of_people` once for the whole page instead. The dashboard has read the
person's profiles and referrals already: `{% dashboard_badges profile_user referrals %}`.
"""

from django import template

from growth.selectors import badges_of_people, person_badges_of

register = template.Library()


@register.inclusion_tag("growth/_badges.html")
def person_badges(user_id: int) -> dict:
    return {"badges": badges_of_people(user_ids=[user_id])[user_id]}


@register.inclusion_tag("growth/_badges.html")
def dashboard_badges(user, referrals) -> dict:
    """The person's badges from what the dashboard read (`user_for_dashboard`, `referral_summary`)."""
    return {"badges": person_badges_of(user=user, activated_referrals=referrals.activated)}
