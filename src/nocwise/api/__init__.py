"""The HTTP API: FastAPI routers, pydantic schemas at the edge, bearer auth, audit, problem+json."""
