#!/bin/sh
# One image, several roles: web (daphne), worker (queued CEN transfers), migrate.
set -eu
case "${1:-web}" in
  web)
    # No --proxy-headers: daphne would take the client's address from X-Forwarded-For
    # whoever sent it. The platform reads the header itself, and only from
    # TRUSTED_PROXIES (cencomm/logging.py).
    exec daphne --bind 0.0.0.0 --port 8000 --access-log - cencomm.asgi:application ;;
  worker)
    exec python manage.py db_worker ;;
  migrate)
    python manage.py migrate --database default --no-input
    exec python manage.py migrate --database cen --no-input ;;
  *)
    exec "$@" ;;
esac
