import os

from celery import Celery
from celery.signals import task_postrun, task_prerun

from oversight.logging import request_id

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "oversight.settings")

app = Celery("oversight")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@task_prerun.connect
def log_with_task_id(task_id=None, **kwargs):
    # Every line a task logs carries its id, as a request's carry the request's.
    request_id.set(task_id)


@task_postrun.connect
def log_without_task_id(**kwargs):
    request_id.set("-")
