"""The dashboard in a real browser: headless Chromium (Debian's, which .ci/run installs)
driven through Selenium over the pages a user clicks through. Each page's screenshot is kept
(HOLDALL_SCREENSHOTS names a folder; the README's come from there) and checked not blank."""

from __future__ import annotations

import os
import shutil
import struct
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from holdall import Client
from tests.core.test_dashboard import TOKEN, dashboard, numbers

CHROMIUM, CHROMEDRIVER = "/usr/bin/chromium", "/usr/bin/chromedriver"


@pytest.fixture
def browser() -> Iterator[Any]:
    if not (shutil.which(CHROMIUM) and shutil.which(CHROMEDRIVER)):
        pytest.fail(
            "Chromium is not installed: apt-get install chromium chromium-driver "
            "(.ci/run does this)"
        )
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for argument in ("--headless=new", "--no-sandbox", "--disable-gpu", "--window-size=1280,900"):
        options.add_argument(argument)
    driver = webdriver.Chrome(options=options, service=Service(CHROMEDRIVER))
    driver.set_page_load_timeout(120)
    try:
        yield driver
    finally:
        driver.quit()


def _pixels(png: bytes) -> bytes:
    """A PNG's image bytes, unfiltered enough to tell a blank page from one with content."""
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    position, data = 8, b""
    while position < len(png):
        (length,) = struct.unpack(">I", png[position : position + 4])
        kind = png[position + 4 : position + 8]
        if kind == b"IDAT":
            data += png[position + 8 : position + 8 + length]
        position += 12 + length
    return zlib.decompress(data)


def shot(driver: Any, tmp_path: Path, name: str) -> None:
    """Keep the page's screenshot, and check that it shows something."""
    folder = Path(os.environ.get("HOLDALL_SCREENSHOTS", tmp_path))
    folder.mkdir(parents=True, exist_ok=True)
    png = driver.get_screenshot_as_png()
    (folder / f"{name}.png").write_bytes(png)
    assert len(set(_pixels(png))) > 16, f"the {name} page looks blank"


def test_a_user_clicks_from_the_list_to_a_version_its_lineage_and_its_run(
    browser: Any, tmp_path: Path
) -> None:
    from selenium.webdriver.common.by import By

    driver = browser
    client = Client()
    numbers()
    numbers()
    client.save_artifact(
        {"accuracy": 0.93, "labels": ["cat", "dog"]}, "metrics", tags=["production"]
    )
    with dashboard() as served:
        driver.get(served.url)
        rows = driver.find_elements(By.CSS_SELECTOR, "#artifacts tbody tr")
        assert [r.find_element(By.TAG_NAME, "td").text for r in rows] == [
            "metrics",
            "numbers",
            "total",
        ]
        shot(driver, tmp_path, "artifacts")

        driver.find_element(By.LINK_TEXT, "numbers").click()
        assert driver.find_element(By.ID, "count").text == "2 version(s)"
        shot(driver, tmp_path, "versions")
        driver.find_element(By.LINK_TEXT, "2").click()
        assert driver.find_element(By.TAG_NAME, "h1").text == "numbers : 2"
        nodes = driver.find_elements(By.CSS_SELECTOR, "#lineage svg a")
        labels = {node.text for node in nodes}
        assert {"numbers:2", "make_numbers", "total", "total:2"} <= labels, labels
        shot(driver, tmp_path, "version")
        driver.execute_script("document.getElementById('lineage').scrollIntoView()")
        shot(driver, tmp_path, "lineage")
        # Its lineage's nodes are links: the step that used it, to its run.
        next(node for node in nodes if node.text == "total:2").click()
        assert driver.current_url.endswith("/artifacts/total/2")
        steps = driver.find_elements(By.CSS_SELECTOR, "#lineage svg a.step")
        steps[0].click()
        assert "/runs/" in driver.current_url
        cells = driver.find_elements(By.CSS_SELECTOR, "#steps tbody td:first-child")
        assert {c.text for c in cells} == {"make_numbers", "total"}
        shot(driver, tmp_path, "run")

        driver.get(served.url)
        box = driver.find_element(By.NAME, "q")
        box.send_keys("metr")
        box.submit()
        rows = driver.find_elements(By.CSS_SELECTOR, "#artifacts tbody tr")
        assert [r.find_element(By.TAG_NAME, "td").text for r in rows] == ["metrics"]
        driver.find_element(By.LINK_TEXT, "1").click()
        assert '"accuracy": 0.93' in driver.find_element(By.TAG_NAME, "pre").text
        shot(driver, tmp_path, "preview")


def test_without_the_token_the_browser_is_refused_until_it_logs_in(
    browser: Any, tmp_path: Path
) -> None:
    from selenium.webdriver.common.by import By

    driver = browser
    Client().save_artifact({"k": 1}, "secret-project")
    token_file = tmp_path / "token"
    token_file.write_text(TOKEN)
    with dashboard("--host", "0.0.0.0", "--token-file", str(token_file)) as served:
        driver.get(served.url)
        assert "needs its token" in driver.find_element(By.TAG_NAME, "h1").text
        assert "secret-project" not in driver.page_source
        shot(driver, tmp_path, "refused")
        login = served.said.split("log in once at ")[1].split()[0].replace("0.0.0.0", "127.0.0.1")
        driver.get(login)
        assert driver.find_element(By.LINK_TEXT, "secret-project")
