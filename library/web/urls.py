from django.urls import path

import imatch.converters  # noqa: F401  (registers <id:…>)
from library.web import views

urlpatterns = [
    path("", views.library_page, name="library"),
    path("<id:article_id>/", views.article_page, name="article"),
    path("<id:article_id>/unlock/", views.article_unlock_page, name="article-unlock"),
    path("mine/", views.my_articles_page, name="my-articles"),
    path("mine/new/", views.article_write_page, name="article-new"),
    path("mine/<id:article_id>/edit/", views.article_write_page, name="article-edit"),
    path("mine/<id:article_id>/submit/", views.article_submit_page, name="article-submit"),
]
