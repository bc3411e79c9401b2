from drf_spectacular.utils import OpenApiExample, extend_schema_field, extend_schema_serializer
from rest_framework import serializers

from community.models import Answer, Question, Report
from community.services import REASON_MAX


class AnswerSerializer(serializers.ModelSerializer):
    provider = serializers.IntegerField(source="provider_id", help_text="The provider profile that answered.")
    provider_name = serializers.CharField(source="provider.business_name")
    accepted = serializers.SerializerMethodField()

    class Meta:
        model = Answer
        fields = ["id", "question", "provider", "provider_name", "body", "vote_count", "accepted", "created_at"]
        read_only_fields = fields

    def get_accepted(self, answer: Answer) -> bool:
        return answer.question.accepted_answer_id == answer.pk


class QuestionSerializer(serializers.ModelSerializer):
    """A public question; `asker_name` is "Anonymous" when the asker chose so."""

    category = serializers.CharField(source="category.name")
    asker_name = serializers.CharField(source="asker_display")
    accepted_answer = serializers.IntegerField(source="accepted_answer_id", allow_null=True)

    class Meta:
        model = Question
        fields = ["id", "category", "title", "body", "asker_name", "anonymous", "answer_count", "accepted_answer"]
        fields += ["created_at"]
        read_only_fields = fields


class QuestionDetailSerializer(QuestionSerializer):
    answers = serializers.SerializerMethodField()

    class Meta(QuestionSerializer.Meta):
        fields = [*QuestionSerializer.Meta.fields, "answers"]
        read_only_fields = fields

    @extend_schema_field(AnswerSerializer(many=True))
    def get_answers(self, question: Question) -> list:
        return AnswerSerializer(self.context["answers"], many=True).data


@extend_schema_serializer(
    examples=[
        OpenApiExample(
            "A question",
            value={
                "category": "financial_advisors",
                "title": "How much should I save for retirement at 40?",
                "body": "I have no plan yet and about $20,000 saved.",
                "anonymous": False,
            },
            request_only=True,
        )
    ]
)
class QuestionAskSerializer(serializers.Serializer):
    category = serializers.SlugField(max_length=64, help_text="A launched category's machine name.")
    title = serializers.CharField(max_length=Question.TITLE_MAX)
    body = serializers.CharField(max_length=Question.BODY_MAX, help_text="Plain text, at most 4,000 characters.")
    anonymous = serializers.BooleanField(default=False, help_text="Show “Anonymous” instead of your name.")


@extend_schema_serializer(
    examples=[OpenApiExample("An answer", value={"body": "Start with 15% of your income."}, request_only=True)]
)
class AnswerPostSerializer(serializers.Serializer):
    body = serializers.CharField(max_length=Answer.BODY_MAX, help_text="Plain text, at most 4,000 characters.")


@extend_schema_serializer(
    examples=[OpenApiExample("Report an answer", value={"answer": 12, "reason": "Advertising"}, request_only=True)]
)
class ReportFileSerializer(serializers.Serializer):
    question = serializers.IntegerField(min_value=1, max_value=10**18 - 1, required=False, allow_null=True)
    answer = serializers.IntegerField(min_value=1, max_value=10**18 - 1, required=False, allow_null=True)
    reason = serializers.CharField(max_length=Report.REASON_MAX)


class ReportSerializer(serializers.ModelSerializer):
    class Meta:
        model = Report
        fields = ["id", "question", "answer", "reason", "status", "created_at"]
        read_only_fields = fields


@extend_schema_serializer(
    examples=[OpenApiExample("Hide", value={"reason": "Personal data in the text"}, request_only=True)]
)
class HideSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=REASON_MAX, help_text="Kept with the hidden item.")


class HiddenSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    hidden = serializers.BooleanField()
    hidden_reason = serializers.CharField()
