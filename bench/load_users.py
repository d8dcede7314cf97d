"""The users of the load test (a locustfile; bench/load.py runs it). Any answer but 2xx or 3xx is an error.

Two mixes, chosen by the user classes named on locust's command line (bench/load.py --mix):
- staff: PCC staff signed in, browsing the dashboards and drilling down from a bar to a report,
  and analysts' scripts on the API with a token (3 : 2);
- public: readers of one public force page after a news story, each reading it again at once
  (NewsReader); the same number of readers of a static file of the page's size is the baseline
  (StaticFileReader), run after it against the same server.

In the staff mix every user first gets ready (PCC staff sign in, as an office's staff do once a day, and
read the force's areas) and then waits for the others; when the last of LOAD_USERS is ready, the
statistics so far (the sign-ins) are written to LOAD_BEFORE_WINDOW and reset, and the measured window of
LOAD_WINDOW seconds starts for everyone at once. Without LOAD_WINDOW, users start as soon as they are ready.

LOAD_USERNAME, LOAD_PASSWORD: a PCC staff login of LOAD_FORCE; LOAD_TOKEN: an API token of that force;
LOAD_STATIC_PATH: the static file's address.
"""

import json
import os
import random
import re
import time
from pathlib import Path

import gevent
from gevent.event import Event
from locust import FastHttpUser, HttpUser, between, constant, task

FORCE = os.environ.get("LOAD_FORCE", "thames-valley")
PERIODS = ["", "period=last12", "unit=incidents", "sort=rate"]
CHARTS = ["use-over-time", "use-by-area", "disproportionality", "age"]
# What a bar of the area's dashboard leads to (the dashboards' customdata has these filters).
BARS = ["highest_level=fired", "discharge_group=discharge", "ethnicity=black", "age_band=18_34", "outcome=arrested"]
REPORT_LINK = re.compile(r'href="/reports/(\d+)/"')
WINDOW = int(os.environ.get("LOAD_WINDOW") or 0)
USERS = int(os.environ.get("LOAD_USERS") or 0)
STARTED = time.monotonic()


class StartLine:
    """Holds every user until all are ready, then starts the measured window."""

    everyone_ready = Event()
    ready = 0

    @classmethod
    def arrive(cls, user):
        if not WINDOW:
            return
        cls.ready += 1
        if cls.ready == USERS:
            cls.start_window(user.environment)
        cls.everyone_ready.wait()

    @classmethod
    def start_window(cls, environment):
        """Keep what was asked before the window apart, then count afresh for WINDOW seconds."""
        stats = environment.stats
        before = {
            "seconds": round(time.monotonic() - STARTED, 1),
            "pages": [
                {
                    "name": entry.name, "method": entry.method, "requests": entry.num_requests,
                    "failures": entry.num_failures, "median_ms": entry.median_response_time or 0,
                    "p95_ms": entry.get_response_time_percentile(0.95) or 0, "max_ms": entry.max_response_time or 0,
                }
                for entry in stats.entries.values()
            ],
            "errors": [
                {"name": error.name, "error": str(error.error), "occurrences": error.occurrences}
                for error in stats.errors.values()
            ],
        }  # fmt: skip
        Path(os.environ["LOAD_BEFORE_WINDOW"]).write_text(json.dumps(before))
        stats.reset_all()
        cls.everyone_ready.set()
        gevent.spawn_later(WINDOW, environment.runner.quit)


