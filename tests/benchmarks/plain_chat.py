"""Reference 1: a plain Channels group chat in the style of the Channels tutorial.

No database, no permission checks: a socket joins the group named in its query string,
and every frame it sends is broadcast to that group through daphne and the core Redis
channel layer. Run: daphne tests.benchmarks.plain_chat:application
"""

import json
import os
from urllib.parse import parse_qs

import django
from django.conf import settings

if not settings.configured:
    settings.configure(
        DEBUG=False,
        SECRET_KEY="benchmark-only",
        ALLOWED_HOSTS=["*"],
        INSTALLED_APPS=["channels"],
        CHANNEL_LAYERS={
            "default": {
                "BACKEND": "channels_redis.core.RedisChannelLayer",
                "CONFIG": {
                    # The same two measured fixes the platform has (docs/performance.md):
                    # a bigger pool, and a read timeout longer than the blocking pop.
                    "hosts": [
                        {
                            "address": os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/12"),
                            "max_connections": 1000,
                            "socket_timeout": 30,
                        }
                    ],
                    "prefix": os.environ.get("CHANNEL_LAYER_PREFIX", "plainchat"),
                },
            }
        },
    )
    django.setup()

from channels.generic.websocket import AsyncWebsocketConsumer
from channels.routing import ProtocolTypeRouter, URLRouter
from django.urls import path


class ChatConsumer(AsyncWebsocketConsumer):
    async def connect(self):
        query = parse_qs(self.scope["query_string"].decode())
        self.room_group_name = f"chat_{query.get('group', ['lobby'])[0]}"
        await self.channel_layer.group_add(self.room_group_name, self.channel_name)
        await self.accept()

    async def disconnect(self, close_code):
        await self.channel_layer.group_discard(self.room_group_name, self.channel_name)

    async def receive(self, text_data):
        message = json.loads(text_data)["message"]
        await self.channel_layer.group_send(
            self.room_group_name, {"type": "chat.message", "message": message}
        )

    async def chat_message(self, event):
        await self.send(text_data=json.dumps({"message": event["message"]}))


application = ProtocolTypeRouter({"websocket": URLRouter([path("ws/", ChatConsumer.as_asgi())])})
