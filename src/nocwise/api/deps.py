"""Request dependencies as Annotated aliases: the runtime, the clock, the caller and their role."""

from __future__ import annotations

import time
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from nocwise.api.errors import ApiError
from nocwise.runtime.runtime import Runtime
from nocwise.store.state.repositories import Principal, TokenRepository

_bearer = HTTPBearer(auto_error=False, description="An API token from `nocwise token create`")
_CACHE_S = 5.0


def get_runtime(request: Request) -> Runtime:
    """The runtime built by create_app and kept on app.state."""
    runtime = request.app.state.runtime
    assert isinstance(runtime, Runtime)
    return runtime


RuntimeDep = Annotated[Runtime, Depends(get_runtime)]


def authenticate(runtime: Runtime, token: str) -> Principal | None:
    """The principal of a token, with a few seconds of caching (revocation applies within 5 s)."""
    cache: dict[str, tuple[float, Principal | None]] = runtime.__dict__.setdefault(
        "_auth_cache", {}
    )
    hit = cache.get(token)
    now = time.monotonic()
    if hit is not None and now - hit[0] < _CACHE_S:
        return hit[1]
    with runtime.db.session() as s:
        principal = TokenRepository(s).verify(token)
    if len(cache) > 10_000:
        cache.clear()
    cache[token] = (now, principal)
    return principal


def current_principal(
    runtime: RuntimeDep,
    creds: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Principal:
    """The caller, or 401."""
    if creds is None or creds.scheme.lower() != "bearer" or not creds.credentials:
        raise _unauthorized("a bearer token is required")
    principal = authenticate(runtime, creds.credentials)
    if principal is None:
        raise _unauthorized("the token is unknown or revoked")
    return principal


def _unauthorized(detail: str) -> ApiError:
    return ApiError(401, "Unauthorized", detail, headers={"WWW-Authenticate": "Bearer"})


CurrentPrincipal = Annotated[Principal, Depends(current_principal)]


def require_role(role: str) -> object:
    """A dependency that lets through callers with at least ``role``, else 403."""

    def check(principal: CurrentPrincipal) -> Principal:
        if not principal.has(role):
            raise ApiError(
                403, "Forbidden", f"this needs the {role} role; the token is {principal.role}"
            )
        return principal

    return Depends(check)


Viewer = Annotated[Principal, require_role("viewer")]
Operator = Annotated[Principal, require_role("operator")]
Admin = Annotated[Principal, require_role("admin")]
