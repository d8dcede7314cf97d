"""Pages kept in the cache by figures version, with their HTTP validators.

A page is built once per (figures version, path and parameters, reader) and served from the cache
after that; a browser that has it gets 304 Not Modified. The reader is "the public" for anonymous
requests, whose pages carry nothing of anyone, and otherwise the user, with the role, force and CSRF
secret the page was made for: a signed-in page carries the user's name and a form token, and
what it shows depends on the role, so it is never served to anyone else.

The figures of a signed-in page are the same for every user who sees them alike, so they are made
once (shared_figures) for every reader of the same role, force scope and rank, and the page around
them (name, form token, messages) is made for each request.
"""

from functools import wraps

from django.contrib import messages
from django.core.cache import cache, caches
from django.http import HttpResponse
from django.utils.cache import get_conditional_response, patch_vary_headers
from django.utils.http import http_date

from forces.models import ForceScope
from forces.roles import role_of
from forces.versions import figures_version
from oversight.cache import ANSWER_SECONDS, answer_key, http_seconds

# Anonymous readers (and the proxies between) may keep a public page this long without asking again.
PUBLIC_MAX_AGE = 60
# The headers of a page worth keeping with it: a CSV's file name.
KEPT_HEADERS = ("Content-Type", "Content-Disposition")
# How many of the pages it last read from the cache a thread keeps at hand (see kept_page).
PAGES_AT_HAND = 16


def reader_of(request):
    """Whose view of the page this is: None for the public, else what makes the user's page theirs."""
    if not request.user.is_authenticated:
        return None
    return (request.user.pk, *figures_scope(request), request.META.get("CSRF_COOKIE"))


def figures_scope(request):
    """What decides the figures a signed-in user is shown: role, force and rank, never the user."""
    user = request.user
    try:
        force_id = user.force_scope.force_id  # the id is enough: the force itself is not loaded
    except ForceScope.DoesNotExist:
        force_id = None
    return (role_of(user), force_id, user.is_superuser, user.is_staff)


def shared_figures(request, kind, build, *, force_id):
    """What `build()` makes of the figures of this request's page (of `kind`), made once per figures version
    (of the force, or of every force for None), path and parameters, and figures scope, and kept for all who
    share them.

    build must use nothing of the user's own (name, form token, messages): render its template without the
    request. The version is read before `build` reads anything, so what is kept is never older than it.
    """
    version, _ = figures_version(force_id=force_id)
    key = "figures:" + answer_key(kind, request, version, figures_scope(request))
    kept = cache.get(key)
    if kept is None:
        kept = build()
        cache.set(key, kept, ANSWER_SECONDS)
    return kept


def by_figures_version(*, of_force):
    """Keep the view's 200 answers under the figures version, and answer conditional requests from it.

    of_force: whether the page shows one force's figures (the `force_id` of the URL), or else those of
    every force together. Put it inside the access decorators (login_required): the view's own
    permission checks run on every miss, and a hit is only ever the same reader's earlier answer.
    """

    def decorate(view):
        @wraps(view)
        def versioned(request, *args, **kwargs):
            # The version is read before anything else: an answer kept under it is never older than it.
            version, changed_at = figures_version(force_id=kwargs["force_id"] if of_force else None)
            reader = reader_of(request)
            key = answer_key(view.__name__, request, version, reader)
            last_modified = http_seconds(changed_at)
            not_modified = get_conditional_response(request, etag=f'"{key}"', last_modified=last_modified)
            if not_modified is not None:
                return with_validators(not_modified, key, last_modified, reader)
            # Messages waiting for the reader are shown on the next page: that page is made, not kept.
            waiting = len(messages.get_messages(request))
            response = None if waiting else kept_page(key)
            if response is None:
                had_csrf_secret = "CSRF_COOKIE" in request.META
                response = view(request, *args, **kwargs)
                if keepable(request, response, reader, had_csrf_secret) and not waiting:
                    headers = {name: response[name] for name in KEPT_HEADERS if name in response}
                    cache.set(f"page:{key}", (response.status_code, headers, response.content), ANSWER_SECONDS)
            return with_validators(response, key, last_modified, reader) if response.status_code == 200 else response

        versioned.figures_of_force = of_force  # type: ignore[attr-defined]  # for the public pages' fast path
        return versioned

    return decorate


def kept_page(key):
    """The page kept under this key, or None.

    A page is read far more often than its version changes (a news spike is one page read by everyone): each
    thread keeps the last few it read at hand, beside the cache they came from, and serves them without a round
    trip to Redis. They are never stale, since the key holds the version. They are kept on the thread's cache
    backend (Django makes one per thread, and new ones when the cache's settings change), so they go with it.
    """
    at_hand = vars(caches["default"]).setdefault("pages_at_hand", {})
    kept = at_hand.get(key)
    if kept is None:
        kept = cache.get(f"page:{key}")
        if kept is None:
            return None
        if len(at_hand) >= PAGES_AT_HAND:
            del at_hand[next(iter(at_hand))]
        at_hand[key] = kept
    status, headers, content = kept
    return HttpResponse(content, status=status, headers=headers)


def public_answer(request, view, kwargs):
    """What by_figures_version answers an anonymous reader from the cache (the kept page, or 304), else None.

    view: a view kept by figures version, kwargs: its URL's. The same key and validators as the view's own,
    for the public (reader None); the figures version is read first.
    """
    version, changed_at = figures_version(force_id=kwargs["force_id"] if view.figures_of_force else None)
    key = answer_key(view.__name__, request, version, None)
    last_modified = http_seconds(changed_at)
    response = get_conditional_response(request, etag=f'"{key}"', last_modified=last_modified) or kept_page(key)
    return None if response is None else with_validators(response, key, last_modified, None)


def keepable(request, response, reader, had_csrf_secret):
    """Whether an answer may be kept: a whole 200 that sets no cookie, made for a reader known by its key.

    A page that made a new CSRF secret (the reader had none) carries a token of a cookie not yet sent;
    a public page that used one at all would hand one reader's token to the next.
    """
    if response.status_code != 200 or response.streaming or response.cookies:
        return False
    if not had_csrf_secret and "CSRF_COOKIE" in request.META:
        return False
    return not (reader is None and request.META.get("CSRF_COOKIE_NEEDS_UPDATE"))


def with_validators(response, key, last_modified, reader):
    response["ETag"] = f'"{key}"'
    if last_modified is not None:
        response["Last-Modified"] = http_date(last_modified)
    # Public pages may be kept a little by anyone; a user's page only by their browser, which asks again first.
    response["Cache-Control"] = f"public, max-age={PUBLIC_MAX_AGE}" if reader is None else "private, no-cache"
    patch_vary_headers(response, ["Cookie"])
    return response
