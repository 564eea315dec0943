"""Closing every socket of a user who logs out or is deactivated, on every process."""

from django.contrib.auth import get_user_model
from django.contrib.auth.signals import user_logged_in, user_logged_out
from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver

from core.realtime import notify_user_on_commit

from .models import Profile
from .sessions import session_closed, session_started

User = get_user_model()


@receiver(user_logged_in)
def remember_session(sender, request, user, **kwargs):
    session_started(request=request, user=user)


@receiver(user_logged_out)
def close_sockets_on_logout(sender, request, user, **kwargs):
    if user is not None:
        notify_user_on_commit(user_id=user.pk, message={"type": "session.ended"})
    if request is not None:
        session_closed(session_key=request.session.session_key)


@receiver(post_save, sender=User)
def follow_user_changes(sender, instance, created, raw=False, **kwargs):
    if raw:
        return
    if created:
        Profile.objects.get_or_create(user=instance)
    if not instance.is_active:
        notify_user_on_commit(user_id=instance.pk, message={"type": "session.ended"})


@receiver(post_delete, sender=User)
def close_sockets_of_deleted_user(sender, instance, **kwargs):
    notify_user_on_commit(user_id=instance.pk, message={"type": "session.ended"})
