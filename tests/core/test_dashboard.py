"""`holdall dashboard`, served by its own process on 127.0.0.1 and read over HTTP: what the
pages show, what they escape, and who they refuse."""

from __future__ import annotations

import http.client
import os
import subprocess
import sys
import threading
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import NamedTuple

import numpy
import pytest

from holdall import pipeline
from holdall.client import Client
from tests.conftest import holdall_process
from tests.core.test_cli_artifact_store import error_of
from tests.core.test_metadata import holding_the_lock
from tests.fixtures.integrations import require
from tests.fixtures.legacy import SECRETS_KEY, lay_out
from tests.fixtures.pipelines import make_numbers, total

TOKEN = "a-token-of-thirty-two-characters"
# A pipeline that runs until it is stopped, saving all the while.
SAVING = """
from holdall import pipeline, step
@step
def make(i: int) -> dict:
    return {"i": i}
@pipeline
def loop(i: int) -> None:
    make(i)
loop(0)
print("saving", flush=True)
i = 1
while True:
    loop(i)
    i += 1
"""
SECRET = "wJalrXUtnFEMI-secret-access-key"


@pipeline
def numbers() -> None:
    total(make_numbers())


class Served(NamedTuple):
    url: str  # as printed: http://HOST:PORT/
    said: str  # the line it printed on starting
    errors: list[str]  # what it wrote to stderr, once it stopped


@contextmanager
def dashboard(*args: str, env: dict[str, str] | None = None, before: str = "") -> Iterator[Served]:
    """The dashboard on a free port, once it has said where (it listens before it says).
    `before`: Python the server's process runs first (to make an integration unimportable)."""
    command = f"{before}\nfrom holdall.cli.main import main\nmain()"
    process = subprocess.Popen(
        [sys.executable, "-c", command, "dashboard", "--port", "0", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, **(env or {})},
    )
    errors: list[str] = []
    try:
        assert process.stdout is not None
        said = process.stdout.readline()
        assert said.startswith("holdall dashboard: http://"), said + process.communicate()[1]
        url = said.split()[2].rstrip(";")
        yield Served(url.replace("0.0.0.0", "127.0.0.1"), said, errors)
    finally:
        process.terminate()
        _, err = process.communicate(timeout=60)
        assert TOKEN not in err
        errors.append(err)


class Answer(NamedTuple):
    status: int
    body: str
    headers: dict[str, str]


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: object, **kwargs: object) -> None:
        return None


def get(url: str, headers: dict[str, str] | None = None) -> Answer:
    opener = urllib.request.build_opener(_NoRedirect)
    request = urllib.request.Request(url, headers=headers or {})
    try:
        with opener.open(request, timeout=60) as response:
            return Answer(response.status, response.read().decode(), dict(response.headers))
    except urllib.error.HTTPError as exc:
        return Answer(exc.code, exc.read().decode(), dict(exc.headers))


def test_pages_show_artifacts_versions_and_files_escaping_what_they_show(tmp_path: Path) -> None:
    client = Client()
    client.save_artifact({"k": 1}, "metrics")
    folder = tmp_path / "data"
    folder.mkdir()
    (folder / "<img src=x onerror=alert(1)>.txt").write_text("x")
    saved = client.save_artifact(folder, "dataset", tags=["production"])
    client.save_artifact(folder, "dataset")
    with dashboard() as served:
        assert "(this machine only)" in served.said
        listed = get(served.url)
        assert listed.status == 200
        assert '<a href="/artifacts/dataset/2">2</a>' in listed.body
        assert ">metrics</a>" in listed.body
        versions = get(served.url + "artifacts/dataset")
        assert versions.status == 200 and "production" in versions.body
        page = get(served.url + "artifacts/dataset/1")
        assert page.status == 200
        assert saved.checksum in page.body and saved.id in page.body
        assert "&lt;img src=x onerror=alert(1)&gt;.txt" in page.body
        assert "<img" not in page.body
        assert get(served.url + "static/holdall.css").status == 200
        missing = get(served.url + "artifacts/nothing")
        assert missing.status == 404 and "no artifact called &#39;nothing&#39;" in missing.body
        assert get(served.url + "artifacts/dataset/9").status == 404


