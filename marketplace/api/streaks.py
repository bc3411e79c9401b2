"""Streak API: the person's current streak, what keeps it going this week and the next bonus."""

from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from marketplace import selectors


class NextStreakBonusSerializer(serializers.Serializer):
    weeks = serializers.IntegerField(help_text="The streak length that pays it (4 or 12 weeks).")
    pot = serializers.IntegerField(help_text="What it pays now (the operators' amount; 0 while the rule is off).")
    week_starts_at = serializers.DateTimeField(help_text="The week in which it is reached if you act every week.")


class StreakSerializer(serializers.Serializer):
    weeks = serializers.IntegerField(help_text="Calendar weeks in a row with an action that counts.")
    started_on = serializers.DateField(allow_null=True, help_text="The Monday (UTC) of its first week; null: none.")
    done_this_week = serializers.BooleanField(help_text="This week already counts: the streak goes on.")
    at_risk = serializers.BooleanField(help_text="The streak ends unless you act before this week is over.")
    week_ends_at = serializers.DateTimeField(help_text="When this week ends (weeks run Monday to Monday, UTC).")
    ways = serializers.ListField(child=serializers.CharField(), help_text="What counts, for your roles.")
    next_bonus = NextStreakBonusSerializer(allow_null=True, help_text="Null after the 12-week bonus of this streak.")


def streak_payload(summary: selectors.StreakSummary) -> dict:
    streak = summary.streak
    upcoming = summary.next_bonus
    return {
        "weeks": streak.weeks,
        "started_on": streak.start,
        "done_this_week": streak.done_this_week,
        "at_risk": streak.at_risk,
        "week_ends_at": summary.week_ends_at,
        "ways": summary.ways,
        "next_bonus": None
        if upcoming is None
        else {"weeks": upcoming.weeks, "pot": summary.next_bonus_pot, "week_starts_at": summary.next_bonus_starts},
    }


class StreakView(APIView):
    """Your streak: weeks in a row with a lead answered within 24 hours, a rating or an accepted answer."""

    @extend_schema(summary="Get your streak", responses=StreakSerializer, tags=["pot"])
    def get(self, request: Request) -> Response:
        return Response(StreakSerializer(streak_payload(selectors.streak_summary(user=request.user))).data)
