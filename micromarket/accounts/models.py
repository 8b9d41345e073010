from __future__ import annotations

from django.contrib.auth.models import AbstractBaseUser, BaseUserManager, PermissionsMixin
from django.db import models
from django.db.models.functions import Lower
from django.utils.timezone import now


class UserManager(BaseUserManager["User"]):
    use_in_migrations = True

    def get_by_natural_key(self, username: str | None) -> User:
        # Emails are matched without regard to case: Ann@Example.com is ann@example.com.
        return self.get(email__iexact=username)

    def _create(self, email: str, password: str | None, **fields) -> User:
        if not email:
            raise ValueError("An email address is required")
        user = self.model(email=self.normalize_email(email).lower(), **fields)
        user.set_password(password)
        # Field checks here; uniqueness is the database's job (a race raises IntegrityError).
        user.full_clean(exclude=["password"], validate_unique=False, validate_constraints=False)
        user.save(using=self._db)
        return user

    def create_user(self, email: str, password: str | None = None, **fields) -> User:
        fields.setdefault("is_staff", False)
        fields.setdefault("is_superuser", False)
        return self._create(email, password, **fields)

    def create_superuser(self, email: str, password: str | None = None, **fields) -> User:
        fields.update(is_staff=True, is_superuser=True)
        fields.setdefault("email_verified_at", now())
        return self._create(email, password, **fields)


def avatar_path(user: User, filename: str) -> str:
    return f"avatars/{user.pk}/{filename}"


class User(AbstractBaseUser, PermissionsMixin):
    """A person with an account. Everyone can buy; a shop makes a seller; is_staff an operator."""

    email = models.EmailField("email address", max_length=254, unique=True)
    email_verified_at = models.DateTimeField(null=True, blank=True)
    display_name = models.CharField(max_length=80)
    avatar = models.ImageField(upload_to=avatar_path, blank=True)
    bio = models.TextField(max_length=2000, blank=True)
    location = models.CharField(max_length=120, blank=True)
    languages = models.JSONField(default=list, blank=True)
    skills = models.JSONField(default=list, blank=True)
    timezone = models.CharField(max_length=64, default="UTC")
    preferred_currency = models.CharField(max_length=3, default="USD")
    is_active = models.BooleanField(default=True)
    is_staff = models.BooleanField(
        "operator", default=False, help_text="Operators run the marketplace and need 2FA."
    )
    date_joined = models.DateTimeField(default=now)
    deleted_at = models.DateTimeField(null=True, blank=True)
    # Suspended by an operator (trust's moderation): inactive until reinstated.
    suspended_at = models.DateTimeField(null=True, blank=True)
    suspended_reason = models.CharField(max_length=500, blank=True)

    objects = UserManager()

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS = ["display_name"]

    class Meta:
        constraints = [
            models.UniqueConstraint(Lower("email"), name="accounts_user_email_ci_unique"),
        ]

    def __str__(self) -> str:
        return self.display_name or self.email

    def get_full_name(self) -> str:
        return self.display_name

    def get_short_name(self) -> str:
        return self.display_name

    @property
    def is_email_verified(self) -> bool:
        return self.email_verified_at is not None

    @property
    def is_operator(self) -> bool:
        return self.is_staff

    @property
    def is_suspended(self) -> bool:
        return self.suspended_at is not None


class Shop(models.Model):
    """A seller's storefront. Its slug is its public address and never changes."""

    owner = models.OneToOneField(User, on_delete=models.CASCADE, related_name="shop")
    name = models.CharField(max_length=80)
    slug = models.SlugField(max_length=90, unique=True)
    tagline = models.CharField(max_length=160, blank=True)
    description = models.TextField(max_length=5000, blank=True)
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(default=now)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return self.name


class ApiToken(models.Model):
    """A personal access token. Only a SHA-256 digest is stored; the token is shown once.

    Tokens carry 256 bits of randomness, so a fast digest is enough (as GitHub does): nothing can
    be guessed from it, and lookups stay a single indexed query.
    """

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField(max_length=80)
    prefix = models.CharField(max_length=16, help_text="The first characters, to recognise it.")
    digest = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(default=now)
    last_used_at = models.DateTimeField(null=True, blank=True)
    expires_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"

    def is_usable(self, at=None) -> bool:
        at = at or now()
        return self.revoked_at is None and (self.expires_at is None or self.expires_at > at)