def _version_numbers(body: str) -> list[int]:
    table = body.split('<table id="versions">')[1].split("</table>")[0]
    cells = table.split('<td><a href="/artifacts/many/')[1:]
    return [int(cell.split('"')[0]) for cell in cells]


def test_versions_are_paged_sorted_and_filtered_and_artifacts_searched() -> None:
    client = Client()
    for i in range(1, 121):
        client.save_artifact(i, "many", tags=["even"] if i % 2 == 0 else [])
    client.save_artifact(0, "other")
    tomorrow = (datetime.now(timezone.utc) + timedelta(days=1)).date().isoformat()
    with dashboard() as served:
        first = get(served.url + "artifacts/many").body
        assert "120 version(s), page 1 of 3" in first
        assert _version_numbers(first) == list(range(120, 70, -1))
        assert 'href="?order=newest&amp;page=2" rel="next"' in first
        last = get(served.url + "artifacts/many?page=3").body
        assert _version_numbers(last) == list(range(20, 0, -1)) and 'rel="next"' not in last
        oldest = get(served.url + "artifacts/many?order=oldest").body
        assert _version_numbers(oldest)[:3] == [1, 2, 3]
        even = get(served.url + "artifacts/many?tag=even&page=2").body
        assert "60 version(s), page 2 of 2" in even
        assert _version_numbers(even) == list(range(20, 0, -2))
        later = get(served.url + f"artifacts/many?since={tomorrow}").body
        assert "0 version(s)" in later
        assert _version_numbers(get(served.url + "artifacts/many?page=abc").body)[0] == 120
        found = get(served.url + "?q=man").body
        assert ">many</a>" in found and ">other</a>" not in found
        assert "<td>even</td>" in found  # the latest version's tags
        assert "No artifact" in get(served.url + "?q=%25").body  # a literal %, no wildcard


def test_runs_with_their_steps_and_stores_with_their_secrets_masked() -> None:
    require("holdall_s3")
    client = Client()
    client.register_artifact_store(
        "cloud",
        "s3",
        path="s3://some-bucket/p",
        config={"aws_access_key_id": "AKIDEXAMPLE", "aws_secret_access_key": SECRET},
    )
    numbers()
    run = client.list_pipeline_runs()[0]
    with dashboard() as served:
        stores = get(served.url + "stores")
        assert stores.status == 200
        assert "<code>s3://some-bucket/p</code>" in stores.body
        assert "aws_secret_access_key=[HIDDEN]" in stores.body and SECRET not in stores.body
        assert "aws_access_key_id=AKIDEXAMPLE" in stores.body
        assert "<td>default</td><td>default</td><td>active</td>" in stores.body
        runs = get(served.url + "runs")
        assert f'<a href="/runs/{run.id}">{run.name}</a>' in runs.body
        assert "completed" in runs.body
        steps = get(served.url + f"runs/{run.id}")
        assert steps.status == 200
        assert "<td>make_numbers</td>" in steps.body and "<td>total</td>" in steps.body
        assert 'numbers: <a href="/artifacts/numbers/1">numbers:1</a>' in steps.body
        assert get(served.url + "runs/no-such-run").status == 404
        made = get(served.url + "artifacts/numbers/1")  # made by one step, used by the next
        assert '<div id="lineage"><svg' in made.body
        assert '<a href="/artifacts/total/1"' in made.body  # downstream, a link
        assert f'<a href="/runs/{run.id}" class="step"' in made.body
        assert f'step total (as numbers) of run <a href="/runs/{run.id}">' in made.body
        assert f'step make_numbers of run <a href="/runs/{run.id}">' in made.body
        alone = get(served.url + "artifacts/total/1/lineage.svg")
        assert alone.headers["content-type"] == "image/svg+xml"
        assert alone.body.startswith("<svg") and ">numbers:1<" in alone.body


