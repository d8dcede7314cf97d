"""The application's WSGI app with bench/baseline_urls.py as its URLconf (gunicorn baseline_wsgi).

Run with both the project and bench/ on the path: `--chdir . --pythonpath .,bench`.
"""

import os

import django
from django.conf import settings
from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "oversight.settings")
django.setup()
settings.ROOT_URLCONF = "baseline_urls"
application = get_wsgi_application()
