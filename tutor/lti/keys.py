"""The tutor's own RSA key pair: the private half signs what the tutor sends a platform, the public half is its JWKS."""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path
from typing import Any

from django.conf import settings
from jwcrypto.jwk import JWK


class LtiKeyMissing(RuntimeError):
    """No tool key is configured (LTI_PRIVATE_KEY / LTI_PRIVATE_KEY_FILE), so LTI is off."""


@lru_cache(maxsize=4)
def _load(private_pem: str) -> tuple[str, str, dict[str, Any]]:
    try:
        jwk = JWK.from_pem(private_pem.encode())
    except (ValueError, TypeError) as exc:
        raise LtiKeyMissing("the LTI private key is not a PEM RSA private key") from exc
    if not jwk.has_private or jwk.get("kty") != "RSA":
        raise LtiKeyMissing("the LTI private key must be an RSA private key")
    public_pem = jwk.export_to_pem().decode()
    public_jwk: dict[str, Any] = json.loads(jwk.export_public())
    # The thumbprint is stable across restarts, so platforms that cache our JWKS keep matching our tokens' kid.
    public_jwk.update({"kid": jwk.thumbprint(), "alg": "RS256", "use": "sig"})
    return private_pem, public_pem, public_jwk


def tool_key() -> tuple[str, str, dict[str, Any]]:
    """(private PEM, public PEM, public JWK) of the configured tool key; raises LtiKeyMissing when there is none."""
    pem = settings.LTI_PRIVATE_KEY
    if not pem and settings.LTI_PRIVATE_KEY_FILE:
        try:
            pem = Path(settings.LTI_PRIVATE_KEY_FILE).read_text()
        except OSError as exc:
            raise LtiKeyMissing(f"cannot read LTI_PRIVATE_KEY_FILE: {exc}") from exc
    if not pem:
        raise LtiKeyMissing("set LTI_PRIVATE_KEY_FILE (or LTI_PRIVATE_KEY) to enable LTI")
    return _load(pem)


def tool_jwks() -> dict[str, list[dict[str, Any]]]:
    """The public key set platforms fetch to check the tutor's signatures."""
    return {"keys": [tool_key()[2]]}
