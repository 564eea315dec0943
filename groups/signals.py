"""Closing every socket of a user who logs out or is deactivated, on every process."""

from django.contrib.auth import get_user_model
from django.contrib.auth.signals import user_logged_in, user_logged_out
from django.db.models.signals import post_delete, post_save, pre_save
from django.dispatch import receiver

from core.realtime import notify_user_on_commit

from .models import Profile
from .sessions import account_deactivated, session_closed, session_started

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


@receiver(pre_save, sender=User)
def remember_was_active(sender, instance, raw=False, update_fields=None, **kwargs):
    """Whether the account was active before this save: a deactivation is a change."""
    if raw or instance.pk is None or (update_fields and "is_active" not in update_fields):
        instance.cencomm_was_active = None
        return
    instance.cencomm_was_active = (
        User.objects.filter(pk=instance.pk).values_list("is_active", flat=True).first()
    )


@receiver(post_save, sender=User)
def follow_user_changes(sender, instance, created, raw=False, **kwargs):
    if raw:
        return
    if created:
        Profile.objects.get_or_create(user=instance)
    if not instance.is_active:
        notify_user_on_commit(user_id=instance.pk, message={"type": "session.ended"})
        if getattr(instance, "cencomm_was_active", None):
            # Deactivated now (the admin, a service): every session ends, everywhere.
            account_deactivated(user=instance, by=getattr(instance, "cencomm_deactivated_by", None))


@receiver(post_delete, sender=User)
def close_sockets_of_deleted_user(sender, instance, **kwargs):
    notify_user_on_commit(user_id=instance.pk, message={"type": "session.ended"})
