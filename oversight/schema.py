"""The OpenAPI schema's additions to drf-spectacular's (apart from api.py, which DRF loads with its views)."""

from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.openapi import AutoSchema
from drf_spectacular.plumbing import build_bearer_security_scheme_object
from rest_framework import permissions

from oversight.api import ERROR_RESPONSES, ErrorSerializer


class OversightSchema(AutoSchema):
    """drf-spectacular's schema, with the error answers every operation can give."""

    def _get_response_bodies(self, direction="response"):
        responses = super()._get_response_bodies(direction)
        public = permissions.AllowAny in self.view.permission_classes
        for code, (description, example) in ERROR_RESPONSES.items():
            if public and code == 403:
                continue
            body = self._get_response_for_code(ErrorSerializer, str(code))
            # Errors are JSON, whatever was asked for.
            body["content"] = {
                "application/json": {**body["content"]["application/json"], "examples": {"error": {"value": example}}}
            }
            if code == 429:
                body["headers"] = {"Retry-After": {"schema": {"type": "integer"}, "description": "Seconds to wait"}}
            responses.setdefault(str(code), {**body, "description": description})
        for response in responses.values():
            if "text/csv" in response.get("content", {}):
                response["content"]["text/csv"] = {"schema": {"type": "string", "description": "CSV, header first"}}
        return responses


class ApiTokenScheme(OpenApiAuthenticationExtension):
    """How the schema describes API tokens: `Authorization: Bearer <key>`."""

    target_class = "forces.authentication.ApiTokenAuthentication"
    name = "apiToken"

    def get_security_definition(self, auto_schema):
        return {
            **build_bearer_security_scheme_object(header_name="Authorization", token_prefix="Bearer"),  # noqa: S106
            "description": "A key made on your API tokens page (/account/tokens/), scoped to one force.",
        }
