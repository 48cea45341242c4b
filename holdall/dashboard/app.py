"""The dashboard's web application (Starlette, run by uvicorn): its routes, and the check
every request passes first. Starlette because it is small and typed, and runs the pages'
blocking reads (SQLAlchemy, files) in a thread pool without an async database driver."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlencode

from jinja2 import Environment, FileSystemLoader, select_autoescape
from markupsafe import Markup
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.base import BaseHTTPMiddleware
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response, StreamingResponse
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from holdall.artifacts.drawing import render_svg
from holdall.artifacts.lineage import version_node
from holdall.artifacts.reading import stored_file, verified_pieces
from holdall.artifacts.views import ArtifactVersion
from holdall.cli.progress import size_text
from holdall.client import Client
from holdall.dashboard.access import SESSION_COOKIE, Access
from holdall.dashboard.previews import previews
from holdall.errors import HoldallError, NotFoundError

HERE = Path(__file__).parent


def _templates() -> Environment:
    # Every value a page shows is escaped: an artifact called <script> is text.
    environment = Environment(
        loader=FileSystemLoader(HERE / "templates"),
        autoescape=select_autoescape(default=True),
    )
    environment.filters["size"] = size_text
    environment.filters["when"] = _when
    environment.filters["took"] = _took
    return environment


PAGE = 50  # versions a page


@dataclass(frozen=True)
class Filters:
    """What an artifact's versions page was asked for; what it cannot read is left out."""

    tag: str = ""
    since: datetime | None = None
    until: datetime | None = None
    newest_first: bool = True
    page: int = 1

    @classmethod
    def of(cls, query: Mapping[str, str]) -> Filters:
        page = query.get("page", "1")
        return cls(
            tag=query.get("tag", "").strip(),
            since=_day(query.get("since", "")),
            until=_day(query.get("until", ""), after=True),
            newest_first=query.get("order", "newest") != "oldest",
            page=max(1, int(page)) if page.isdigit() else 1,
        )

    @property
    def since_day(self) -> str:
        return self.since.date().isoformat() if self.since else ""

    @property
    def until_day(self) -> str:
        return (self.until - timedelta(days=1)).date().isoformat() if self.until else ""

    def link(self, **changes: Any) -> str:
        """This page's query string, with `changes`."""
        values = {
            "tag": self.tag,
            "since": self.since_day,
            "until": self.until_day,
            "order": "newest" if self.newest_first else "oldest",
            "page": str(self.page),
        }
        values.update({key: str(value) for key, value in changes.items()})
        return "?" + urlencode({key: value for key, value in values.items() if value})


def _day(text: str, after: bool = False) -> datetime | None:
    """A YYYY-MM-DD date as the start of that day in UTC (of the next, `after`), as versions
    record their times."""
    try:
        day = datetime.strptime(text.strip(), "%Y-%m-%d")
    except ValueError:
        return None
    return day + timedelta(days=1) if after else day


class DownloadCutOff(Exception):
    """A download that failed once its response had begun: the connection is dropped (the
    file never arrives whole) and the server's output says why, in one line."""


def _cut_off_on_failure(pieces: Iterator[bytes]) -> Iterator[bytes]:
    try:
        yield from pieces
    except HoldallError as exc:  # not for the error page: the response has begun
        raise DownloadCutOff(f"download cut off: {exc.message}") from None


def _when(moment: datetime | None) -> str:
    return moment.strftime("%Y-%m-%d %H:%M:%S") if moment else ""


def _took(span: tuple[datetime, datetime | None]) -> str:
    start, end = span
    return f"{(end - start).total_seconds():.1f} s" if end else "running"


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
        search = request.query_params.get("q", "")
        return page("artifacts.html", artifacts=client.artifact_summaries(search), search=search)

    def versions(request: Request) -> Response:
        name = request.path_params["name"]
        asked = Filters.of(request.query_params)
        found, total = client.page_artifact_versions(
            name,
            tag=asked.tag or None,
            since=asked.since,
            until=asked.until,
            newest_first=asked.newest_first,
            offset=(asked.page - 1) * PAGE,
            limit=PAGE,
        )
        pages = max(1, -(-total // PAGE))
        return page(
            "versions.html", name=name, versions=found, total=total, asked=asked, pages=pages
        )

    def shown_version(request: Request) -> tuple[ArtifactVersion, str]:
        """The version a page is about (a deleted one's tombstone too), and its lineage
        drawn."""
        params = request.path_params
        found = client.get_artifact_version(params["name"], params["version"], True)
        return found, render_svg(client.lineage_graph(found), highlight=version_node(found.id))

    def version(request: Request) -> Response:
        found, picture = shown_version(request)
        shown, problem = [], ""
        if not found.is_deleted and found.artifact_store_id:
            try:
                shown = previews(found, client.stores.by_id(found.artifact_store_id))
            except HoldallError as exc:  # its store cannot be reached, or is not installed
                problem = str(exc)
        return page(
            "version.html",
            version=found,
            lineage=Markup(picture),
            used=found.used_by,
            producer=found.producer_step,
            previews=shown,
            problem=problem,
        )

    def download(request: Request) -> Response:
        params = request.path_params
        found = client.get_artifact_version(params["name"], params["version"])
        path = params["path"]
        stored_file(found, path)  # only the manifest's files, before anything is read
        store = client.stores.by_id(found.artifact_store_id or "")
        # No length announced: a file found damaged at its end is cut off, never complete.
        return StreamingResponse(
            _cut_off_on_failure(verified_pieces(found, store, path)),
            media_type="application/octet-stream",
            headers={"content-disposition": f"attachment; filename*=UTF-8''{quote(path)}"},
        )

    def lineage_svg(request: Request) -> Response:
        return Response(shown_version(request)[1], media_type="image/svg+xml")

    def stores(request: Request) -> Response:
        active = client.active_stack.model.name
        rows = []
        for model in client.list_artifact_stores():
            usage = client.get_artifact_store_usage(model.name)
            rows.append(
                {
                    "model": model,
                    "config": model.shown_settings,
                    "versions": sum(u.versions for u in usage),
                    "size": sum(u.size for u in usage),
                }
            )
        return page("stores.html", stacks=client.list_stacks(), active=active, stores=rows)

    def runs(request: Request) -> Response:
        return page("runs.html", runs=list(reversed(client.list_pipeline_runs())))

    def run(request: Request) -> Response:
        found = client.get_pipeline_run(request.path_params["run"])
        steps = [(step, step.inputs, step.outputs) for step in found.steps.values()]
        return page("run.html", run=found, steps=steps)

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

    async def failed(request: Request, exc: Exception) -> Response:
        # What the CLI would say (the database busy or being upgraded, a store whose
        # integration is not installed): the page says it, and the server goes on.
        return page("failed.html", 503, message=str(exc))

    return Starlette(
        routes=[
            Route("/", artifacts),
            Route("/artifacts/{name}", versions),
            Route("/artifacts/{name}/{version:int}", version),
            Route("/artifacts/{name}/{version:int}/lineage.svg", lineage_svg),
            Route("/artifacts/{name}/{version:int}/files/{path:path}", download),
            Route("/stores", stores),
            Route("/runs", runs),
            Route("/runs/{run}", run),
            Route("/login", login),
            Mount("/static", StaticFiles(directory=HERE / "static"), name="static"),
        ],
        middleware=[Middleware(_Guard, access=access, refused=refused)],
        exception_handlers={NotFoundError: not_found, 404: not_found, HoldallError: failed},
    )
