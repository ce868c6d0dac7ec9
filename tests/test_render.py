"""The offline renderer (pandoc + typst + Lua filter) on the fixture in tests/data/render/.

Expected text is built from the fixture's own inputs (numbers.yml values placed in the sentences
and table rows that fixture.qmd and tables/baseline.md write), the PNG's pixel size from how the
test draws it, PDF facts from poppler (pdftotext/pdfinfo/pdffonts/pdfimages), not from the renderer.
"""

from __future__ import annotations

import base64
import datetime as dt
import html.parser
import re
import shutil
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import pytest
import yaml

from nenbone.render import MissingKeyError, RenderError, render_supplement

HERE = Path(__file__).parent
FIXTURE = HERE / "data" / "render"
REPO = HERE.parent
EPOCH = 1_700_000_000
PNG_SIZE = (600, 400)  # pixels of the figure the test draws: 6 x 4 in at 100 dpi


# ---------------------------------------------------------------- helpers (independent of nenbone)


def draw_km_png(path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    path.parent.mkdir(parents=True, exist_ok=True)
    fig, ax = plt.subplots(figsize=(6, 4), dpi=100)
    ax.step([0, 10, 20, 30, 40], [1.0, 0.8, 0.6, 0.5, 0.3], where="post", color="#0072B2")
    ax.set_xlabel("Months from diagnosis of bone metastases")
    ax.set_ylabel("Overall survival")
    fig.savefig(path, dpi=100, metadata={"Software": None})
    plt.close(fig)


def make_project(dest: Path) -> Path:
    shutil.copytree(FIXTURE, dest)
    draw_km_png(dest / "figures" / "km.png")
    return dest


def render(project: Path, out: Path, epoch: int = EPOCH, **kw: object) -> dict[str, str]:
    return render_supplement(project / "fixture.qmd", out / "s.html", out / "s.pdf", [project / "numbers.yml"],
                             project, engine=kw.pop("engine", "offline"), source_date_epoch=epoch)


class _Page(html.parser.HTMLParser):
    """Visible text, table rows (cell texts), captions and resource references of an HTML page."""

    RESOURCE_TAGS = {"script", "link", "img", "source", "iframe", "video", "audio", "embed", "object", "track"}

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.text: list[str] = []
        self.rows: list[list[str]] = []
        self.captions: list[str] = []
        self.resources: list[tuple[str, str, str]] = []
        self.styles: list[str] = []
        self.imgs: list[dict[str, str | None]] = []
        self.metas: dict[str, str] = {}
        self._stack: list[str] = []
        self._cell: list[str] | None = None
        self._caption: list[str] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        self._stack.append(tag)
        if tag in self.RESOURCE_TAGS:
            for attr in ("src", "href", "data", "srcset", "poster"):
                if a.get(attr) is not None:
                    self.resources.append((tag, attr, a[attr] or ""))
        if tag == "img":
            self.imgs.append(a)
        if tag == "meta" and a.get("name"):
            self.metas[a["name"] or ""] = a.get("content") or ""
        if tag == "tr":
            self.rows.append([])
        if tag in ("td", "th"):
            self._cell = []
        if tag in ("caption", "figcaption"):
            self._caption = []

    def handle_endtag(self, tag: str) -> None:
        if self._stack:
            self._stack.pop()
        if tag in ("td", "th") and self._cell is not None:
            self.rows[-1].append(_norm("".join(self._cell)))
            self._cell = None
        if tag in ("caption", "figcaption") and self._caption is not None:
            self.captions.append(_norm("".join(self._caption)))
            self._caption = None

    def handle_data(self, data: str) -> None:
        current = self._stack[-1] if self._stack else ""
        if current == "style":
            self.styles.append(data)
            return
        if current in ("script", "title"):
            return
        self.text.append(data)
        if self._cell is not None:
            self._cell.append(data)
        if self._caption is not None:
            self._caption.append(data)


def _norm(text: str) -> str:
    return re.sub(r"\s+", " ", text.replace("\xa0", " ")).strip()


def parse_html(path: Path) -> _Page:
    page = _Page()
    page.feed(path.read_text(encoding="utf-8"))
    page.full_text = _norm("".join(page.text))  # type: ignore[attr-defined]
    return page


def squash(text: str) -> str:
    """For PDF text: no whitespace, no hyphens (pdftotext drops a hyphen at a line break)."""
    return re.sub(r"[\s\-\u00ad]+", "", text.replace("\xa0", " "))


def leaves(node: object, prefix: str = "") -> list[tuple[str, object]]:
    if isinstance(node, dict):
        return [kv for k, v in node.items() for kv in leaves(v, f"{prefix}.{k}" if prefix else str(k))]
    return [(prefix, node)]


def expected_phrases(n: dict) -> list[str]:
    """The sentences of fixture.qmd with numbers.yml's values put in by hand."""
    a, b = n["study_a"], n["study_b"]
    return [
        f"Of {a['n_total']} patients, {a['n_bm']} ({a['pct_bm']}%) had bone metastases",
        f"The median overall survival was {a['os']['median']} months (95% CI {a['os']['ci']}); see Figure 1 and Table 1.",
        f"Baseline characteristics of the {a['n_bm']} patients with bone metastases",
        f"from the diagnosis of bone metastases, n = {a['n_bm']}.",
        f"matched with a caliper of {b['caliper']} SD of the logit",
        f"Cox proportional hazards models for death, {b['n_matched']} matched patients.",
        "Extra metadata: EM17; a variable: VL42.",
    ]


def expected_rows(n: dict) -> list[list[str]]:
    a, b = n["study_a"], n["study_b"]
    return [
        ["Age, years, median (IQR)", f"{a['age']['median']} ({a['age']['iqr']})"],
        ["Synchronous BMs, n (%)", f"{a['sync']['n']} ({a['sync']['pct']})"],
        ["Gastro-entero-pancreatic primary", str(a["gep_n"])],
        ["Primary (1:4 matched)", b["cox"]["hr"], b["cox"]["ci"], b["cox"]["p"]],
        ["Sensitivity (1:1)", b["sens"]["hr"], b["sens"]["ci"], b["sens"]["p"]],
    ]


CITATIONS = ["(Lim et al. 2019)", "(Kaplan and Meier 1958)", "Brookmeyer and Crowley (1982)", "(Austin 2011)",
             "Collett (2015)"]
BIB_TITLES = ["Nonparametric Estimation from Incomplete Observations", "A Confidence Interval for the Median Survival Time",
              "Modelling Survival Data in Medical Research"]


# ---------------------------------------------------------------- poppler (pdftotext etc.)


@pytest.fixture(scope="session")
def poppler() -> None:
    """poppler-utils, installed by tests/install_browser.sh if missing; skip (with why) if it cannot be."""
    tools = ("pdftotext", "pdfinfo", "pdffonts", "pdfimages")
    if all(shutil.which(t) for t in tools):
        return
    proc = subprocess.run(["sh", str(HERE / "install_browser.sh"), "--poppler"], capture_output=True, text=True,
                          timeout=600)
    if not all(shutil.which(t) for t in tools):
        reason = (proc.stderr or proc.stdout).strip().splitlines()[-1:] or ["no output"]
        msg = f"poppler-utils (pdftotext, pdfinfo) not installed and cannot be installed: {reason[0]}"
        print(msg, file=sys.stderr)
        pytest.skip(msg)


def pdf_text(pdf: Path) -> str:
    return subprocess.run(["pdftotext", "-layout", "-enc", "UTF-8", str(pdf), "-"], capture_output=True, text=True,
                          check=True).stdout


def pdf_info(pdf: Path) -> dict[str, str]:
    out = subprocess.run(["pdfinfo", "-isodates", str(pdf)], capture_output=True, text=True, check=True).stdout
    return {k.strip(): v.strip() for k, v in (line.split(":", 1) for line in out.splitlines() if ":" in line)}


# ---------------------------------------------------------------- the rendered fixture


@pytest.fixture(scope="module")
def rendered(tmp_path_factory: pytest.TempPathFactory) -> SimpleNamespace:
    project = make_project(tmp_path_factory.mktemp("render") / "project")
    out = project / "out"
    info = render(project, out)
    numbers = yaml.safe_load((project / "numbers.yml").read_text(encoding="utf-8"))
    return SimpleNamespace(project=project, html=out / "s.html", pdf=out / "s.pdf", info=info,
                           page=parse_html(out / "s.html"), numbers=numbers)


def test_offline_engine_and_versions_are_reported(rendered: SimpleNamespace) -> None:
    import pypandoc

    info = rendered.info
    assert info["engine"] == "offline"
    assert info["pandoc_version"] == pypandoc.get_pandoc_version()
    metas = rendered.page.metas
    assert metas["nenbone-render-engine"] == "offline"
    assert metas["nenbone-pandoc-version"] == info["pandoc_version"]
    assert metas["nenbone-typst-version"] == info["typst_version"]
    # the appendix line uses the render.* metadata the renderer sets
    assert f"Rendered by the offline engine with pandoc {info['pandoc_version']}." in rendered.page.full_text


def test_html_has_every_number_in_its_sentence_and_table_cell(rendered: SimpleNamespace) -> None:
    text = rendered.page.full_text
    for phrase in expected_phrases(rendered.numbers):
        assert phrase in text, phrase
    for row in expected_rows(rendered.numbers):
        assert row in rendered.page.rows, row
    formatted = {k: v for k, v in leaves(rendered.numbers) if not k.startswith("raw.")}
    for key, value in formatted.items():
        assert str(value) in text, f"{key} = {value!r} missing from the HTML"
    assert "{{<" not in text and ">}}" not in text


def test_html_unquoted_yaml_float_prints_as_written(tmp_path: Path) -> None:
    project = make_project(tmp_path / "p")
    numbers = project / "numbers.yml"
    # pandoc's own YAML reader would print these as "31" and "2.5e-2"
    numbers.write_text(numbers.read_text().replace('median: "31.0"', "median: 31.0").replace('p: "0.031"', "p: 0.025"))
    render(project, tmp_path / "out")
    page = parse_html(tmp_path / "out" / "s.html")
    assert "The median overall survival was 31.0 months" in page.full_text
    assert ["Primary (1:4 matched)", "1.87", "1.06–3.29", "0.025"] in page.rows


def test_html_cross_references_are_numbered_and_linked(rendered: SimpleNamespace) -> None:
    page, html_text = rendered.page, rendered.html.read_text(encoding="utf-8")
    assert page.captions == [
        f"Table 1. Baseline characteristics of the {rendered.numbers['study_a']['n_bm']} patients with bone metastases",
        "Figure 1. Kaplan-Meier estimate of overall survival from the diagnosis of bone metastases, n = "
        f"{rendered.numbers['study_a']['n_bm']}.",
        f"Table 2. Cox proportional hazards models for death, {rendered.numbers['study_b']['n_matched']} matched patients.",
    ]
    assert "see Figure 1 and Table 1." in page.full_text
    assert "Table 2 gives the hazard ratio" in page.full_text
    assert "survival curves are in Figure 1 of Part A" in page.full_text  # [-@fig-km]: the number only
    for target in ("fig-km", "tbl-base", "tbl-cox"):
        assert re.search(rf'<(figure|table) id="{target}"', html_text), target
        assert f'href="#{target}"' in html_text
    assert "@fig-" not in page.full_text and "@tbl-" not in page.full_text


def test_html_citations_and_bibliography(rendered: SimpleNamespace) -> None:
    text = rendered.page.full_text
    for cite in CITATIONS:
        assert cite in text, cite
    for title in BIB_TITLES:
        assert title in text, title
    html_text = rendered.html.read_text(encoding="utf-8")
    assert len(re.findall(r'class="csl-entry"', html_text)) == 5  # five works cited, five entries
    assert text.index("References") < text.index("Kaplan, Edward L.")


def test_html_is_self_contained(rendered: SimpleNamespace) -> None:
    page = rendered.page
    for tag, attr, value in page.resources:
        assert value.startswith(("data:", "#")), f"<{tag} {attr}={value[:80]!r}> is not embedded"
    assert not any(tag in ("script", "link") for tag, _, _ in page.resources), "external script or stylesheet"
    css = "\n".join(page.styles)
    assert ".nb-kicker" in css  # the package's stylesheet is embedded
    assert not re.search(r"url\(\s*['\"]?(https?:|//)", css) and "@import" not in css
    # the one image is the PNG itself, byte for byte
    assert len(page.imgs) == 1
    src = page.imgs[0]["src"] or ""
    assert src.startswith("data:image/png;base64,")
    assert base64.b64decode(src.split(",", 1)[1]) == (rendered.project / "figures" / "km.png").read_bytes()


@pytest.mark.usefixtures("poppler")
def test_pdf_has_every_number_crossref_and_citation(rendered: SimpleNamespace) -> None:
    text = squash(pdf_text(rendered.pdf))
    for phrase in expected_phrases(rendered.numbers):
        assert squash(phrase) in text, phrase
    for row in expected_rows(rendered.numbers):
        assert squash("".join(row)) in text, row
    for label in ("Table 1.", "Figure 1.", "Table 2."):
        assert squash(label) in text
    for cite in CITATIONS + BIB_TITLES:
        assert squash(cite) in text, cite
    assert "{{<" not in text and "@fig" not in text and "@tbl" not in text


@pytest.mark.usefixtures("poppler")
def test_pdf_pages_fonts_image_and_date(rendered: SimpleNamespace) -> None:
    info = pdf_info(rendered.pdf)
    assert 1 <= int(info["Pages"]) <= 4  # a page of text, a figure, two small tables, references
    assert "A4" in info["Page size"]
    assert info["Creator"] == f"Typst {rendered.info['typst_version']}"
    assert info["CreationDate"] == dt.datetime.fromtimestamp(EPOCH, dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    fonts = subprocess.run(["pdffonts", str(rendered.pdf)], capture_output=True, text=True, check=True).stdout
    rows = fonts.splitlines()[2:]
    assert rows and all(r.split()[-5] == "yes" for r in rows), fonts  # every font embedded
    images = subprocess.run(["pdfimages", "-list", str(rendered.pdf)], capture_output=True, text=True,
                            check=True).stdout.splitlines()[2:]
    sizes = {(int(r.split()[3]), int(r.split()[4])) for r in images if r.split()[2] == "image"}
    assert sizes == {PNG_SIZE}  # the figure, at full resolution


@pytest.mark.slow
def test_rerun_is_byte_identical_even_from_another_directory(rendered: SimpleNamespace, tmp_path: Path) -> None:
    project = make_project(tmp_path / "elsewhere")
    render(project, tmp_path / "out1")
    render(project, tmp_path / "out2")
    for name in ("s.html", "s.pdf"):
        first = (tmp_path / "out1" / name).read_bytes()
        assert first == (tmp_path / "out2" / name).read_bytes(), name
        assert first == (rendered.html.parent / name).read_bytes(), name
    assert str(tmp_path).encode() not in (tmp_path / "out1" / "s.pdf").read_bytes()
    assert str(tmp_path) not in (tmp_path / "out1" / "s.html").read_text(encoding="utf-8")


@pytest.mark.usefixtures("poppler")
def test_pdf_date_is_the_given_epoch_not_the_clock(tmp_path: Path) -> None:
    project = make_project(tmp_path / "p")
    render(project, tmp_path / "out", epoch=1_000_000_000)
    assert pdf_info(tmp_path / "out" / "s.pdf")["CreationDate"] == "2001-09-09T01:46:40Z"


# ---------------------------------------------------------------- errors


@pytest.mark.parametrize(
    ("file", "old", "key", "where"),
    [
        ("fixture.qmd", "study_b.caliper", "study_b.caliper_sd", "fixture.qmd"),
        ("fixture.qmd", "study_b.sens.p", "study_b.sens.p_value", "fixture.qmd"),  # in a table cell
        ("tables/baseline.md", "study_a.gep_n", "study_a.gep.n", "tables/baseline.md"),  # in an include
    ],
)
def test_missing_key_stops_the_render_naming_key_and_file(tmp_path: Path, file: str, old: str, key: str,
                                                          where: str) -> None:
    project = make_project(tmp_path / "p")
    path = project / file
    path.write_text(path.read_text().replace(f"meta {old} ", f"meta {key} "))
    with pytest.raises(MissingKeyError) as err:
        render(project, tmp_path / "out")
    assert err.value.key == key
    assert str(err.value).startswith(f"missing key '{key}' in ")
    assert "numbers.yml" in err.value.file and f"referenced in {where}" in str(err.value)
    assert not (tmp_path / "out" / "s.html").exists() and not (tmp_path / "out" / "s.pdf").exists()


@pytest.mark.parametrize(
    ("old", "new", "named"),
    [
        ("[@austin2011]", "[@austin2012]", "austin2012"),
        ("@tbl-cox gives", "@tbl-coxx gives", "@tbl-coxx"),
        ("figures/km.png", "figures/km2.png", "figures/km2.png"),
        ("tables/baseline.md", "tables/baseline2.md", "baseline2.md"),
        ("{{< var fixture.label >}}", "{{< video fixture.label >}}", "video"),
        ("{{< meta extra.marker >}}", "{{< meta study_a.os >}}", "study_a.os"),
    ],
    ids=["citation", "crossref", "image", "include", "shortcode", "group-not-value"],
)
def test_other_source_errors_stop_the_render_and_name_the_culprit(tmp_path: Path, old: str, new: str,
                                                                  named: str) -> None:
    project = make_project(tmp_path / "p")
    qmd = project / "fixture.qmd"
    assert old in qmd.read_text()
    qmd.write_text(qmd.read_text().replace(old, new))
    with pytest.raises(RenderError, match=re.escape(named)):
        render(project, tmp_path / "out")


def test_auto_engine_falls_back_to_offline_and_quarto_engine_needs_quarto(tmp_path: Path,
                                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    project = make_project(tmp_path / "p")
    monkeypatch.setenv("PATH", str(tmp_path))  # no quarto (pandoc and typst are found without PATH)
    assert render(project, tmp_path / "out", engine="auto")["engine"] == "offline"
    with pytest.raises(RenderError, match="quarto is not on PATH"):
        render(project, tmp_path / "out", engine="quarto")


# ---------------------------------------------------------------- the manuscript draft


def stub_results(manuscript: Path, root: Path) -> dict[str, str]:
    """Every key and file supplement.qmd asks for, filled with a unique token; returns key -> token."""
    qmd = (manuscript / "supplement.qmd").read_text(encoding="utf-8")
    keys = sorted(set(re.findall(r"\{\{<\s*meta\s+(\S+)\s*>\}\}", qmd)) - {f"render.{k}" for k in
                  ("engine", "pandoc_version", "typst_version")})
    tree: dict = {}
    tokens = {}
    for i, key in enumerate(keys):
        node = tree
        for part in key.split(".")[:-1]:
            node = node.setdefault(part, {})
        node[key.split(".")[-1]] = tokens[key] = f"K{i:03d}"
    (root / "results").mkdir(parents=True)
    (root / "results" / "numbers.yml").write_text(yaml.safe_dump(tree), encoding="utf-8")
    # a table whose div gives tbl-colwidths gets as many columns as widths
    widths = {inc: len(re.findall(r"[\d.]+", w)) for w, inc in re.findall(
        r'tbl-colwidths="(\[[^\]]*\])"[^}]*\}\s*\{\{<\s*include\s+(\S+)\s*>\}\}', qmd)}
    for inc in re.findall(r"\{\{<\s*include\s+(\S+)\s*>\}\}", qmd):
        path = (manuscript / inc).resolve()
        path.parent.mkdir(parents=True, exist_ok=True)
        extra = widths.get(inc, 2) - 2
        path.write_text(f"| Stub of | {path.name} |{' x |' * extra}\n|:--|--:|{'--|' * extra}\n"
                        f"| row | 1 |{' x |' * extra}\n", encoding="utf-8")
    for img in re.findall(r"\]\((\.\./results/figures/[^)\s]+\.png)\)", qmd):
        draw_km_png((manuscript / img).resolve())
    return tokens


@pytest.mark.slow
def test_manuscript_draft_renders_given_every_key_and_file(tmp_path: Path) -> None:
    root = tmp_path / "project"
    shutil.copytree(REPO / "manuscript", root / "manuscript")
    tokens = stub_results(root / "manuscript", root)
    out = tmp_path / "out"
    # no metadata_files argument: _quarto.yml's metadata-files (../results/numbers.yml) is read
    render_supplement(root / "manuscript" / "supplement.qmd", out / "s.html", out / "s.pdf", [], root,
                      engine="offline", source_date_epoch=EPOCH)
    page = parse_html(out / "s.html")
    for key, token in tokens.items():
        assert token in page.full_text, key
    qmd = (root / "manuscript" / "supplement.qmd").read_text(encoding="utf-8")
    n_fig = len(re.findall(r"\{#fig-[\w-]+", qmd))
    n_tbl = len(re.findall(r"\{#tbl-[\w-]+", qmd))
    assert n_fig >= 4 and n_tbl >= 5
    labels = [c.split(".")[0] for c in page.captions]
    assert sorted(labels) == sorted([f"Figure {i}" for i in range(1, n_fig + 1)]
                                    + [f"Table {i}" for i in range(1, n_tbl + 1)])
    for heading in ("Part A", "Part B", "Reproduction of the published numbers", "Data availability",
                    "Appendix: computational environment"):
        assert heading in page.full_text
    assert "synthetic twins" in page.full_text
    # no hand-typed number in the prose: digits only in tokens, citations' years and labels
    prose = re.sub(r"K\d{3}|\(?\b(19|20)\d\d\)?|Figure \d+|Table \d+", "", qmd.split("\n---\n", 1)[1])
    prose = re.sub(r"\{\{<.*?>\}\}|\]\([^)]*\)|\{#[^}]*\}|@[\w-]+", "", prose, flags=re.S)
    assert not re.findall(r"\d", prose), re.findall(r".{20}\d.{20}", prose)


def test_manuscript_bibliography_has_the_sources() -> None:
    bib = (REPO / "manuscript" / "references.bib").read_text(encoding="utf-8")
    entries = {m.group(1): m.group(0) for m in re.finditer(r"@\w+\{(\w+),.*?\n\}", bib, flags=re.S)}
    assert set(entries) >= {"lim2019", "croome2016", "austin2011", "collett2015", "brookmeyer1982", "kaplan1958"}
    assert "Neuroendocrinology" in entries["lim2019"] and "2019" in entries["lim2019"]
    croome = entries["croome2016"]
    for fragment in ("Croome, Kristopher P.", "Burns, Justin M.", "Que, Florencia G.", "Nagorney, David M.",
                     "Annals of Surgical Oncology", "{23}", "{11}", "{3693--3698}", "{2016}"):
        assert fragment in croome, fragment
    assert "metadata-files" in yaml.safe_load((REPO / "manuscript" / "_quarto.yml").read_text())
    assert yaml.safe_load((REPO / "manuscript" / "_quarto.yml").read_text())["metadata-files"] == ["../results/numbers.yml"]


# ---------------------------------------------------------------- browser


@pytest.mark.browser
def test_browser_decodes_every_image_and_takes_a_screenshot(rendered: SimpleNamespace, tmp_path: Path) -> None:
    sys.path.insert(0, str(HERE))
    try:
        import browser_check
    finally:
        sys.path.remove(str(HERE))
    if browser_check.find_chromium() is None:
        subprocess.run(["sh", str(HERE / "install_browser.sh")], capture_output=True, text=True, timeout=900)
    if browser_check.find_chromium() is None:
        msg = "chromium not installed and tests/install_browser.sh could not install it"
        print(msg, file=sys.stderr)
        pytest.skip(msg)
    shot = tmp_path / "fixture-screenshot.png"
    report = browser_check.check_page(rendered.html, shot, window=(1280, 1800))
    assert len(report) == 1
    for img in report:
        assert img["complete"] and img["data_uri"]
        assert (img["w"], img["h"]) == PNG_SIZE  # decoded under a CSP that forbids any network fetch
        assert img["shown_w"] > 0
    head = shot.read_bytes()[:24]
    assert head[:8] == b"\x89PNG\r\n\x1a\n"
    assert (int.from_bytes(head[16:20], "big"), int.from_bytes(head[20:24], "big")) == (1280, 1800)
    print(f"screenshot: {shot}")


def test_tbl_colwidths_on_a_table_div_sets_relative_widths_and_a_wrong_count_stops(tmp_path: Path) -> None:
    """Quarto's tbl-colwidths="[...]" on a table's div: each column's share of the width (HTML <col>
    widths, typst column fractions); a count that is not the table's stops the render, naming the div."""
    project = make_project(tmp_path / "p")
    qmd = project / "fixture.qmd"
    source = qmd.read_text()
    qmd.write_text(source.replace("::: {#tbl-cox}", '::: {#tbl-cox tbl-colwidths="[40,20,30,10]"}'))
    render(project, tmp_path / "out")
    html_text = (tmp_path / "out" / "s.html").read_text(encoding="utf-8")
    table = re.search(r'<table id="tbl-cox".*?</table>', html_text, flags=re.S)[0]
    assert re.findall(r'<col style="width: (\d+)%" />', table) == ["40", "20", "30", "10"]
    qmd.write_text(source.replace("::: {#tbl-cox}", '::: {#tbl-cox tbl-colwidths="[40,60]"}'))
    with pytest.raises(RenderError, match=r"tbl-cox: tbl-colwidths gives 2 widths for 4 columns"):
        render(project, tmp_path / "out2")
    qmd.write_text(source.replace("::: {#tbl-cox}", '::: {#tbl-cox tbl-colwidths="[40,20,wide,10]"}'))
    with pytest.raises(RenderError, match=r"tbl-cox: tbl-colwidths has 'wide', not a positive number"):
        render(project, tmp_path / "out3")


# ---------------------------------------------------------------- layout rules of the filter


def test_filter_places_vector_figures_at_drawn_size_keeps_numbers_and_lead_ins_whole(tmp_path: Path) -> None:
    """PDF: the vector figure beside a PNG is placed without the (HTML) width, so its text prints at the
    size it was drawn; a number in a table cell is one unbreakable box (HTML: a no-wrap span); a
    paragraph ending in a colon stays with the table it introduces."""
    from matplotlib.figure import Figure

    from nenbone.render import offline

    draw_km_png(tmp_path / "km.png")
    Figure(figsize=(2, 1)).savefig(tmp_path / "km.pdf")
    qmd = tmp_path / "doc.qmd"
    qmd.write_text("![Survival.](km.png){#fig-km width=85%}\n\nInputs (SHA-256):\n\n"
                   "| Analysis | n | HR (95% CI) |\n|---|---|---|\n| Matched 1:4 | 125 | 1.78 (1.16\u20132.74) |\n",
                   encoding="utf-8")
    meta = tmp_path / "render.yml"
    meta.write_text(yaml.safe_dump({"nenbone": {"resource-root": str(tmp_path), "metadata-files": []}}))
    (tmp_path / "pandoc-data").mkdir()
    run = lambda to: offline.run_pandoc(qmd, to, [], meta, tmp_path, tmp_path / "pandoc-data", EPOCH).decode()  # noqa: E731
    typ, page = run("typst"), run("html5")
    assert 'image("/km.pdf")' in typ and "85" not in typ.split("image(", 1)[1].split(")", 1)[0]
    assert "#nbnum[1.78 (1.16--2.74)]" in typ and "[125]" in typ  # a lone integer needs no box
    assert re.search(r"#block\(sticky: true\)\[\s*Inputs \(SHA-256\):\s*\]\s*#figure\(", typ)
    assert '<span class="nb-num">1.78 (1.16\u20132.74)</span>' in page
    assert re.search(r'<img src="km.png"[^>]*(width="85%"|width:85)', page)