def test_any_address_but_loopback_needs_a_token_which_it_never_shows(tmp_path: Path) -> None:
    refused = holdall_process("dashboard", "--host", "0.0.0.0", "--port", "0")
    assert refused.code == 1 and refused.out == ""
    err = error_of(refused)
    assert "would answer anyone who reaches 0.0.0.0 without a token" in err
    assert "--token-file" in err

    token_file = tmp_path / "token"
    token_file.write_text("short\n")
    assert "too short" in error_of(
        holdall_process("dashboard", "--host", "0.0.0.0", "--token-file", str(token_file))
    )
    token_file.write_text(TOKEN + "\n")
    with dashboard("--host", "0.0.0.0", "--token-file", str(token_file)) as served:
        assert TOKEN not in served.said
        assert get(served.url).status == 401
        assert get(served.url + "static/holdall.css").status == 401
        assert get(served.url, {"Authorization": "Bearer wrong-token"}).status == 401
        assert get(served.url, {"Authorization": f"Bearer {TOKEN}"}).status == 200

        login = served.said.split("log in once at ")[1].split()[0]
        opened = get(login.replace("0.0.0.0", "127.0.0.1"))
        assert opened.status == 303 and opened.headers["location"] == "/"
        cookie = opened.headers["set-cookie"].split(";")[0]
        assert "httponly" in opened.headers["set-cookie"].lower()
        assert get(served.url, {"Cookie": cookie}).status == 200
        assert get(login.replace("0.0.0.0", "127.0.0.1")).status == 401  # once only
        assert get(served.url, {"Cookie": "holdall_session=guessed"}).status == 401


