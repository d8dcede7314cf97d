"""API tokens and what a caller may do with them.

Apart from api.py because DRF imports the default authentication and permission classes
while its views load: this module must not import views.
"""

from django.utils import timezone
from rest_framework import authentication, exceptions, permissions
from rest_framework.settings import api_settings

from forces.models import ApiToken
from forces.roles import force_of, keep_role, role_name_of
from forces.services import token_digest

# A token's last use is written at most this often, not on every request.
LAST_USED_RESOLUTION_SECONDS = 60


class ApiTokenAuthentication(authentication.BaseAuthentication):
    """`Authorization: Bearer <key>`, with a key made on the user's API tokens page."""

    def authenticate(self, request):
        parts = authentication.get_authorization_header(request).split()
        if not parts or parts[0].lower() not in (b"bearer", b"token"):
            return None
        if len(parts) != 2:
            raise exceptions.AuthenticationFailed("Send the token as 'Authorization: Bearer <key>'.")
        digest = token_digest(parts[1].decode(errors="replace"))
        try:
            # get(), not first(): the digest is unique, and first() would order by the user's name.
            token = (
                ApiToken.objects.select_related("user__force_scope__force")
                .annotate(role_name=role_name_of("user"))
                .get(key_digest=digest)
            )
        except ApiToken.DoesNotExist:
            raise exceptions.AuthenticationFailed("This token is not known.") from None
        if token.revoked_at is not None:
            raise exceptions.AuthenticationFailed(f"This token was revoked on {token.revoked_at:%d %B %Y}.")
        user = token.user
        keep_role(user, token.role_name)
        if not user.is_active:
            raise exceptions.AuthenticationFailed("The account this token belongs to is disabled.")
        # A user moved to another force takes no token of the old one along.
        if not user.is_superuser and getattr(force_of(user), "pk", None) != token.force_id:
            raise exceptions.AuthenticationFailed("This token is for a force your account no longer works with.")
        now = timezone.now()
        if token.last_used_at is None or (now - token.last_used_at).total_seconds() > LAST_USED_RESOLUTION_SECONDS:
            ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
        return user, token

    def authenticate_header(self, request):
        return 'Bearer realm="api"'


def token_of(request):
    return request.auth if isinstance(request.auth, ApiToken) else None


def scope_force_id(request):
    """The force a caller's records come from: the token's, else the user's (None: a superuser's session)."""
    token = token_of(request)
    if token:
        return token.force_id
    force = force_of(request.user)
    return force.pk if force else None


class TokenAccess(permissions.BasePermission):
    """A read-only token reads; only a read-write token, or a browser session, writes."""

    message = "This token is read-only; make a read-write token for this."

    def has_permission(self, request, view):
        token = token_of(request)
        return request.method in permissions.SAFE_METHODS or token is None or not token.read_only


def client_address(request):
    """The caller's address as the API's throttling counts it, for sign-in throttling too.

    Behind DJANGO_NUM_PROXIES proxies, the address the outermost of ours saw in X-Forwarded-For;
    otherwise the socket's, which a client cannot forge.
    """
    remote = request.META.get("REMOTE_ADDR")
    forwarded = request.META.get("HTTP_X_FORWARDED_FOR")
    proxies = api_settings.NUM_PROXIES
    if not proxies or not forwarded:
        return remote
    addresses = [address.strip() for address in forwarded.split(",")]
    return addresses[-min(proxies, len(addresses))]
