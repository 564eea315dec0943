from django.conf import settings


def platform(request):
    return {"LANGUAGES_AVAILABLE": settings.LANGUAGES}
