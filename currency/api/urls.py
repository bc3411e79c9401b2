from django.urls import path
from rest_framework.routers import SimpleRouter

from currency.api import views

router = SimpleRouter()
router.register("pot/redemptions", views.RedemptionViewSet, basename="pot-redemption")

urlpatterns = [
    path("pot/balance/", views.BalanceView.as_view(), name="api-pot-balance"),
    path("pot/transactions/", views.TransactionListView.as_view(), name="api-pot-transactions"),
    path("pot/rates/", views.RatesView.as_view(), name="api-pot-rates"),
    path("pot/spend/", views.SpendView.as_view(), name="api-pot-spend"),
    path("pot/redeem/", views.RedeemView.as_view(), name="api-pot-redeem"),
    path("pot/economy/", views.EconomyView.as_view(), name="api-pot-economy"),
    path("pot/adjustments/", views.AdjustmentView.as_view(), name="api-pot-adjustments"),
    *router.urls,
]
