from rest_framework import serializers

from categories.models import Category, Specialty


class SpecialtySerializer(serializers.ModelSerializer):
    class Meta:
        model = Specialty
        fields = ["slug", "name"]


class CategorySerializer(serializers.ModelSerializer):
    specialties = SpecialtySerializer(many=True, read_only=True)

    class Meta:
        model = Category
        fields = [
            "id",
            "name",
            "display_name",
            "description",
            "active",
            "launched_at",
            "commission_rate",
            "requires_license",
            "pricing_unit",
            "matches_per_request",
            "specialties",
        ]
        read_only_fields = fields
