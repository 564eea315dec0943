from django import forms
from django.conf import settings
from django.contrib.auth import get_user_model
from django.utils.translation import gettext_lazy as _

from .models import Administration, Role

User = get_user_model()


class MemberAddForm(forms.Form):
    username = forms.CharField(label=_("Username"), max_length=150)
    role = forms.ChoiceField(label=_("Role"), choices=Role.choices, initial=Role.MEMBER)

    def clean_username(self):
        username = self.cleaned_data["username"].strip()
        user = User.objects.filter(username=username).first()
        if user is None:
            raise forms.ValidationError(_("There is no user called %(name)s.") % {"name": username})
        self.cleaned_data["user"] = user
        return username


class MemberSearchForm(forms.Form):
    q = forms.CharField(
        label=_("Name, username or administration"), max_length=100, required=False, strip=True
    )


class MemberAddAllForm(forms.Form):
    """Names the administration by its country code, as the pages and the API do."""

    administration = forms.ModelChoiceField(
        label=_("Administration"),
        queryset=Administration.objects.all(),
        to_field_name="country",
        error_messages={"invalid_choice": _("Choose an administration.")},
    )
    role = forms.ChoiceField(label=_("Role"), choices=Role.choices, initial=Role.MEMBER)


class MemberChangeForm(forms.Form):
    """Names the member by username: never an integer id a visitor could walk."""

    username = forms.CharField(max_length=150, widget=forms.HiddenInput)
    role = forms.ChoiceField(label=_("Role"), choices=Role.choices, required=False)


class LanguageForm(forms.Form):
    language = forms.ChoiceField(label=_("Language"), choices=settings.LANGUAGES)
    next = forms.CharField(required=False, widget=forms.HiddenInput)