class Planted:
    """Unpickling it creates a file: a preview that unpickled would leave that file."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self) -> tuple[object, tuple[str, str]]:
        return (open, (str(self.marker), "w"))


def raw_get(url: str, path: str) -> tuple[int, bytes]:
    """GET `path` exactly as written (no client tidies `..` away)."""
    address = urllib.parse.urlsplit(url)
    connection = http.client.HTTPConnection(address.hostname or "", address.port, timeout=60)
    try:
        connection.request("GET", path)
        response = connection.getresponse()
        return response.status, response.read()
    finally:
        connection.close()


def test_previews_run_no_code_and_downloads_never_hand_out_a_damaged_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HOLDALL_ALLOW_PICKLE", "1")  # to save the planted pickle
    client = Client()
    metrics = client.save_artifact({"accuracy": 0.9, "<b>": "x"}, "metrics")
    client.save_artifact(numpy.arange(12).reshape(3, 4), "weights")
    marker = tmp_path / "unpickled"
    client.save_artifact(Planted(marker), "planted")
    gone = client.save_artifact({"k": 1}, "gone")
    (Path(gone.uri) / next(iter(gone.files))).unlink()
    with dashboard() as served:
        page = get(served.url + "artifacts/metrics/1").body
        assert "&#34;accuracy&#34;: 0.9" in page and "&#34;&lt;b&gt;&#34;" in page
        array = get(served.url + "artifacts/weights/1").body
        assert "shape (3, 4), dtype int64" in array and "first values: [0, 1, 2, 3" in array
        planted = get(served.url + "artifacts/planted/1").body
        assert "no preview of this kind of file" in planted
        assert "holdall.load_artifact(&#39;planted&#39;, version=1)" in planted
        assert not marker.exists()
        assert "the file is missing from the store" in get(served.url + "artifacts/gone/1").body

        name = next(iter(metrics.files))
        stored = (Path(metrics.uri) / name).read_bytes()
        download = get(served.url + f"artifacts/metrics/1/files/{name}")
        assert download.status == 200 and download.body == stored.decode()
        assert "attachment" in download.headers["content-disposition"]
        for path in ("../../../../etc/passwd", "%2e%2e/%2e%2e/etc/passwd", "nothing.json"):
            status, body = raw_get(served.url, f"/artifacts/metrics/1/files/{path}")
            assert status == 404 and b"root:" not in body

        (Path(metrics.uri) / name).write_bytes(stored.replace(b"0.9", b"0.1"))  # same size
        try:
            damaged = get(served.url + f"artifacts/metrics/1/files/{name}")
        except (http.client.HTTPException, OSError):
            pass  # cut off: the transfer never completes
        else:
            assert damaged.body != stored.replace(b"0.9", b"0.1").decode(), "arrived whole"
    assert "Traceback" not in served.errors[0]
    assert "a request failed: download cut off: checksum mismatch" in served.errors[0]


def test_a_store_whose_integration_cannot_load_and_a_held_database_are_said_or_read(
    tmp_path: Path, config_dir: Path
) -> None:
    require("holdall_s3")
    client = Client()
    client.register_artifact_store("cloud", "s3", path="s3://some-bucket/p")
    moved = client.save_artifact({"k": 1}, "moved")
    store_id = client.get_artifact_store("cloud").id
    with client.database.transaction() as connection:  # its record says it is in the bucket
        connection.exec_driver_sql(
            f"UPDATE artifact_versions SET artifact_store_id = '{store_id}' WHERE id = '{moved.id}'"
        )
    Client.close_shared()
    without_s3 = "import sys; sys.modules['holdall_s3'] = None"
    with dashboard(before=without_s3, env={"HOLDALL_DB_BUSY_TIMEOUT": "1"}) as served:
        page = get(served.url + "artifacts/moved/1")
        assert page.status == 200  # the record is there; the value cannot be read
        assert "flavor &#39;s3&#39; is unavailable" in page.body and "holdall-s3" in page.body
        assert ">cloud<" in get(served.url + "stores").body
        download = get(served.url + "artifacts/moved/1/files/value.json")
        assert download.status == 503 and "holdall-s3" in download.body

        with holding_the_lock(config_dir / "holdall.db"):
            assert get(served.url).status == 200  # reads never wait for a writer
    assert "Traceback" not in served.errors[0]


def test_fifty_requests_at_once_while_a_pipeline_saves() -> None:
    Client().save_artifact({"k": 0}, "steady")
    saver = subprocess.Popen(
        [sys.executable, "-c", SAVING],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert saver.stdout is not None and saver.stdout.readline().strip() == "saving"
        with dashboard() as served:
            answers: list[int] = []

            def ask(i: int) -> None:
                path = ("", "artifacts/steady", "artifacts/steady/1", "runs", "stores")[i % 5]
                answers.append(get(served.url + path).status)

            askers = [threading.Thread(target=ask, args=(i,)) for i in range(50)]
            for asker in askers:
                asker.start()
            for asker in askers:
                asker.join(120)
            assert answers == [200] * 50
            assert saver.poll() is None  # all of that while the pipeline was still saving
    finally:
        saver.terminate()
        saver.wait(60)


def test_a_database_that_another_process_holds_while_it_needs_upgrading(
    tmp_path: Path, config_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HOLDALL_SECRETS_KEY", SECRETS_KEY)
    database = config_dir / "holdall.db"
    lay_out("v0.2.0", "sqlite", tmp_path / "legacy", config_dir, f"sqlite:///{database}")
    with holding_the_lock(database) as holder:
        with dashboard(env={"HOLDALL_DB_BUSY_TIMEOUT": "1"}) as served:
            waiting = get(served.url)  # its schema is older: this upgrade waits for the lock
            assert waiting.status == 503 and "is busy" in waiting.body
            assert "HOLDALL_DB_BUSY_TIMEOUT=300" in waiting.body
            holder.kill()
            holder.wait()
            upgraded = get(served.url)
            assert upgraded.status == 200 and ">config</a>" in upgraded.body
        assert "Traceback" not in served.errors[0]
