"""Seed each known category's deal review threshold (USD): deals above it wait for an operator.

Values follow the size of a typical engagement in the category: a financial plan or a legal
matter is worth more than a month of fitness training. A category not listed keeps no review
(operators set one in the admin). Reversing leaves the values (the column goes with 0003).
"""

from decimal import Decimal

from django.db import migrations

DEAL_REVIEW_THRESHOLDS_USD = {
    "financial_advisors": "50000",
    "career_coaches": "10000",
    "therapists": "10000",
    "fitness_trainers": "5000",
    "business_mentors": "25000",
    "nutritionists": "5000",
    "music_teachers": "5000",
    "language_tutors": "5000",
    "academic_tutors": "5000",
    "life_coaches": "10000",
    "legal_consultants": "50000",
    "accountants": "25000",
    "real_estate_agents": "100000",
    "interior_designers": "50000",
    "web_developers": "50000",
    "photographers": "10000",
    "yoga_instructors": "5000",
    "marketing_consultants": "25000",
    "pet_trainers": "5000",
    "wedding_planners": "25000",
}


def seed_thresholds(apps, schema_editor):
    Category = apps.get_model("categories", "Category")
    for name, threshold in DEAL_REVIEW_THRESHOLDS_USD.items():
        Category.objects.filter(name=name, deal_review_threshold_usd__isnull=True).update(
            deal_review_threshold_usd=Decimal(threshold)
        )


class Migration(migrations.Migration):
    dependencies = [
        ("categories", "0003_deal_review_and_seeker_bonus_minimum"),
    ]

    operations = [
        migrations.RunPython(seed_thresholds, migrations.RunPython.noop),
    ]
