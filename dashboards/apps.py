from django.apps import AppConfig


class DashboardsConfig(AppConfig):
    """The pages that combine the apps: force and area dashboards, compare, public pages, quarterly reports,
    demo data. It imports forces, incidents and scrutiny; none of them imports it."""

    name = "dashboards"