class PccStaff(HttpUser):
    """Reads the force's dashboards and drills down: the force, an area, the reports behind a bar, one report."""

    weight = 3
    wait_time = between(0.5, 2)

    def on_start(self):
        try:
            self.sign_in()
        finally:
            StartLine.arrive(self)

    def sign_in(self):
        self.areas = []
        self.client.get("/accounts/login/", name="/accounts/login/")
        with self.client.post(
            "/accounts/login/",
            {"username": os.environ["LOAD_USERNAME"], "password": os.environ["LOAD_PASSWORD"],
             "csrfmiddlewaretoken": self.client.cookies.get("csrftoken", "")},
            name="/accounts/login/ (sign in)", allow_redirects=False, catch_response=True,
        ) as response:  # fmt: skip
            if response.status_code != 302:
                response.failure(f"signing in answered {response.status_code}")
        areas = self.client.get(f"/api/v1/forces/{FORCE}/areas/?page_size=1000", name="/api/v1/forces/<id>/areas/")
        self.areas = [area["code"] for area in areas.json()["results"]] if areas.ok else []

    @task(4)
    def drill_down(self):
        """Dashboard, then one area's, then the reports behind one of its bars, then one of those reports."""
        self.client.get(f"/forces/{FORCE}/?{random.choice(PERIODS)}", name="/forces/<id>/")  # noqa: S311
        if not self.areas:
            return
        area = random.choice(self.areas)  # noqa: S311 - a page to read, not a secret
        self.client.get(f"/forces/{FORCE}/areas/{area}/", name="/forces/<id>/areas/<code>/")
        bar = random.choice(BARS)  # noqa: S311
        listed = self.client.get(f"/reports/?area={area}&{bar}", name="/reports/?area=…&<bar>")
        reports = REPORT_LINK.findall(listed.text) if listed.ok else []
        if reports:
            self.client.get(f"/reports/{random.choice(reports)}/", name="/reports/<id>/")  # noqa: S311
        if listed.ok and random.random() < 0.3:  # noqa: S311 - some read on, a page older
            older = re.search(r'href="\?([^"]*after=[^"]*)"', listed.text)
            if older:
                self.client.get(f"/reports/?{older.group(1).replace('&amp;', '&')}", name="/reports/ older page")

    @task(2)
    def dashboard(self):
        self.client.get(f"/forces/{FORCE}/?{random.choice(PERIODS)}", name="/forces/<id>/")  # noqa: S311

    @task(1)
    def chart_csv(self):
        chart = random.choice(CHARTS)  # noqa: S311
        self.client.get(f"/forces/{FORCE}/?chart={chart}&format=csv", name="/forces/<id>/?chart=…&format=csv")

    @task(1)
    def areas_side_by_side(self):
        self.client.get(f"/forces/{FORCE}/areas/", name="/forces/<id>/areas/")

    @task(1)
    def compare(self):
        self.client.get("/compare/", name="/compare/")

    @task(1)
    def all_reports(self):
        self.client.get("/reports/", name="/reports/")


class ApiScript(HttpUser):
    """An analyst's script: summaries by month, quarter and area, pages of reports, reference lists."""

    weight = 2
    wait_time = between(0.2, 1)

    def on_start(self):
        self.client.headers["Authorization"] = f"Bearer {os.environ['LOAD_TOKEN']}"
        StartLine.arrive(self)

    @task(4)
    def summaries(self):
        period = random.choice(["month", "quarter", "financial_year"])  # noqa: S311
        self.client.get(f"/api/v1/summaries/?force={FORCE}&period={period}", name="/api/v1/summaries/")

    @task(2)
    def summaries_by_area(self):
        self.client.get(
            f"/api/v1/summaries/?force={FORCE}&by_area=true&period=quarter", name="/api/v1/summaries/ by area"
        )

    @task(3)
    def reports(self):
        """A page of reports, then the next by its cursor, as a script collecting them would."""
        page = self.client.get("/api/v1/reports/?page_size=100&ced_used=true", name="/api/v1/reports/")
        following = page.json().get("next") if page.ok else None
        if following:
            self.client.get(following, name="/api/v1/reports/ next page")

    @task(2)
    def filtered_reports(self):
        bar = random.choice(BARS)  # noqa: S311
        self.client.get(f"/api/v1/reports/?page_size=100&{bar}", name="/api/v1/reports/?<filter>")

    @task(1)
    def reference(self):
        self.client.get("/api/v1/forces/", name="/api/v1/forces/")
        self.client.get("/api/v1/published-findings/", name="/api/v1/published-findings/")


class NewsReader(FastHttpUser):
    """After a news story: one public force page, read again at once by every reader (the worst case)."""

    wait_time = constant(0)

    @task
    def force_page(self):
        self.client.get(f"/public/{FORCE}/", name="/public/<id>/")


class StaticFileReader(FastHttpUser):
    """The baseline of NewsReader: a static file of the public page's size, from the same server."""

    wait_time = constant(0)

    @task
    def static_file(self):
        self.client.get(os.environ["LOAD_STATIC_PATH"], name="static file of the page's size")
