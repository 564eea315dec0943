#!/bin/sh
# One image, several roles: web (daphne), worker (queued CEN transfers), migrate.
set -eu
case "${1:-web}" in
  web)
    exec daphne --bind 0.0.0.0 --port 8000 --proxy-headers --access-log - cencomm.asgi:application ;;
  worker)
    exec python manage.py db_worker ;;
  migrate)
    python manage.py migrate --database default --no-input
    exec python manage.py migrate --database cen --no-input ;;
  *)
    exec "$@" ;;
esac
