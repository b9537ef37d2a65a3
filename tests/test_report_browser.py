"""The report in a real browser: headless Chromium draws it (a screenshot that is
not blank), reads it (the DOM names every overdue task and the plan, and holds no
script however hostile a note) and prints it (a PDF of at least one page).

Skipped only where Chromium is missing and CI is not set; in CI a missing Chromium
fails (.ci/run installs Debian's package)."""

from __future__ import annotations

import os
import re
import shutil
import struct
import subprocess
import zlib
from pathlib import Path

import pytest

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
AS_OF = "2014-02-01"

if CHROMIUM is None:
    if os.environ.get("CI"):
        pytest.fail("CI is set but chromium is not installed (.ci/run installs it)", pytrace=False)
    pytest.skip("chromium is not installed (apt-get install chromium)", allow_module_level=True)


def chromium(tmp_path: Path, *args: str) -> subprocess.CompletedProcess:
    """Headless Chromium as root, offline, with a profile of its own."""
    profile = tmp_path / "profile"
    return subprocess.run(
        [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         f"--user-data-dir={profile}", *args],
        capture_output=True, text=True, timeout=120)


def make_report(cli, tmp_path: Path, *options: str) -> Path:
    target = tmp_path / "report.html"
    cli(*options, "report", "--as-of", AS_OF, "-o", target)
    return target


def screenshot(cli, tmp_path: Path, png: Path, *options: str) -> Path:
    """The report as Chromium draws it at 1400×1000 (the route docs/report.png takes)."""
    report = make_report(cli, tmp_path, *options)
    done = chromium(tmp_path, f"--screenshot={png}", "--window-size=1400,1000", report.as_uri())
    assert png.exists(), done.stderr
    return png


def png_pixels(data: bytes) -> tuple[int, int, set[bytes]]:
    """Width, height and the distinct pixel values of an 8-bit RGB(A) PNG, decoded with zlib."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    position, idat, header = 8, b"", None
    while position < len(data):
        length, kind = struct.unpack(">I4s", data[position:position + 8])
        body = data[position + 8:position + 8 + length]
        if kind == b"IHDR":
            header = struct.unpack(">IIBBBBB", body)
        elif kind == b"IDAT":
            idat += body
        position += 12 + length
    width, height, depth, colour, *_ = header
    assert depth == 8 and colour in (2, 6), header
    size = 3 if colour == 2 else 4
    raw = zlib.decompress(idat)
    stride = width * size
    previous = bytearray(stride)
    pixels: set[bytes] = set()
    for row in range(height):
        start = row * (stride + 1)
        kind, line = raw[start], bytearray(raw[start + 1:start + 1 + stride])
        for i in range(stride):  # undo the PNG filter of this row
            left = line[i - size] if i >= size else 0
            up = previous[i]
            corner = previous[i - size] if i >= size else 0
            if kind == 1:
                line[i] = (line[i] + left) & 0xFF
            elif kind == 2:
                line[i] = (line[i] + up) & 0xFF
            elif kind == 3:
                line[i] = (line[i] + (left + up) // 2) & 0xFF
            elif kind == 4:
                guess = left + up - corner
                best = min((abs(guess - left), 0, left), (abs(guess - up), 1, up), (abs(guess - corner), 2, corner))
                line[i] = (line[i] + best[2]) & 0xFF
        pixels.update(bytes(line[i:i + size]) for i in range(0, stride, size * 7))  # every 7th pixel is plenty
        previous = line
    return width, height, pixels


@pytest.fixture
def hostile(cli, loaded):
    """Progress with a note that would run a script if it reached the page as markup."""
    cli("record", "21", "--status", "done", "--on", "2013-09-15", "--evidence", "Quyết định 1234/QĐ-UBND")
    cli("record", "3", "--status", "blocked", "--on", "2014-01-15",
        "--note", "<script>alert(1)</script></td></tr></table><img src=x onerror=alert(2)>")
    return loaded


def test_the_screenshot_is_a_drawn_page(cli, hostile, tmp_path):
    width, height, pixels = png_pixels(screenshot(cli, tmp_path, tmp_path / "report.png").read_bytes())
    assert (width, height) == (1400, 1000)
    # A blank page has one value; text, borders and the coloured bar give many.
    assert len(pixels) > 50
    assert {bytes((0xb3, 0x26, 0x1e))} & {p[:3] for p in pixels}  # the bar's overdue red


def test_the_dom_names_every_overdue_task_and_holds_no_script(cli, hostile, tmp_path):
    report = make_report(cli, tmp_path)
    dom = chromium(tmp_path, "--dump-dom", report.as_uri())
    assert dom.returncode == 0, dom.stderr
    overdue = {row["task"] for row in cli.json("overdue", "--as-of", AS_OF)}
    assert overdue and "3" in overdue
    cells = set(re.findall(r'<td class="task">([^<]*)</td>', dom.stdout))
    assert overdue <= cells
    assert "55/KH-UBND" in dom.stdout
    assert not re.search(r"<script\b", dom.stdout, re.I) and "<img" not in dom.stdout
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in dom.stdout


def test_it_prints_to_pdf(cli, hostile, tmp_path):
    report = make_report(cli, tmp_path, "--lang", "vi")
    pdf = tmp_path / "report.pdf"
    done = chromium(tmp_path, f"--print-to-pdf={pdf}", "--no-pdf-header-footer", report.as_uri())
    assert pdf.exists(), done.stderr
    data = pdf.read_bytes()
    assert data.startswith(b"%PDF-")
    pages = len(re.findall(rb"/Type\s*/Page(?!s)", data))
    assert pages >= 1
    # Every page A4 landscape (@page): 842 × 595 points.
    boxes = re.findall(rb"/MediaBox\s*\[\s*0 0 ([\d.]+) ([\d.]+)\s*\]", data)
    assert boxes and all(abs(float(w) - 842) < 1 and abs(float(h) - 595) < 1 for w, h in boxes), boxes
