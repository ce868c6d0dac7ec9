"""Integration: the rendered supplement's layout as a reader sees it, from the PDF's text positions
(poppler's pdftotext -bbox-layout) and the HTML: figures and tables numbered in order of first
citation and cited near where they stand, figure text at print size on the body's type scale, no
blank third of a page, no heading or table caption stranded at the foot of a page, everything
within the text column, the renderer named once. The browser test loads the HTML in Chromium."""

from __future__ import annotations

import html as html_lib
import re
import shutil
import statistics
import subprocess
import zlib
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import pytest

pytestmark = pytest.mark.integration

# template.typ: A4, margins x 2.3 cm, top 2.7 cm, bottom 2.4 cm; body 10.5 pt, captions 9 pt,
# tables 8.8 pt. Figure text may be a step below the tables, never above the captions.
CM = 72 / 2.54
PAGE_W, PAGE_H = 595.276, 841.89
LEFT, RIGHT, TOP, BOTTOM = 2.3 * CM, PAGE_W - 2.3 * CM, 2.7 * CM, PAGE_H - 2.4 * CM
FIGURE_PT = (7.5, 9.0)


@dataclass(frozen=True)
class Line:
    page: int
    text: str
    x0: float
    y0: float
    x1: float
    y1: float


@dataclass(frozen=True)
class Word:
    text: str
    x0: float
    y0: float
    x1: float
    y1: float


def _need_poppler() -> None:
    if shutil.which("pdftotext") is None:
        pytest.skip("pdftotext (Debian poppler-utils) is not installed: bash tests/install_browser.sh --poppler")


def _bbox(pdf: Path) -> str:
    return subprocess.run(["pdftotext", "-bbox-layout", str(pdf), "-"], capture_output=True, text=True,
                          check=True).stdout


_WORD = re.compile(r'<word xMin="([\d.]+)" yMin="([\d.]+)" xMax="([\d.]+)" yMax="([\d.]+)">(.*?)</word>')


def pdf_pages(pdf: Path) -> list[tuple[list[Line], list[Word]]]:
    """Per page: the text lines (words joined, in reading order) and the words with their boxes."""
    pages = []
    for page in _bbox(pdf).split("<page ")[1:]:
        lines, words = [], []
        for line in re.findall(r"<line [^>]*>(.*?)</line>", page, re.S):
            ws = [Word(html_lib.unescape(t).replace("\xa0", " "), float(a), float(b), float(c), float(d))
                  for a, b, c, d, t in _WORD.findall(line)]
            if ws:
                words += ws
                lines.append(Line(len(pages) + 1, " ".join(w.text for w in ws), min(w.x0 for w in ws),
                                  min(w.y0 for w in ws), max(w.x1 for w in ws), max(w.y1 for w in ws)))
        pages.append((lines, words))
    return pages


def _body_lines(lines: list[Line]) -> list[Line]:
    """Lines inside the type area (not the running header or the page number)."""
    return [ln for ln in lines if TOP - 4 <= ln.y0 and ln.y1 <= BOTTOM + 4]


@pytest.fixture(scope="module")
def supplement(workflow_run):
    _need_poppler()
    out = workflow_run / "results" / "supplement"
    html = (out / "supplement.html").read_text(encoding="utf-8")
    return {"html": html, "pdf": out / "supplement.pdf", "pages": pdf_pages(out / "supplement.pdf"),
            "figures": workflow_run / "results" / "figures"}


# ------------------------------------------------------------------ numbering and citation order

_XREF = re.compile(r'<a href="#(?:fig|tbl)-[^"]*" class="nb-xref">(Figure|Table)(?:\xa0|&nbsp;| )(\d+)</a>')
_LABEL = re.compile(r'<span class="nb-caption-label"><strong>(Figure|Table)(?:\xa0|&nbsp;| )(\d+)\.</strong></span>'
                    r'\s*([^<]{0,60})')


