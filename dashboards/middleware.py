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
from django.http import HttpResponse
from django.middleware.clickjacking import XFrameOptionsMiddleware
from django.middleware.common import CommonMiddleware
from django.urls import Resolver404, resolve

from dashboards.cache import public_answer

# The pages open to the public that by_figures_version keeps (dashboards/urls.py).
PUBLIC_PAGES = {"public-index", "public-force"}
PATHS_AT_HAND = 1000


class PublicPageMiddleware:
    """Place it just after WhiteNoise, before the sessions."""

    def __init__(self, get_response):
        self.get_response = get_response
        # The headers the later middleware sets on every page: the Content Security Policy and X-Frame-Options,
        # the same on every answer of this path (made once, in every_page_headers), and Content-Length.
        # SecurityMiddleware and the request id come before this one, and set theirs on its answers as on any.
        self.constant_headers_from = [CSPMiddleware(get_response), XFrameOptionsMiddleware(get_response)]
        self.content_length = CommonMiddleware(get_response)
        self.constant_headers = None
        self.public_pages = {}

    def __call__(self, request):
        answer = self.kept_answer(request)
        return self.get_response(request) if answer is None else answer

    def kept_answer(self, request):
        if request.method not in ("GET", "HEAD"):
            return None
        if settings.SESSION_COOKIE_NAME in request.COOKIES or CookieStorage.cookie_name in request.COOKIES:
            return None
        page = self.public_page(request.path_info)
        if page is None:
            return None
        request.get_host()  # a host not allowed is refused here, as CommonMiddleware refuses it
        answer = public_answer(request, *page)
        if answer is None:
            return None
        for name, value in self.every_page_headers(request).items():
            answer.headers.setdefault(name, value)  # as the middleware does: a header the answer has stays
        return self.content_length.process_response(request, answer)

    def public_page(self, path):
        """(view, its URL's kwargs) of the public page kept by figures version at this path, else None.

        Remembered by path (the public pages are one a force and the index; at most PATHS_AT_HAND): resolving
        the path took a sixth of a kept answer's time.
        """
        page = self.public_pages.get(path)
        if page is None:
            try:
                match = resolve(path)
            except Resolver404:
                return None
            if match.url_name not in PUBLIC_PAGES:
                return None
            if len(self.public_pages) >= PATHS_AT_HAND:
                self.public_pages.clear()
            page = self.public_pages[path] = (match.func, match.kwargs)
        return page

    def every_page_headers(self, request):
        """{name: value} of the headers the later middleware gives every page, whatever it holds.

        The policy has no nonce, and no view's decorator has run on this path to change it or exempt a page:
        each answer would get the same. Building it took a quarter of a kept answer's time (136 of 486 µs).
        """
        if self.constant_headers is None:
            probe = HttpResponse()
            before = dict(probe.headers)
            for middleware in self.constant_headers_from:
                probe = middleware.process_response(request, probe)
            self.constant_headers = {name: value for name, value in probe.headers.items() if before.get(name) != value}
        return self.constant_headers
