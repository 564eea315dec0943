from django.urls import path

from .consumers import CugConsumer

websocket_urlpatterns = [path("ws/", CugConsumer.as_asgi())]
