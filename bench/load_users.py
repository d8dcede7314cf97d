"""The users of the load test (a locustfile; bench/load.py runs it): PCC staff on the dashboards, scripts on
the API with a token, and the public on the transparency pages. Any answer but 2xx or 3xx is an error.

LOAD_USERNAME, LOAD_PASSWORD: a PCC staff login of LOAD_FORCE; LOAD_TOKEN: an API token of that force.
"""

import os
import random

from locust import HttpUser, between, task

FORCE = os.environ.get("LOAD_FORCE", "thames-valley")
PERIODS = ["", "period=last12", "unit=incidents", "sort=rate"]
CHARTS = ["use-over-time", "use-by-area", "disproportionality", "age"]


class PccStaff(HttpUser):
    """Reads the force's dashboards, their CSVs, the comparisons, and the reports behind a bar."""

    weight = 3
    wait_time = between(0.5, 2)

    def on_start(self):
        self.client.get("/accounts/login/", name="/accounts/login/")
        response = self.client.post(
            "/accounts/login/",
            {"username": os.environ["LOAD_USERNAME"], "password": os.environ["LOAD_PASSWORD"],
             "csrfmiddlewaretoken": self.client.cookies.get("csrftoken", "")},
            name="/accounts/login/ (sign in)", allow_redirects=False,
        )  # fmt: skip
        if response.status_code != 302:
            response.failure(f"signing in answered {response.status_code}")
        areas = self.client.get(f"/api/v1/forces/{FORCE}/areas/?page_size=1000", name="/api/v1/forces/<id>/areas/")
        self.areas = [area["code"] for area in areas.json()["results"]] if areas.ok else []

    @task(4)
    def dashboard(self):
        self.client.get(f"/forces/{FORCE}/?{random.choice(PERIODS)}", name="/forces/<id>/")  # noqa: S311

    @task(2)
    def area_dashboard(self):
        if self.areas:
            area = random.choice(self.areas)  # noqa: S311 - a page to read, not a secret
            self.client.get(f"/forces/{FORCE}/areas/{area}/", name="/forces/<id>/areas/<code>/")

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
    def reports_behind_a_bar(self):
        self.client.get("/reports/?highest_level=fired", name="/reports/?highest_level=…")


class ApiScript(HttpUser):
    """An analyst's script: summaries by month, quarter and area, a page of reports, reference lists."""

    weight = 2
    wait_time = between(0.2, 1)

    def on_start(self):
        self.client.headers["Authorization"] = f"Bearer {os.environ['LOAD_TOKEN']}"

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
        self.client.get("/api/v1/reports/?page_size=100&ced_used=true", name="/api/v1/reports/")

    @task(1)
    def reference(self):
        self.client.get("/api/v1/forces/", name="/api/v1/forces/")
        self.client.get("/api/v1/published-findings/", name="/api/v1/published-findings/")


class Public(HttpUser):
    """A member of the public on the transparency pages."""

    weight = 1
    wait_time = between(1, 3)

    @task(3)
    def force_page(self):
        self.client.get(f"/public/{FORCE}/", name="/public/<id>/")

    @task(1)
    def panels(self):
        self.client.get(f"/scrutiny/public/{FORCE}/", name="/scrutiny/public/<id>/")

    @task(1)
    def counting_rules(self):
        self.client.get("/counting-rules/", name="/counting-rules/")
