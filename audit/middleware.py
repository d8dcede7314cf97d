from auditlog.middleware import AuditlogMiddleware
from django.utils.functional import SimpleLazyObject

from forces.authentication import client_address


class AuditActorMiddleware(AuditlogMiddleware):
    """django-auditlog's middleware, with who and where read as an entry is written.

    django-auditlog reads the user when the request arrives, before DRF has authenticated an
    API token; read lazily, a token caller's user is known by the time anything is saved. The
    address is the one throttling counts, not the first X-Forwarded-For entry a client may forge.
    """

    @staticmethod
    def _get_actor(request):
        return SimpleLazyObject(lambda: request.user)

    @staticmethod
    def _get_remote_addr(request):
        return client_address(request)
