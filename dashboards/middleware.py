"""The public pages' fast path: an anonymous reader of a kept public page is answered from the cache
before the middleware that only a signed-in reader needs (sessions, CSRF, authentication, messages,
audit, axes) and before the view's decorators, as WhiteNoise answers a static file.

It answers exactly what by_figures_version would (dashboards/cache.py): the page kept for the public,
under the same key (figures version read first, path and parameters) with the same validators, or a
304. Anything else goes the normal way: a request with a session cookie (signed in, or about to be),
with messages waiting, of another method or page, or whose page is not kept yet (the view then keeps
it). The middleware after this one that adds headers to every page adds them here too, the same way.
"""

from csp.middleware import CSPMiddleware
from django.conf import settings
from django.contrib.messages.storage.cookie import CookieStorage
from django.middleware.clickjacking import XFrameOptionsMiddleware
from django.middleware.common import CommonMiddleware
from django.urls import Resolver404, resolve

from dashboards.cache import public_answer

# The pages open to the public that by_figures_version keeps (dashboards/urls.py).
PUBLIC_PAGES = {"public-index", "public-force"}


class PublicPageMiddleware:
    """Place it just after WhiteNoise, before the sessions."""

    def __init__(self, get_response):
        self.get_response = get_response
        # The headers the later middleware sets on every page, in its order: the Content Security Policy,
        # X-Frame-Options and Content-Length. SecurityMiddleware and the request id come before this one,
        # and set theirs on its answers as on any.
        self.headers_from = [
            middleware(get_response) for middleware in (CSPMiddleware, XFrameOptionsMiddleware, CommonMiddleware)
        ]

    def __call__(self, request):
        answer = self.kept_answer(request)
        return self.get_response(request) if answer is None else answer

    def kept_answer(self, request):
        if request.method not in ("GET", "HEAD"):
            return None
        if settings.SESSION_COOKIE_NAME in request.COOKIES or CookieStorage.cookie_name in request.COOKIES:
            return None
        try:
            match = resolve(request.path_info)
        except Resolver404:
            return None
        if match.url_name not in PUBLIC_PAGES:
            return None
        request.get_host()  # a host not allowed is refused here, as CommonMiddleware refuses it
        answer = public_answer(request, match.func, match.kwargs)
        if answer is not None:
            for middleware in self.headers_from:
                answer = middleware.process_response(request, answer)
        return answer
