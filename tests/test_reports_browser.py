"""The HTML report in a real browser: headless Chromium (Debian's `chromium`) opens the file, runs its script,
takes a screenshot and dumps the DOM, and the test reads the page's text from that DOM.

Skips with the reason when no Chromium is installed (`apt-get install -y chromium`, or point
PYTEST_BATCH_CHROMIUM at a Chrome/Chromium binary).
"""

from __future__ import annotations

import os
import shutil
import struct
import subprocess
import zlib
from dataclasses import replace
from html.parser import HTMLParser
from pathlib import Path

import pytest
from test_reports import LIBRARY, OVERLAY, XSS, known_observations

from pytest_batch.reports.aggregate import ReportBuilder
from pytest_batch.reports.observations import Observation
from pytest_batch.reports.page import render_html

WIDTH, HEIGHT = 1280, 1800
# would mark the page if the browser ever ran it
ATTACK = (
    "<script>document.documentElement.setAttribute('data-pwned','1')</script>"
    "<img src=x onerror=\"document.documentElement.setAttribute('data-pwned','1')\">"
)


def _chromium() -> str:
    named = os.environ.get("PYTEST_BATCH_CHROMIUM")
    candidates = [named] if named else []
    candidates += ["chromium", "chromium-browser", "google-chrome", "google-chrome-stable", "chrome"]
    for name in candidates:
        found = shutil.which(name) if name else None
        if found:
            return found
    pytest.skip("headless Chromium not found: install Debian's `chromium` (apt-get install -y chromium) "
                "or set PYTEST_BATCH_CHROMIUM to a Chrome/Chromium binary")  # fmt: skip


