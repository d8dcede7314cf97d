"""The 403, 404 and 500 pages: in the site's layout, saying why in plain words, with a way back."""

import logging

import pytest
from django.urls import path

from oversight.urls import handler403, handler404
from oversight.urls import urlpatterns as site_urlpatterns


def broken_page(request):
    raise RuntimeError("a fault in the page's code")


# This module is also the URL configuration of the 500 test: the site's pages and one that fails.
urlpatterns = [path("broken/", broken_page), *site_urlpatterns]
__all__ = ["handler403", "handler404", "urlpatterns"]


def test_pcc_staff_refused_another_forces_dashboard_are_told_why_inside_the_site(client, pcc_staff, metropolitan):
    client.force_login(pcc_staff)
    response = client.get("/forces/metropolitan/")
    assert response.status_code == 403
    page = response.content.decode()
    assert (
        "Your account is for Thames Valley Police; Metropolitan Police Service&#x27;s figures are on its public" in page
    )
    assert 'aria-label="Main"' in page  # the site's navigation
    assert 'href="/public/"' in page


def test_a_panel_member_refused_the_dashboards_reads_which_roles_they_are_for(client, panel_member):
    client.force_login(panel_member)
    response = client.get("/forces/thames-valley/")
    assert response.status_code == 403
    page = response.content.decode()
    assert "<h1>This page is not for your account</h1>" in page
    assert "The force dashboards are for PCC staff and force data officers." in page


def test_a_refusal_is_logged_as_one_line_with_its_reason(client, pcc_staff, metropolitan, caplog):
    client.force_login(pcc_staff)
    with caplog.at_level(logging.WARNING, logger="django.request"):
        client.get("/forces/metropolitan/")
    refusals = [record for record in caplog.records if record.name == "django.request"]
    assert len(refusals) == 1
    assert refusals[0].exc_info is None
    assert refusals[0].getMessage() == (
        "Forbidden (Permission denied): /forces/metropolitan/: Your account is for Thames Valley Police; "
        "Metropolitan Police Service's figures are on its public page."
    )


def test_an_unknown_address_gets_the_sites_not_found_page(client, forces):
    response = client.get("/no-such-page/")
    assert response.status_code == 404
    page = response.content.decode()
    assert "<h1>Page not found</h1>" in page
    assert "/no-such-page/" in page
    assert 'aria-label="Main"' in page
    assert 'href="/"' in page


@pytest.mark.urls("tests.test_error_pages")
def test_a_fault_gets_the_sites_error_page_without_its_details(client, forces, caplog):
    client.raise_request_exception = False
    with caplog.at_level(logging.CRITICAL, logger="django.request"):
        response = client.get("/broken/")
    assert response.status_code == 500
    page = response.content.decode()
    assert "Something went wrong on our side" in page
    assert "a fault in the page" not in page
    assert 'aria-label="Main"' in page
    assert 'href="/"' in page
