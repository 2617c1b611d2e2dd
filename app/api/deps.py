"""Dependencies every route declares through `Annotated` aliases: the shared components, the settings, and the
caller's owner id (authenticated and rate-limited)."""

from __future__ import annotations

import hashlib
import hmac
from typing import Annotated

from fastapi import Depends, Request

from app.components import Components
from app.config import Settings
from app.errors import Unauthorized

LOCAL_OWNER = "local"


def get_components(request: Request) -> Components:
    components: Components = request.app.state.components
    return components


ComponentsDep = Annotated[Components, Depends(get_components)]


def get_settings(components: ComponentsDep) -> Settings:
    return components.settings


SettingsDep = Annotated[Settings, Depends(get_settings)]


def owner_for_key(key: str | None, key_hashes: dict[str, str]) -> str | None:
    """The owner a key belongs to. Compares hashes in constant time and always against every stored hash, so
    neither the time taken nor an early exit tells an attacker how close a guess was."""
    if not key:
        return None
    presented = hashlib.sha256(key.encode()).hexdigest()
    found: str | None = None
    for stored, owner in key_hashes.items():
        if hmac.compare_digest(presented, stored):
            found = owner
    return found


def current_owner(request: Request, components: ComponentsDep) -> str:
    hashes: dict[str, str] = request.app.state.key_hashes
    if not hashes:
        owner = LOCAL_OWNER
    else:
        auth = request.headers.get("authorization", "")
        scheme, _, token = auth.partition(" ")
        key = token.strip() if scheme.lower() == "bearer" else request.headers.get("x-api-key")
        found = owner_for_key(key, hashes)
        if found is None:
            raise Unauthorized("A valid API key is required: send 'Authorization: Bearer <key>'.")
        owner = found
    components.rate_limiter.check(owner)
    return owner


OwnerDep = Annotated[str, Depends(current_owner)]
