"""Open a rendered HTML supplement in headless Chromium: report every image's decoded size (or what
another injected script measures: `run_report`), take a screenshot. Used by tests/test_render.py (marker `browser`) and by hand:

    .venv/bin/python tests/browser_check.py results/supplement.html /tmp/shot.png

The page is loaded from a copy that adds (1) a Content-Security-Policy forbidding every network
fetch (images only from data: URIs, styles and scripts only inline), so anything not embedded fails
to load, and (2) a small inline script that writes each <img>'s natural size into the DOM, which
`--dump-dom` then prints.
"""

from __future__ import annotations

import html.parser
import json
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

CHROMIUM_FLAGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--hide-scrollbars", "--mute-audio", "--run-all-compositor-stages-before-draw",
]
_CSP = ('<meta http-equiv="Content-Security-Policy" content="default-src \'none\'; img-src data:; '
        'style-src \'unsafe-inline\'; script-src \'unsafe-inline\'; font-src data:" />')
_REPORT_SCRIPT = """<script>
window.addEventListener('load', function () {
  var imgs = Array.prototype.slice.call(document.images);
  var out = imgs.map(function (im) {
    return {w: im.naturalWidth, h: im.naturalHeight, complete: im.complete,
            shown_w: im.getBoundingClientRect().width, data_uri: im.src.indexOf('data:') === 0};
  });
  var pre = document.createElement('pre');
  pre.id = 'nb-image-report';
  pre.style.display = 'none';
  pre.textContent = JSON.stringify(out);
  document.body.appendChild(pre);
});
</script>"""


def find_chromium() -> str | None:
    """Debian installs `chromium`; some systems call it `chromium-browser`."""
    return shutil.which("chromium") or shutil.which("chromium-browser")


def _instrumented_copy(page: Path, into: Path, script: str) -> Path:
    text = page.read_text(encoding="utf-8")
    head_end = text.index("<head>") + len("<head>")
    text = text[:head_end] + "\n" + _CSP + text[head_end:]
    body_end = text.rindex("</body>")
    text = text[:body_end] + script + "\n" + text[body_end:]
    out = into / "instrumented.html"
    out.write_text(text, encoding="utf-8")
    return out


class _ReportParser(html.parser.HTMLParser):
    def __init__(self, report_id: str) -> None:
        super().__init__()
        self.report_id = report_id
        self.inside = False
        self.text = ""

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "pre" and ("id", self.report_id) in attrs:
            self.inside = True

    def handle_endtag(self, tag: str) -> None:
        if tag == "pre":
            self.inside = False

    def handle_data(self, data: str) -> None:
        if self.inside:
            self.text += data


def _run(chromium: str, args: list[str], profile: Path, timeout: int) -> subprocess.CompletedProcess[str]:
    cmd = [chromium, *CHROMIUM_FLAGS, f"--user-data-dir={profile}", *args]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)


def run_report(page: Path, script: str, report_id: str, screenshot: Path, chromium: str | None = None,
               timeout: int = 90, window: tuple[int, int] = (1280, 2400)) -> object:
    """What `script` (added before </body>, under the no-network policy) writes as JSON into
    <pre id=`report_id`> once `page` has loaded in a `window`-sized headless Chromium; writes a
    screenshot PNG of the page top."""
    chromium = chromium or find_chromium()
    if chromium is None:
        raise FileNotFoundError("chromium not found (run tests/install_browser.sh)")
    size = f"--window-size={window[0]},{window[1]}"
    with tempfile.TemporaryDirectory(prefix="nenbone-chromium-") as tmp_name:
        tmp = Path(tmp_name)
        copy = _instrumented_copy(Path(page), tmp, script)
        url = copy.resolve().as_uri()
        dump = _run(chromium, [size, "--virtual-time-budget=5000", "--dump-dom", url], tmp / "profile-dom", timeout)
        parser = _ReportParser(report_id)
        parser.feed(dump.stdout)
        if not parser.text:
            raise RuntimeError(f"chromium printed no {report_id} (exit {dump.returncode}):\n{dump.stderr[-2000:]}")
        shot = _run(chromium, [size, f"--screenshot={screenshot}", "--virtual-time-budget=5000", url],
                    tmp / "profile-shot", timeout)
        if not Path(screenshot).is_file():
            raise RuntimeError(f"chromium wrote no screenshot (exit {shot.returncode}):\n{shot.stderr[-2000:]}")
    return json.loads(parser.text)


def check_page(page: Path, screenshot: Path, chromium: str | None = None, timeout: int = 90,
               window: tuple[int, int] = (1280, 2400)) -> list[dict[str, object]]:
    """Image report of `page` as the browser decoded it; writes a screenshot PNG of the page top."""
    report = run_report(page, _REPORT_SCRIPT, "nb-image-report", screenshot, chromium, timeout, window)
    assert isinstance(report, list)
    return report


if __name__ == "__main__":
    report = check_page(Path(sys.argv[1]), Path(sys.argv[2]))
    print(json.dumps(report, indent=1))