class _Page(HTMLParser):
    """What the test reads from the dumped DOM: the root's attributes, the operations table, all text."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.root: dict[str, str | None] = {}
        self.table: dict[str, str | None] = {}
        self.heads: list[dict[str, str | None]] = []
        self.rows: list[list[str]] = []
        self.text: list[str] = []
        self.scripts = 0
        self._in_table = self._in_body = False
        self._cell: list[str] | None = None
        self._skip = 0

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        if tag == "html":
            self.root = attributes
        elif tag == "script":
            self.scripts += 1
            self._skip += 1
        elif tag == "style":
            self._skip += 1
        elif tag == "table" and attributes.get("id") == "operations-table":
            self.table, self._in_table = attributes, True
        elif self._in_table and tag == "th":
            self.heads.append(attributes)
        elif self._in_table and tag == "tbody":
            self._in_body = True
        elif self._in_body and tag == "tr":
            self.rows.append([])
        elif self._in_body and tag == "td":
            self._cell = []

    def handle_endtag(self, tag):
        if tag in ("script", "style"):
            self._skip -= 1
        elif tag == "table" and self._in_table:
            self._in_table = self._in_body = False
        elif tag == "td" and self._cell is not None:
            self.rows[-1].append(" ".join("".join(self._cell).split()))
            self._cell = None

    def handle_data(self, data):
        if self._skip:
            return
        self.text.append(data)
        if self._cell is not None:
            self._cell.append(data)

    @property
    def all_text(self) -> str:
        return " ".join(" ".join(self.text).split())


def _open(chromium: str, page: Path, fragment: str, tmp_path: Path, name: str) -> tuple[_Page, Path]:
    shot = tmp_path / f"{name}.png"
    command = [
        chromium, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--hide-scrollbars",
        f"--user-data-dir={tmp_path / ('profile-' + name)}", f"--window-size={WIDTH},{HEIGHT}",
        f"--screenshot={shot}", "--dump-dom", page.as_uri() + fragment,
    ]  # fmt: skip
    done = subprocess.run(command, capture_output=True, text=True, timeout=90, check=False)
    assert done.returncode == 0, done.stderr[-2000:]
    parsed = _Page()
    parsed.feed(done.stdout)
    return parsed, shot


def _png_facts(path: Path) -> tuple[int, int, float]:
    """Width, height and the share of decoded bytes that are not white (a blank page is almost all 0xFF)."""
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    width, height = struct.unpack(">II", data[16:24])
    pos, idat = 8, b""
    while pos < len(data):
        (length,) = struct.unpack(">I", data[pos : pos + 4])
        kind = data[pos + 4 : pos + 8]
        if kind == b"IDAT":
            idat += data[pos + 8 : pos + 8 + length]
        pos += 12 + length
    raw = zlib.decompress(idat)
    return width, height, sum(1 for b in raw[::7] if b != 0xFF) / max(1, len(raw[::7]))


@pytest.fixture(scope="module")
def report_file(tmp_path_factory) -> Path:
    items = known_observations()
    attacked = replace(XSS, message=XSS.message + ATTACK, actual=ATTACK)
    items[3] = Observation(
        "POST", "/jobs", 201, "2025-06-01", "Jobs_CreateJob", findings=(attacked,), source="b.yaml#0"
    )
    builder = ReportBuilder(library=LIBRARY, overlay=OVERLAY)
    builder.files = 2
    builder.add_all(items)
    path = tmp_path_factory.mktemp("html") / "report.html"
    path.write_text(render_html(builder.document()), encoding="utf-8")
    return path


def test_chromium_shows_the_overview_and_the_table_and_sorts_it(report_file, tmp_path):
    chromium = _chromium()
    page, shot = _open(chromium, report_file, "", tmp_path, "default")
    assert page.root.get("data-ready") == "1"  # the page's own script ran
    assert "data-pwned" not in page.root  # the planted markup stayed text
    assert page.scripts == 1
    text = page.all_text
    assert "Batch API conformance" in text and "Overview" in text
    for card in ("7 Batch interactions", "4 with errors", "1 with warnings", "5 distinct findings",
                 "3 operations exercised", "1 other calls skipped"):  # fmt: skip
        assert card in text, card
    assert "3/72 (4.2%)" in text and "3/74 (4.1%)" in text  # operation and status-code coverage
    assert "'7' is not of type 'integer'" in text and "/definitions/BatchJob/properties/priority/type" in text
    assert '<script>alert("pwned")</script>' in text and ATTACK in text  # shown as text, run never
    assert len(page.rows) == 73
    first = page.rows[0]
    assert first[0].startswith("Jobs_GetJob") and first[3] == "3" and first[6] == "2"  # worst first as rendered
    width, height, ink = _png_facts(shot)
    assert (width, height) == (WIDTH, HEIGHT) and ink > 0.02, (width, height, ink)

    sorted_page, shot = _open(chromium, report_file, "#sort=calls:desc", tmp_path, "by-calls")
    assert sorted_page.table.get("data-sorted") == "calls:desc"
    [calls_head] = [h for h in sorted_page.heads if h.get("data-key") == "calls"]
    assert calls_head.get("aria-sort") == "descending"
    calls = [int(row[3]) for row in sorted_page.rows]
    assert calls == sorted(calls, reverse=True) and calls[:5] == [3, 2, 1, 1, 0]
    # ties keep the rendered (worst-first) order
    expected = ["Jobs_GetJob/jobs/", "Pools_GetPool/pools/", "(no documented operation)", "Jobs_CreateJob/jobs"]
    assert [row[0][: len(name)] for row, name in zip(sorted_page.rows, expected)] == expected
    assert shot.stat().st_size > 20_000


def test_chromium_shows_the_probe_verdicts(tmp_path):
    """The probe section renders under the page's CSP: counts per api-version and the rules, worst first."""
    from test_reports_probes import KNOWN_25

    chromium = _chromium()
    builder = ReportBuilder(library=LIBRARY, overlay=OVERLAY)
    planted = {**KNOWN_25[2], "detail": "accepted " + ATTACK}
    builder.add_verdicts([*KNOWN_25[:2], planted, *KNOWN_25[3:]], api_version="2025-06-01", source="p.json")
    path = tmp_path / "probes.html"
    path.write_text(render_html(builder.document()), encoding="utf-8")
    page, _ = _open(chromium, path, "", tmp_path, "probes")
    assert page.root.get("data-ready") == "1" and "data-pwned" not in page.root
    text = page.all_text
    assert "Constraint probes 6 verdicts on 6 rules; worst first." in text
    assert "2025-06-01 6 1 1 1 2 1" in text  # rules probed, then error, stricter, lenient, enforced, skipped
    rules = [text.index(f"{verdict} {rule}") for verdict, rule in (
        ("error", "schedule-id-length"), ("stricter", "job-priority-range"), ("lenient", "task-id-chars"),
        ("enforced", "job-id-length"), ("enforced", "pool-id-length"), ("skipped", "pool-vm-size"))]  # fmt: skip
    assert rules == sorted(rules)
    assert ATTACK in text  # the planted markup is shown as text
