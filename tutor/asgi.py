"""ASGI entry point: HTTP through Django behind a request-body limit, websockets through Channels with session auth
and an origin check."""

import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tutor.settings")
# Django must be set up before the routing (and so the consumers and models) is imported.
django_asgi_app = get_asgi_application()

from channels.auth import AuthMiddlewareStack  # noqa: E402
from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402

from . import daphne_requests  # noqa: E402
from .middleware import RequestBodyLimit, largest_body_allowed  # noqa: E402
from .routing import SameOriginValidator, websocket_urlpatterns  # noqa: E402

# Under Daphne, bodies no page accepts are refused before Daphne stores them (the finer limits: RequestBodyLimit).
daphne_requests.install(max_body_bytes=largest_body_allowed())

application = ProtocolTypeRouter(
    {
        "http": RequestBodyLimit(django_asgi_app),
        "websocket": SameOriginValidator(AuthMiddlewareStack(URLRouter(websocket_urlpatterns))),
    }
)
