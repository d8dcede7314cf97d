"""One line per event on standard output, each with the id of the request, task or command it belongs to.

The id is a context variable: the web sets it per request (RequestIdMiddleware, keeping a caller's
X-Request-ID), the worker per task (its Celery task id) and manage.py per command, so every line
one piece of work logs, however deep, can be found together.
"""

import contextvars
import logging
import re
import uuid

request_id = contextvars.ContextVar("request_id", default="-")
# What a caller's X-Request-ID may be to be kept: short, and nothing that could forge a log line.
GIVEN_ID = re.compile(r"[A-Za-z0-9._:-]{1,100}")


def new_id():
    return uuid.uuid4().hex


class RequestIdFilter(logging.Filter):
    def filter(self, record):
        record.request_id = request_id.get()
        return True


class OneLineFormatter(logging.Formatter):
    """A traceback stays on its event's line: a log collector then keeps the two together."""

    def format(self, record):
        return super().format(record).replace("\r", "").replace("\n", " | ")


class RequestIdMiddleware:
    """Gives each request its id (the caller's X-Request-ID when it sends a sound one) and says it in the answer."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        given = request.headers.get("X-Request-ID", "")
        request.id = given if GIVEN_ID.fullmatch(given) else new_id()
        token = request_id.set(request.id)
        try:
            response = self.get_response(request)
        finally:
            request_id.reset(token)
        response["X-Request-ID"] = request.id
        return response
