"""manage.py web_push_keys: print a new VAPID key pair for Web Push (docs/deploy.md)."""

from django.core.management.base import BaseCommand

from groups.web_push import vapid_key_pair


class Command(BaseCommand):
    help = (
        "Print a new VAPID key pair for Web Push: the private key goes into "
        "WEB_PUSH_VAPID_PRIVATE_KEY; the public key is derived from it and given to browsers."
    )

    def handle(self, *args, **options) -> None:
        private, public = vapid_key_pair()
        self.stdout.write(f"WEB_PUSH_VAPID_PRIVATE_KEY={private}")
        self.stdout.write(f"# public key (browsers receive it from the server): {public}")
