"""Content library API: published articles (anyone), an author's drafts (create, edit, submit), premium unlocks.

`?mine=1` lists the caller's own articles in every status. A premium article's body is
null until the reader unlocks it (`POST …/unlock/`, with an `Idempotency-Key`; once per
reader: a retry answers the first unlock and charges nothing).
"""

from django.db.models import QuerySet
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import mixins, permissions, status, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from categories import selectors as category_selectors
from currency.errors import ErrorCode as PotCode
from currency.services import InsufficientPot
from imatch.api import refuses
from imatch.converters import ID_PATTERN
from imatch.errors import DomainError
from imatch.errors import ErrorCode as CommonCode
from library import selectors, services
from library.api.serializers import (
    ArticleSerializer,
    ArticleSummarySerializer,
    ArticleUnlockSerializer,
    ArticleWriteSerializer,
)
from library.errors import ArticleNotEditable, NotPremium, OwnArticle, PriceOutOfBounds
from library.models import Article

WRITE_REFUSALS = (CommonCode.REQUIRED, CommonCode.TOO_LONG, PriceOutOfBounds)
LIST_PARAMETERS = [
    OpenApiParameter("category", OpenApiTypes.STR, description="A category's name, e.g. financial_advisors."),
    OpenApiParameter("q", OpenApiTypes.STR, description="Words that must each appear in the title, summary or body."),
    OpenApiParameter("mine", OpenApiTypes.BOOL, description="Your own articles in every status (logged in only)."),
]
IDEMPOTENCY_KEY = OpenApiParameter(
    "Idempotency-Key",
    OpenApiTypes.STR,
    location=OpenApiParameter.HEADER,
    required=True,
    description="1 to 120 characters. A retry answers the first unlock (200) and charges nothing.",
)


@extend_schema_view(
    list=extend_schema(summary="List published articles", parameters=LIST_PARAMETERS),
    retrieve=extend_schema(summary="Get an article"),
    create=extend_schema(
        summary="Write a draft article", request=ArticleWriteSerializer, responses={201: ArticleSerializer}
    ),
    partial_update=extend_schema(
        summary="Edit your draft article", request=ArticleWriteSerializer, responses=ArticleSerializer
    ),
)
class ContentViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    viewsets.GenericViewSet,
):
    """The content library: providers' articles; anyone reads the published ones, authors write theirs."""

    queryset = Article.objects.none()  # for the schema; get_queryset() picks the visible ones
    lookup_value_regex = ID_PATTERN
    http_method_names = ["get", "post", "patch", "head", "options"]
    refusals = {
        "create": (*WRITE_REFUSALS, CommonCode.NOT_FOUND),
        "partial_update": (*WRITE_REFUSALS, ArticleNotEditable),
    }

    def get_permissions(self):
        if self.action in ("list", "retrieve"):
            return [permissions.AllowAny()]
        return super().get_permissions()

    def get_serializer_class(self):
        if self.action == "list":
            return ArticleSummarySerializer
        return ArticleSerializer

    def get_queryset(self) -> QuerySet[Article]:
        if getattr(self, "swagger_fake_view", False):
            return self.queryset
        params, user = self.request.query_params, self.request.user
        if user.is_authenticated and params.get("mine") in ("1", "true"):
            return selectors.articles_owned_by(user=user)
        name = params.get("category", "").strip()
        category = category_selectors.category_get(name=name) if name else None
        if name and category is None:
            return Article.objects.none()
        return selectors.articles_published(category_id=category.pk if category else None, words=params.get("q", ""))

    def _answer(self, article: Article, *, status_code: int = status.HTTP_200_OK) -> Response:
        unlocked = selectors.article_unlocked_for(user=self.request.user, article=article)
        return Response(ArticleSerializer(article, context={"unlocked": unlocked}).data, status=status_code)

    def retrieve(self, request: Request, *args, **kwargs) -> Response:
        return self._answer(selectors.article_readable(user=request.user, article_id=int(kwargs["pk"])))

    def create(self, request: Request, *args, **kwargs) -> Response:
        serializer = ArticleWriteSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        provider_id = data.pop("provider", None)
        if provider_id is None:
            raise DomainError("Choose your provider profile.", field="provider", code=CommonCode.REQUIRED)
        article = services.article_create(user=request.user, provider_id=provider_id, **_texts(data))
        return self._answer(article, status_code=status.HTTP_201_CREATED)

    def partial_update(self, request: Request, *args, **kwargs) -> Response:
        article = selectors.article_owned(user=request.user, article_id=int(kwargs["pk"]))
        serializer = ArticleWriteSerializer(data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        data = {**_texts(vars_of(article)), **dict(serializer.validated_data)}
        data.pop("provider", None)
        article = services.article_edit(user=request.user, article_id=article.pk, **_texts(data))
        return self._answer(article)

    @extend_schema(summary="Submit your draft article for review", request=None, responses=ArticleSerializer)
    @refuses(ArticleNotEditable)
    @action(detail=True, methods=["post"])
    def submit(self, request: Request, pk: str) -> Response:
        """Send your draft (or rejected) article to the operators; they publish it or reject it with a reason."""
        return self._answer(services.article_submit(user=request.user, article_id=int(pk)))

    @extend_schema(
        summary="Unlock a premium article with POT",
        request=None,
        parameters=[IDEMPOTENCY_KEY],
        responses={201: ArticleUnlockSerializer, 200: ArticleUnlockSerializer},
    )
    @refuses(OwnArticle, NotPremium, InsufficientPot, PotCode.INVALID_IDEMPOTENCY_KEY)
    @action(detail=True, methods=["post"])
    def unlock(self, request: Request, pk: str) -> Response:
        """Pay the article's price: the author gets their share, the rest is burned. Once per reader.

        Answers 201 with the unlock; a retry, or any later unlock of the same article by you,
        answers 200 with the first one and charges nothing.
        """
        key = (request.headers.get("Idempotency-Key") or "").strip()
        if not 1 <= len(key) <= 120:
            raise DomainError(
                "Send an Idempotency-Key header of 1 to 120 characters.", code=PotCode.INVALID_IDEMPOTENCY_KEY
            )
        result = services.article_unlock(user=request.user, article_id=int(pk))
        answer = status.HTTP_200_OK if result.replayed else status.HTTP_201_CREATED
        return Response(ArticleUnlockSerializer(result.unlock).data, status=answer)


def vars_of(article: Article) -> dict:
    return {"title": article.title, "summary": article.summary, "body": article.body, "premium": article.premium,
            "price_pot": article.price_pot}  # fmt: skip


def _texts(data: dict) -> dict:
    return {name: data.get(name) for name in ("title", "summary", "body", "premium", "price_pot")} | {
        "premium": bool(data.get("premium"))
    }
