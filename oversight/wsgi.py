import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "oversight.settings")
# The web's own settings (a statement timeout): the worker and the commands run long statements by design.
os.environ.setdefault("OVERSIGHT_PROCESS", "web")
application = get_wsgi_application()
