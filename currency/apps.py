from django.apps import AppConfig


class CurrencyConfig(AppConfig):
    name = "currency"
    verbose_name = "POT currency"