def html_order(html: str, kind: str) -> tuple[dict[int, int], dict[int, int], dict[int, str]]:
    """First citation offset, caption offset and caption opening words of each Figure/Table k."""
    cited: dict[int, int] = {}
    for m in _XREF.finditer(html):
        if m.group(1) == kind:
            cited.setdefault(int(m.group(2)), m.start())
    shown, opening = {}, {}
    for m in _LABEL.finditer(html):
        if m.group(1) == kind:
            shown[int(m.group(2))] = m.start()
            opening[int(m.group(2))] = " ".join(html_lib.unescape(m.group(3)).split()[:3])
    return cited, shown, opening


@pytest.mark.parametrize("kind", ["Figure", "Table"])
def test_numbered_in_order_of_first_citation_and_cited_before_shown_html(supplement, kind):
    cited, shown, _ = html_order(supplement["html"], kind)
    assert shown and sorted(shown) == list(range(1, len(shown) + 1))
    assert set(cited) == set(shown), f"{kind}s never cited: {sorted(set(shown) - set(cited))}"
    first = sorted(cited, key=cited.get)
    assert first == sorted(first), f"{kind}s in order of first citation: {first}"
    late = [k for k in shown if cited[k] > shown[k]]
    assert not late, f"{kind}s shown before they are first cited: {late}"


def _pdf_positions(supplement, kind: str) -> tuple[dict[int, tuple[int, int]], dict[int, int]]:
    """(page, line index) of each Figure/Table k's first citation, and the page of its caption."""
    _, shown, opening = html_order(supplement["html"], kind)
    cited: dict[int, tuple[int, int]] = {}
    caption_page: dict[int, int] = {}
    for page, (lines, _) in enumerate(supplement["pages"], start=1):
        for i, ln in enumerate(lines):
            for m in re.finditer(rf"\b{kind} (\d+)(\.?)", ln.text):
                k = int(m.group(1))
                rest = ln.text[m.end():].strip() + " " + (lines[i + 1].text if i + 1 < len(lines) else "")
                if m.group(2) and k in opening and rest.startswith(opening[k].split()[0]) and k not in caption_page:
                    caption_page[k] = page
                else:
                    cited.setdefault(k, (page, i))
    assert set(caption_page) == set(shown), f"{kind} captions not found in the PDF text: {set(shown) - set(caption_page)}"
    return cited, caption_page


def in_appendix_as_cited(html: str, kind: str) -> set[int]:
    """Figures/Tables k shown under an "Appendix" part whose first citation sends the reader there
    ("Table 13, in the appendix, ..."): the body's two-page rule does not apply to them."""
    cited, shown, _ = html_order(html, kind)
    starts = [m.start() for m in re.finditer(r'<h1 id="[^"]*"[^>]*>\s*Appendix', html)]
    ends = [m.start() for m in re.finditer(r"<h1 ", html)]
    out = set()
    for k, at in shown.items():
        part = max((h for h in ends if h < at), default=-1)
        sent_there = re.match(r"(?:</a>)?[^.<]{0,40}\bin the appendix\b", html[html.index("</a>", cited.get(k, 0)):],
                              re.I)
        if part in starts and k in cited and sent_there:
            out.add(k)
    return out


@pytest.mark.parametrize("kind", ["Figure", "Table"])
def test_numbered_in_order_of_first_citation_and_placed_near_it_pdf(supplement, kind):
    """In the order of their first citation, and on the page of it or one of the next two; a
    Figure/Table in an appendix that its citation says is in the appendix may be further on."""
    cited, caption_page = _pdf_positions(supplement, kind)
    assert set(cited) >= set(caption_page)
    first = sorted(caption_page, key=lambda k: cited[k])
    assert first == sorted(first), f"{kind}s in order of first citation in the PDF: {first}"
    appendix = in_appendix_as_cited(supplement["html"], kind)
    far = {k: (cited[k][0], caption_page[k]) for k in caption_page
           if not 0 <= caption_page[k] - cited[k][0] <= (len(supplement["pages"]) if k in appendix else 2)}
    assert not far, f"{kind}s more than two pages from their first citation (cited page, shown page): {far}"


