"""The settings the tests run with: the product's own, over plain http.

The test client and the live server speak http, and with a DATABASE_URL (CI on PostgreSQL) the
product's settings ask for HTTPS; the security middleware reads them once, when the live server
and the API contract's WSGI application are built, so a fixture would be too late. The production
settings have tests of their own (tests/test_deployment.py), in processes of their own.
"""

from oversight.settings import *  # noqa: F403

SECURE_SSL_REDIRECT = False
SESSION_COOKIE_SECURE = CSRF_COOKIE_SECURE = False
SECURE_HSTS_SECONDS = 0

# The test client builds the middleware again for every Client, and WhiteNoise (serving from the finders)
# would read the headers of every static file each time: some 40 ms a client. Looked up at request instead.
WHITENOISE_AUTOREFRESH = True
