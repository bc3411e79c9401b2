from django.urls import path

from currency.web import views

urlpatterns = [
    path("", views.wallet, name="wallet"),
    path("spend/<slug:option_key>/", views.spend_confirm, name="wallet-spend"),
    path("redeem/", views.redeem, name="wallet-redeem"),
]
