import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "oversight.settings")
os.environ.setdefault("OVERSIGHT_PROCESS", "web")  # as wsgi.py
application = get_asgi_application()
