"""Locust users of bench/public_load.py: anonymous readers asking for one path again and again, without pause,
as readers arriving from a news story do (no conditional request: each is a first visit)."""

import os

from locust import FastHttpUser, constant, task

PATH = os.environ["LOAD_PATH"]


class Reader(FastHttpUser):
    wait_time = constant(0)

    @task
    def read(self):
        self.client.get(PATH, name=PATH)
