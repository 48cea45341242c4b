"""The dashboard's web application (Starlette, run by uvicorn): its routes, and the check
every request passes first. Starlette because it is small and typed, and runs the pages'
blocking reads (SQLAlchemy, files) in a thread pool without an async database driver."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, select_autoescape
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.base import BaseHTTPMiddleware
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from holdall.cli.progress import size_text
from holdall.client import Client
from holdall.dashboard.access import SESSION_COOKIE, Access
from holdall.errors import HoldallError, NotFoundError

HERE = Path(__file__).parent


def _templates() -> Environment:
    # Every value a page shows is escaped: an artifact called <script> is text.
    environment = Environment(
        loader=FileSystemLoader(HERE / "templates"),
        autoescape=select_autoescape(default=True),
    )
    environment.filters["size"] = size_text
    return environment


class _Guard(BaseHTTPMiddleware):
    """Refuses every request the access rules do not let through, static files included."""

    def __init__(self, app: Any, access: Access, refused: Callable[[], Response]) -> None:
        super().__init__(app)
        self.access = access
        self.refused = refused

    async def dispatch(
        self, request: Request, call_next: Callable[[Request], Awaitable[Response]]
    ) -> Response:
        if request.url.path == "/login" or self.access.allows(
            request.headers.get("authorization"), request.cookies.get(SESSION_COOKIE)
        ):
            return await call_next(request)
        return self.refused()


def make_app(client: Client, access: Access) -> Starlette:
    templates = _templates()

    def page(template: str, status: int = 200, **values: Any) -> HTMLResponse:
        return HTMLResponse(templates.get_template(template).render(**values), status_code=status)

    def refused() -> Response:
        return page("refused.html", 401)

    def artifacts(request: Request) -> Response:
        rows = [
            {"name": name, "latest": latest, "versions": count}
            for name, latest, count in client.list_artifacts()
        ]
        return page("artifacts.html", artifacts=rows)

    def versions(request: Request) -> Response:
        name = request.path_params["name"]
        return page("versions.html", name=name, versions=client.list_artifact_versions(name))

    def version(request: Request) -> Response:
        params = request.path_params
        found = client.get_artifact_version(params["name"], params["version"])
        return page("version.html", version=found)

    def login(request: Request) -> Response:
        session = access.log_in(request.query_params.get("code", ""))
        if session is None:
            return refused()
        response = RedirectResponse("/", status_code=303)
        response.set_cookie(SESSION_COOKIE, session, httponly=True, samesite="strict")
        return response

    async def not_found(request: Request, exc: Exception) -> Response:
        message = str(exc) if isinstance(exc, HoldallError) else "no such page"
        return page("missing.html", 404, message=message)

    return Starlette(
        routes=[
            Route("/", artifacts),
            Route("/artifacts/{name}", versions),
            Route("/artifacts/{name}/{version:int}", version),
            Route("/login", login),
            Mount("/static", StaticFiles(directory=HERE / "static"), name="static"),
        ],
        middleware=[Middleware(_Guard, access=access, refused=refused)],
        exception_handlers={NotFoundError: not_found, 404: not_found},
    )
