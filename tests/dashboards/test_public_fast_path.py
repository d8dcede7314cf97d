"""The public pages' fast path (dashboards/middleware.py): an anonymous reader of a kept public page is answered
before the sessions, with the same page and headers as the normal way; anyone else goes the normal way.

A request answered by the fast path never reached the session middleware: it has no `session`."""

import pytest
from django.conf import settings
from django.core.cache import cache, caches

from dashboards.cache import PAGES_AT_HAND
from tests.dashboards.test_cached_pages import CHANGES, MET, met_figures, sign_in, staff  # noqa: F401 - a fixture

# Every test: the Met with one imported file, summarised.
pytestmark = pytest.mark.usefixtures("met_figures")

PAGES = ["/public/", f"/public/{MET}/", f"/public/{MET}/?year=2020", f"/public/{MET}/?format=csv&chart=use-over-time"]
SECURITY_HEADERS = [
    "Content-Security-Policy", "X-Frame-Options", "X-Content-Type-Options", "Referrer-Policy",
    "Cross-Origin-Opener-Policy",
]  # fmt: skip


def went_the_fast_way(response):
    return not hasattr(response.wsgi_request, "session")


def headers(response):
    """The answer's headers, but its request's own id."""
    return {name: value for name, value in response.headers.items() if name != "X-Request-ID"}


@pytest.mark.parametrize("path", PAGES)
def test_an_anonymous_second_read_is_served_the_fast_way_with_the_same_page_and_headers(client, path):
    first = client.get(path)
    assert first.status_code == 200
    assert not went_the_fast_way(first)  # not kept yet: the view made it, and kept it
    again = client.get(path)
    assert went_the_fast_way(again)
    assert (again.status_code, again.content) == (200, first.content)
    assert headers(again) == headers(first)
    assert again["Cache-Control"] == "public, max-age=60"


def test_the_fast_way_answers_304_with_the_same_headers_as_the_normal_way(client):
    path = f"/public/{MET}/"
    page = client.get(path)
    fast = client.get(path, HTTP_IF_NONE_MATCH=page["ETag"])
    client.cookies[settings.SESSION_COOKIE_NAME] = "no-such-session"
    normal = client.get(path, HTTP_IF_NONE_MATCH=page["ETag"])
    assert went_the_fast_way(fast) and not went_the_fast_way(normal)
    assert fast.status_code == normal.status_code == 304
    assert headers(fast) == headers(normal)


def test_a_head_request_is_served_the_fast_way(client):
    page = client.get(f"/public/{MET}/")
    head = client.head(f"/public/{MET}/")
    assert went_the_fast_way(head)
    assert (head.status_code, head["ETag"]) == (200, page["ETag"])


@pytest.mark.parametrize("secure", [False, True], ids=["http", "https"])
def test_the_security_headers_are_the_same_both_ways(client, settings, secure):
    settings.SECURE_HSTS_SECONDS = 3600
    path = f"/public/{MET}/"
    normal = client.get(path, secure=secure)
    fast = client.get(path, secure=secure)
    assert went_the_fast_way(fast)
    names = SECURITY_HEADERS + ["Strict-Transport-Security"] * secure
    assert {name: fast[name] for name in names} == {name: normal[name] for name in names}
    assert "Strict-Transport-Security" in fast or not secure


@pytest.mark.parametrize("cookie", [settings.SESSION_COOKIE_NAME, "messages"])
def test_a_request_with_a_session_or_messages_cookie_goes_the_normal_way(client, cookie):
    first = client.get(f"/public/{MET}/")
    client.cookies[cookie] = "anything"
    again = client.get(f"/public/{MET}/")
    assert not went_the_fast_way(again)
    assert again.content == first.content


def test_a_signed_in_reader_is_never_served_the_page_kept_for_the_public(client, metropolitan):
    path = f"/public/{MET}/"
    public = client.get(path)
    assert went_the_fast_way(client.get(path))
    user = staff(metropolitan)
    sign_in(client, user)
    for headers_sent in ({}, {"HTTP_IF_NONE_MATCH": public["ETag"]}):
        page = client.get(path, **headers_sent)
        assert not went_the_fast_way(page)
        assert page.status_code == 200
        assert page["Cache-Control"] == "private, no-cache"
        assert user.username.encode() in page.content


def test_a_page_kept_for_a_signed_in_reader_is_never_served_the_fast_way(client, metropolitan):
    user = staff(metropolitan)
    sign_in(client, user)
    client.get(f"/public/{MET}/")
    client.logout()
    page = client.get(f"/public/{MET}/")
    assert user.username.encode() not in page.content
    assert page["Cache-Control"] == "public, max-age=60"


def test_a_page_open_only_to_signed_in_readers_is_not_answered_the_fast_way(client):
    answer = client.get(f"/forces/{MET}/")
    assert answer.status_code == 302
    assert not went_the_fast_way(answer)


def test_a_host_not_allowed_is_refused_the_fast_way_too(client):
    client.get(f"/public/{MET}/")
    assert client.get(f"/public/{MET}/", HTTP_HOST="elsewhere.example").status_code == 400


@pytest.mark.parametrize("change", CHANGES, ids=lambda change: change.__name__)
def test_a_new_figures_version_is_never_served_an_old_page(
    change, lambeth, client, tmp_path, django_capture_on_commit_callbacks
):
    paths = ["/public/", f"/public/{MET}/"]
    before = {path: client.get(path) for path in paths}
    assert all(went_the_fast_way(client.get(path)) for path in paths)
    with django_capture_on_commit_callbacks(execute=True):
        change(tmp_path, lambeth)
    served = {path: client.get(path) for path in paths}
    conditional = {path: client.get(path, HTTP_IF_NONE_MATCH=before[path]["ETag"]) for path in paths}
    cache.clear()
    made_now = {path: client.get(path).content for path in paths}
    assert {path: answer.content for path, answer in served.items()} == made_now
    assert {path: answer.status_code for path, answer in conditional.items()} == dict.fromkeys(paths, 200)
    assert made_now != {path: answer.content for path, answer in before.items()}, "the test proves nothing"


def test_a_thread_keeps_a_few_pages_at_hand_and_serves_each_as_the_cache_holds_it(client):
    paths = [f"/public/{MET}/?year={year}" for year in range(2010, 2010 + PAGES_AT_HAND + 4)]
    made = {path: client.get(path) for path in paths}
    assert {answer.status_code for answer in made.values()} == {200}
    again = {path: client.get(path) for path in reversed(paths)}
    assert all(went_the_fast_way(answer) for answer in again.values())
    assert {path: answer.content for path, answer in again.items()} == {path: made[path].content for path in paths}
    assert len(vars(caches["default"])["pages_at_hand"]) == PAGES_AT_HAND
