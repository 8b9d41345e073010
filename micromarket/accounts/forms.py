"""Input forms: they check shape (required, lengths, choices); services check the rules."""

from __future__ import annotations

from django import forms
from django.contrib.auth.forms import AuthenticationForm, PasswordResetForm

from micromarket.core.emails import email_send_after_commit
from micromarket.core.forms import currency_choices, timezone_choices


class SignUpForm(forms.Form):
    display_name = forms.CharField(
        label="Your name", max_length=80, help_text="Shown on your profile and shop."
    )
    email = forms.EmailField(label="Email address", max_length=254)
    password = forms.CharField(
        label="Password",
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        help_text="At least 10 characters; not a common password.",
    )
    password_confirm = forms.CharField(
        label="Password again",
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["email"].widget.attrs["autocomplete"] = "email"
        self.fields["display_name"].widget.attrs["autocomplete"] = "name"

    def clean(self):
        data = super().clean()
        if data.get("password") and data.get("password") != data.get("password_confirm"):
            self.add_error("password_confirm", "The two passwords are not the same.")
        return data


class LoginForm(AuthenticationForm):
    """Email + password. The field is still called ``username`` (django-axes reads it)."""

    username = forms.EmailField(
        label="Email address",
        max_length=254,
        widget=forms.EmailInput(attrs={"autocomplete": "email", "autofocus": True}),
    )
    error_messages = {
        "invalid_login": "That email and password do not match an account.",
        "inactive": "This account is closed.",
    }

    def clean_username(self) -> str:
        # Lowercase before authenticate(): django-axes counts failures per username as given,
        # so Ann@… and ann@… must be the same name or each spelling gets 5 fresh guesses.
        return self.cleaned_data["username"].lower()


class CodeForm(forms.Form):
    token = forms.CharField(
        label="Code",
        max_length=16,
        widget=forms.TextInput(
            attrs={"autocomplete": "one-time-code", "inputmode": "numeric", "autofocus": True}
        ),
        help_text="The 6-digit code from your authenticator app, or one of your backup codes.",
    )


class PasswordResetByTaskForm(PasswordResetForm):
    """Django's reset form, but the email goes out through the background worker."""

    def send_mail(
        self,
        subject_template_name,
        email_template_name,
        context,
        from_email,
        to_email,
        html_email_template_name=None,
    ):
        email_send_after_commit(
            to=to_email,
            template="accounts/email/password_reset",
            context={
                "display_name": context["user"].display_name,
                "reset_path": f"/accounts/password/reset/{context['uid']}/{context['token']}/",
            },
        )


class ProfileForm(forms.Form):
    display_name = forms.CharField(label="Display name", max_length=80)
    bio = forms.CharField(label="About you", required=False, max_length=2000, widget=forms.Textarea)
    location = forms.CharField(label="Location", required=False, max_length=120)
    languages = forms.CharField(
        label="Languages", required=False, help_text="Separate with commas, e.g. English, Spanish."
    )
    skills = forms.CharField(
        label="Skills", required=False, help_text="Separate with commas, e.g. logo design, SEO."
    )
    timezone = forms.ChoiceField(label="Timezone")
    preferred_currency = forms.ChoiceField(label="Preferred currency")
    avatar = forms.FileField(
        label="Profile picture",
        required=False,
        help_text="JPEG, PNG, WebP or GIF up to 5 MB. It is cropped square.",
        widget=forms.ClearableFileInput(attrs={"accept": "image/*"}),
    )
    remove_avatar = forms.BooleanField(label="Remove the current picture", required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["timezone"].choices = timezone_choices()
        self.fields["preferred_currency"].choices = currency_choices()

    @classmethod
    def initial_for(cls, user) -> dict:
        return {
            "display_name": user.display_name,
            "bio": user.bio,
            "location": user.location,
            "languages": ", ".join(user.languages),
            "skills": ", ".join(user.skills),
            "timezone": user.timezone,
            "preferred_currency": user.preferred_currency,
        }


class ShopForm(forms.Form):
    name = forms.CharField(label="Shop name", max_length=80)
    tagline = forms.CharField(
        label="Tagline", required=False, max_length=160, help_text="One line about what you offer."
    )
    description = forms.CharField(
        label="About the shop", required=False, max_length=5000, widget=forms.Textarea
    )


class TokenCreateForm(forms.Form):
    EXPIRY_CHOICES = [("30", "30 days"), ("90", "90 days"), ("365", "1 year"), ("", "Never")]
    name = forms.CharField(label="Token name", max_length=80, help_text="e.g. “my laptop script”")
    expires_in_days = forms.TypedChoiceField(
        label="Expires after",
        choices=EXPIRY_CHOICES,
        coerce=int,
        empty_value=None,
        required=False,
        initial="90",
    )


class PasswordConfirmForm(forms.Form):
    password = forms.CharField(
        label="Your password",
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
    )


class DeleteAccountForm(PasswordConfirmForm):
    confirm = forms.BooleanField(
        label="I understand that my profile, shop and personal data will be erased.",
    )
