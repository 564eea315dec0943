import pytest
from django.contrib.auth import get_user_model

from groups.selectors import user_language
from groups.services import profile_ensure


@pytest.mark.django_db
def test_user_language_follows_the_browsers_choice_then_the_profile():
    user = get_user_model().objects.create_user(username="officer.pt", password="x" * 20)
    assert user_language(user=user) == "en"
    profile_ensure(user=user, language="pt")
    assert user_language(user=user) == "pt"
    assert user_language(user=user, chosen="ar") == "ar"
    assert user_language(user=user, chosen="fr-CA") == "fr"
    # A cookie naming no language of the platform counts for nothing.
    assert user_language(user=user, chosen="xx-evil") == "pt"
