"""Platform registrations from the database, in the shape pylti1p3 asks for them."""

from __future__ import annotations

from typing import Any

from pylti1p3.deployment import Deployment
from pylti1p3.registration import Registration
from pylti1p3.tool_config.abstract import ToolConfAbstract

from ..models import LtiPlatform
from .keys import tool_key


class ToolRegistration(Registration):
    """A registration whose kid is the tutor key's thumbprint (pylti1p3's own leaves the kid out of its headers)."""

    def get_kid(self) -> str | None:
        return str(tool_key()[2]["kid"])

    def get_jwks(self) -> list[Any]:
        return [tool_key()[2]]


def registration_for(platform: LtiPlatform) -> ToolRegistration:
    private_pem, public_pem, _ = tool_key()
    registration = ToolRegistration()
    registration.set_issuer(platform.issuer).set_client_id(platform.client_id)
    registration.set_auth_login_url(platform.auth_login_url).set_auth_token_url(platform.auth_token_url)
    if platform.auth_audience:
        registration.set_auth_audience(platform.auth_audience)
    registration.set_key_set_url(platform.key_set_url or None)
    if platform.public_key:
        # A pasted key stands in for a JWKS URL; the launch's kid must then match this key's thumbprint.
        jwk = Registration.get_jwk(platform.public_key)
        registration.set_key_set({"keys": [jwk]})  # type: ignore[arg-type]
    registration.set_tool_private_key(private_pem).set_tool_public_key(public_pem)
    return registration


def platform_find(iss: str, client_id: str | None) -> LtiPlatform | None:
    """The active registration for this issuer and client id; without a client id, the issuer's only one."""
    platforms = LtiPlatform.objects.filter(issuer=iss, is_active=True)
    if client_id:
        return platforms.filter(client_id=client_id).first()
    found = list(platforms[:2])
    return found[0] if len(found) == 1 else None


class DatabaseToolConf(ToolConfAbstract[Any]):
    """Every issuer may have several client ids (one per registration), so lookups always go by both."""

    def check_iss_has_one_client(self, iss: str) -> bool:
        return False

    def check_iss_has_many_clients(self, iss: str) -> bool:
        return True

    def find_registration_by_issuer(self, iss: str, *args: Any, **kwargs: Any) -> Registration | None:  # type: ignore[override]
        platform = platform_find(iss, None)
        return registration_for(platform) if platform else None

    def find_registration_by_params(  # type: ignore[override]
        self, iss: str, client_id: str | None, *args: Any, **kwargs: Any
    ) -> Registration | None:
        platform = platform_find(iss, client_id)
        return registration_for(platform) if platform else None

    def find_deployment(self, iss: str, deployment_id: str) -> Deployment | None:
        return self.find_deployment_by_params(iss, deployment_id, None)

    def find_deployment_by_params(
        self, iss: str, deployment_id: str, client_id: str | None, *args: Any, **kwargs: Any
    ) -> Deployment | None:
        platform = platform_find(iss, client_id)
        if platform is None or deployment_id not in (platform.deployment_ids or []):
            return None
        return Deployment().set_deployment_id(deployment_id)