# ------------------------------------------------------------------ one type scale


def _tf_sizes(pdf: Path) -> set[float]:
    """Font sizes (Tf operands) in a matplotlib PDF's content streams."""
    sizes: set[float] = set()
    for m in re.finditer(rb"stream\r?\n(.*?)\r?\nendstream", pdf.read_bytes(), re.S):
        try:
            data = zlib.decompress(m.group(1))
        except zlib.error:
            continue
        sizes |= {float(x) for x in re.findall(rb"/F\d+ ([\d.]+) Tf", data)}
    return sizes


def _figure_numbers(html: str, qmd: str) -> dict[str, int]:
    """Figure number of each figure file the source uses: file -> #fig- label (source) -> number (HTML)."""
    label_of = dict(re.findall(r'results/figures/([\w-]+)\.png\)\{#(fig-[\w-]+)', qmd))
    number = {}
    for m in re.finditer(r'<figure id="(fig-[\w-]+)"', html):
        caption = _LABEL.search(html, m.end())
        if caption and caption.group(1) == "Figure":
            number[m.group(1)] = int(caption.group(2))
    return {name: number[label] for name, label in label_of.items() if label in number}


def test_figure_text_prints_on_the_body_type_scale(supplement):
    """Each vector figure's font sizes times the scale at which the PDF places it (from the heights
    of words found once in the figure and once on the page of its caption) lie in 7.5-9 pt: a step
    below the tables (8.8 pt) and captions (9 pt), never up to the body (10.5 pt)."""
    qmd = (Path(supplement["pdf"]).parents[2] / "manuscript" / "supplement.qmd").read_text(encoding="utf-8")
    used = re.findall(r'results/figures/([\w-]+)\.png', qmd)
    assert len(used) >= 10
    numbers = _figure_numbers(supplement["html"], qmd)
    assert set(numbers) == set(used), f"figures without a number in the HTML: {set(used) - set(numbers)}"
    _, caption_page = _pdf_positions(supplement, "Figure")
    pages = [Counter(w.text for w in words) for _, words in supplement["pages"]]
    for name in used:
        fig_pdf = supplement["figures"] / f"{name}.pdf"
        sizes = _tf_sizes(fig_pdf)
        assert sizes, name
        ((_, fig_words),) = pdf_pages(fig_pdf)
        once = {t for t, n in Counter(w.text for w in fig_words).items() if n == 1 and len(t) >= 3}
        # a figure and its caption are one unbreakable block: its words are on its caption's page
        p = caption_page[numbers[name]] - 1
        here = [w for w in supplement["pages"][p][1] if w.text in once and pages[p][w.text] == 1]
        natural = {w.text: w.y1 - w.y0 for w in fig_words if w.text in once}
        best = [(w.y1 - w.y0) / natural[w.text] for w in here]
        assert len(best) >= 3, f"{name}: its words were not found on page {p + 1}, the page of its caption"
        scale = statistics.median(best)
        printed = sorted(round(s * scale, 2) for s in sizes)
        assert FIGURE_PT[0] <= printed[0] and printed[-1] <= FIGURE_PT[1], (name, scale, printed)


# ------------------------------------------------------------------ pages


def test_no_page_has_a_blank_third(supplement):
    """Between the top of the type area, each line of text (figures included: their labels are text)
    and the bottom, no gap reaches a third of the type area (the last page may end early)."""
    limit = (BOTTOM - TOP) / 3
    bad = {}
    for page, (lines, _) in enumerate(supplement["pages"][:-1], start=1):
        reached, gap = TOP, 0.0
        for ln in sorted(_body_lines(lines), key=lambda ln: ln.y0):
            gap, reached = max(gap, ln.y0 - reached), max(reached, ln.y1)
        gap = max(gap, BOTTOM - reached)
        if gap >= limit:
            bad[page] = round(gap / (BOTTOM - TOP), 2)
    assert not bad, f"pages with a blank stretch (fraction of the type area): {bad}"


