"""factory_boy factories for accounts; other apps' tests may use them."""

from __future__ import annotations

import factory
from django.utils import timezone

from micromarket.accounts.models import ApiToken, Shop, User

DEFAULT_PASSWORD = "correct-horse-battery"


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    email = factory.Sequence(lambda n: f"user{n}@example.test")
    display_name = factory.Faker("name")
    email_verified_at = factory.LazyFunction(timezone.now)
    password = factory.PostGenerationMethodCall("set_password", DEFAULT_PASSWORD)

    @factory.post_generation
    def _save(obj, create, extracted, **kwargs):
        if create:
            obj.save()

    class Params:
        unverified = factory.Trait(email_verified_at=None)
        operator = factory.Trait(is_staff=True)


class ShopFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Shop

    owner = factory.SubFactory(UserFactory)
    name = factory.Sequence(lambda n: f"Shop {n}")
    slug = factory.Sequence(lambda n: f"shop-{n}")
    tagline = "Good things, made well"


class ApiTokenFactory(factory.django.DjangoModelFactory):
    """Use ``services.token_create`` when the raw secret is needed."""

    class Meta:
        model = ApiToken

    user = factory.SubFactory(UserFactory)
    name = "script"
    prefix = "mm_xxxxxxx"
    digest = factory.Sequence(lambda n: f"{n:064x}")
