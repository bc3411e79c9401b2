"""Community answers API: a category's questions (public), ask, answer, accept, vote, report; staff hide.

Reads are public (hidden questions and answers are left out); writes need a token. Refusals
are the services' (`community.errors`).
"""

from django.db.models import QuerySet
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import mixins, permissions, status, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from community import selectors, services
from community.api.serializers import (
    AnswerPostSerializer,
    AnswerSerializer,
    HiddenSerializer,
    HideSerializer,
    QuestionAskSerializer,
    QuestionDetailSerializer,
    QuestionSerializer,
    ReportFileSerializer,
    ReportSerializer,
)
from community.errors import (
    AlreadyAccepted,
    AlreadyAnswered,
    AlreadyReported,
    AlreadyVoted,
    NotAProvider,
    NotTheAsker,
    OwnAnswer,
    OwnQuestion,
)
from community.models import Answer, Question
from imatch.api import refuses
from imatch.converters import ID_PATTERN
from imatch.errors import ErrorCode as CommonCode
from imatch.errors import NotFound
from marketplace.selectors import directory_category


@extend_schema_view(
    list=extend_schema(
        summary="List a category's questions",
        parameters=[
            OpenApiParameter("category", OpenApiTypes.STR, description="A launched category's machine name."),
            OpenApiParameter(
                "sort",
                OpenApiTypes.STR,
                enum=list(selectors.SORTS),
                description="newest (default), unanswered, popular",
            ),
        ],
    ),
    retrieve=extend_schema(summary="Get a question with its answers"),
)
@extend_schema(tags=["community"])
class QuestionViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Public questions of the launched categories, newest first."""

    serializer_class = QuestionSerializer
    queryset = Question.objects.none()
    lookup_value_regex = ID_PATTERN

    def get_permissions(self):
        if self.action in ("list", "retrieve"):
            return [permissions.AllowAny()]
        if self.action in ("hide", "unhide"):
            return [permissions.IsAdminUser()]
        return super().get_permissions()

    def get_queryset(self) -> QuerySet[Question]:
        if getattr(self, "swagger_fake_view", False):
            return self.queryset
        name = self.request.query_params.get("category", "").strip()
        category = directory_category(name=name)
        if category is None:
            return Question.objects.none()
        sort = self.request.query_params.get("sort", "newest")
        return selectors.questions_in(category=category, sort=sort if sort in selectors.SORTS else "newest")

    def retrieve(self, request: Request, pk: str) -> Response:
        question = selectors.question_visible(question_id=int(pk), user=request.user)
        answers = list(selectors.answers_of(question=question))
        for answer in answers:
            answer.question = question
        return Response(QuestionDetailSerializer(question, context={"answers": answers}).data)

    @extend_schema(summary="Ask a question", request=QuestionAskSerializer, responses={201: QuestionSerializer})
    @refuses(CommonCode.REQUIRED, CommonCode.TOO_LONG, NotFound)
    def create(self, request: Request) -> Response:
        """Ask a public question in a launched category."""
        serializer = QuestionAskSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        category = directory_category(name=data.pop("category"))
        if category is None:
            raise NotFound("No such category.")
        question = services.question_ask(user=request.user, category=category, **data)
        return Response(QuestionSerializer(question).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=AnswerPostSerializer, responses={201: AnswerSerializer})
    @refuses(CommonCode.REQUIRED, CommonCode.TOO_LONG, NotAProvider, OwnQuestion, AlreadyAnswered)
    @action(detail=True, methods=["post"])
    def answers(self, request: Request, pk: str) -> Response:
        """Answer a question (a listed provider of its category)."""
        serializer = AnswerPostSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        answer = services.answer_post(user=request.user, question_id=int(pk), body=serializer.validated_data["body"])
        return Response(AnswerSerializer(answer).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=HideSerializer, responses=HiddenSerializer)
    @refuses(CommonCode.REQUIRED, CommonCode.TOO_LONG)
    @action(detail=True, methods=["post"])
    def hide(self, request: Request, pk: str) -> Response:
        """Hide a question from the public, with the reason."""
        serializer = HideSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        question = services.question_hide(
            operator=request.user, question_id=int(pk), reason=serializer.validated_data["reason"]
        )
        return Response(HiddenSerializer(question).data)

    @extend_schema(request=None, responses=HiddenSerializer)
    @action(detail=True, methods=["post"])
    def unhide(self, request: Request, pk: str) -> Response:
        """Show a hidden question again."""
        return Response(HiddenSerializer(services.question_unhide(operator=request.user, question_id=int(pk))).data)


@extend_schema(tags=["community"])
class AnswerViewSet(viewsets.GenericViewSet):
    """Acting on an answer: accept it (the asker), vote it up; staff hide it."""

    serializer_class = AnswerSerializer
    queryset = Answer.objects.none()
    lookup_value_regex = ID_PATTERN

    def get_permissions(self):
        if self.action in ("hide", "unhide"):
            return [permissions.IsAdminUser()]
        return super().get_permissions()

    @extend_schema(request=None, responses=QuestionSerializer)
    @refuses(NotTheAsker, AlreadyAccepted)
    @action(detail=True, methods=["post"])
    def accept(self, request: Request, pk: str) -> Response:
        """Accept an answer to your question (once, for good).

        Pays the provider the `answer_accepted` earning rule (promotional POT) once per question,
        within the limits the README lists (same mailbox, referral, verified and old-enough
        asker, one award per asker and provider a month, a monthly cap per provider).
        Accepting the same answer again answers the same.
        """
        return Response(QuestionSerializer(services.answer_accept(user=request.user, answer_id=int(pk))).data)

    @extend_schema(request=None, responses=AnswerSerializer)
    @refuses(OwnAnswer, AlreadyVoted)
    @action(detail=True, methods=["post"])
    def vote(self, request: Request, pk: str) -> Response:
        """Vote an answer up (once; not your own)."""
        answer = services.answer_vote(user=request.user, answer_id=int(pk))
        return Response(AnswerSerializer(answer).data)

    @extend_schema(request=HideSerializer, responses=HiddenSerializer)
    @refuses(CommonCode.REQUIRED, CommonCode.TOO_LONG)
    @action(detail=True, methods=["post"])
    def hide(self, request: Request, pk: str) -> Response:
        """Hide an answer from the public, with the reason.

        An accepted answer's `answer_accepted` award is taken back (showing it again does not pay it again).
        """
        serializer = HideSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        answer = services.answer_hide(
            operator=request.user, answer_id=int(pk), reason=serializer.validated_data["reason"]
        )
        return Response(HiddenSerializer(answer).data)

    @extend_schema(request=None, responses=HiddenSerializer)
    @action(detail=True, methods=["post"])
    def unhide(self, request: Request, pk: str) -> Response:
        """Show a hidden answer again."""
        return Response(HiddenSerializer(services.answer_unhide(operator=request.user, answer_id=int(pk))).data)


@extend_schema(tags=["community"])
class ReportViewSet(viewsets.GenericViewSet):
    """Reports of community questions and answers to the operators."""

    serializer_class = ReportSerializer
    queryset = Question.objects.none()

    @extend_schema(
        summary="Report a question or an answer", request=ReportFileSerializer, responses={201: ReportSerializer}
    )
    @refuses(CommonCode.REQUIRED, CommonCode.TOO_LONG, AlreadyReported, NotFound)
    def create(self, request: Request) -> Response:
        """Report a question or an answer (give one of the two ids) to the operators."""
        serializer = ReportFileSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        report = services.report_file(
            user=request.user, reason=data["reason"], question_id=data.get("question"), answer_id=data.get("answer")
        )
        return Response(ReportSerializer(report).data, status=status.HTTP_201_CREATED)