def test_no_heading_or_table_caption_at_the_foot_of_a_page(supplement):
    headings = [html_lib.unescape(re.sub(r"<[^>]+>", "", h)).strip()
                for h in re.findall(r'<h[123] id="[^"]*"[^>]*>(.*?)</h[123]>', supplement["html"], re.S)]
    assert len(headings) >= 10
    stranded = []
    for page, (lines, _) in enumerate(supplement["pages"], start=1):
        body = _body_lines(lines)
        for i, ln in enumerate(body):
            after = len(body) - i - 1
            if ln.text in headings and after < 2:
                stranded.append((page, ln.text))
            if re.match(r"Table \d+\. ", ln.text) and after < 3:
                stranded.append((page, ln.text[:40]))
            if ln.text == "Inputs (SHA-256)" and after < 2:
                stranded.append((page, ln.text))
    assert not stranded, f"headings with fewer than two lines, table captions with fewer than three, under them on their page: {stranded}"


def test_every_word_lies_within_the_text_column(supplement):
    # typst lets a line's final punctuation hang up to about half an em into the margin
    out = [(page, w.text) for page, (_, words) in enumerate(supplement["pages"], start=1)
           for w in words if w.x0 < LEFT - 1 or w.x1 > RIGHT + (6 if w.text[-1] in ".,;:-–)\xad" else 1)]
    assert not out, f"text outside the column: {out[:10]}"


def test_renderer_named_once(supplement):
    text = " ".join(ln.text for lines, _ in supplement["pages"] for ln in lines)
    assert len(re.findall(r"rendered by the (?:\w+ )+renderer", text, re.I)) == 1
    body = re.sub(r"<[^>]+>", " ", supplement["html"].split("<body", 1)[1])
    assert len(re.findall(r"rendered by the (?:\w+ )+renderer", body, re.I)) == 1


# ------------------------------------------------------------------ browser

_OVERFLOW_SCRIPT = """<script>
window.addEventListener('load', function () {
  var doc = document.documentElement, out = {scrollWidth: doc.scrollWidth, innerWidth: window.innerWidth,
                                            over: []};
  document.querySelectorAll('table, figure, img, pre, .nb-body > *').forEach(function (el) {
    var box = el.getBoundingClientRect(), parent = el.parentElement.getBoundingClientRect();
    var cs = getComputedStyle(el.parentElement);
    var right = parent.right - parseFloat(cs.paddingRight || 0);
    if (box.right > right + 0.5 || box.left < parent.left - 0.5) {
      out.over.push({tag: el.tagName, id: el.id, right: box.right, container: right});
    }
  });
  var pre = document.createElement('pre');
  pre.id = 'nb-overflow-report';
  pre.style.display = 'none';
  pre.textContent = JSON.stringify(out);
  document.body.appendChild(pre);
});
</script>"""


@pytest.mark.browser
def test_browser_at_1280_px_shows_no_horizontal_overflow(supplement, tmp_path):
    """Headless Chromium, 1280 px wide: the page scrolls no wider than the window, and no table,
    figure or image reaches past the right edge of its container. The screenshot is kept in tmp_path."""
    import browser_check

    chromium = browser_check.find_chromium()
    if chromium is None:
        pytest.skip("chromium not installed (tests/install_browser.sh)")
    page = tmp_path / "supplement.html"
    page.write_text(supplement["html"], encoding="utf-8")
    shot = tmp_path / "supplement-1280.png"
    report = browser_check.run_report(page, _OVERFLOW_SCRIPT, "nb-overflow-report", shot, chromium, timeout=120,
                                      window=(1280, 2000))
    assert report["innerWidth"] == 1280
    assert report["scrollWidth"] <= report["innerWidth"], report
    assert report["over"] == [], report["over"]
    assert shot.is_file() and shot.stat().st_size > 10_000
