"""The package bibliography (spikebench/core/references.bib) and the citations in chip and case sources."""

from __future__ import annotations

import re
import shutil
import subprocess

import pytest

from conftest import REPO
from spikebench.core import bibliography as bib
from spikebench.core.bibliography import Entry, parse_bibtex
from spikebench.core.errors import FileFormatError, UnknownNameError

BIB_PATH = REPO / "suite" / "core" / "references.bib"


def _chip_params():
    from spikebench.hardware_models import CHIPS

    return [(f"{name}.{pname}", p) for name, chip in CHIPS.items() for pname, p in chip.sheet.params.items()]


def _case_sources():
    from spikebench.hardware_models import validation

    out = []
    for case in validation.cases():
        out.append((f"validation case {case.case_id} ({case.quantity})", case.source))
        if case.deployment is not None and case.deployment.source:
            out.append((f"validation case {case.case_id} deployment", case.deployment.source))
    return out


def _chip_notes():
    from spikebench.hardware_models import CHIPS

    return [(f"{name} notes[{i}]", n) for name, chip in CHIPS.items() for i, n in enumerate(chip.sheet.notes)]


def _format_sources():
    """The numeric formats' texts (``hardware_models.numeric.FORMATS``): each chip's deploy cites them."""
    from spikebench.hardware_models.numeric import FORMATS

    return [(f"numeric format {chip}", text) for chip, text in FORMATS.items()]


def _sheet_extras():
    """Each sheet's regime, operating points and boundaries (issue 14): their sources and constants."""
    from spikebench.hardware_models import CHIPS

    out = []
    for name, chip in CHIPS.items():
        sh = chip.sheet
        if sh.regime is not None:
            out.append((f"{name} regime", sh.regime.source))
        for op in sh.operating_points.values():
            out.append((f"{name} operating point {op.name}", op.source))
            out += [(f"{name} operating point {op.name}.{k}", p.source) for k, p in op.overrides.items()]
        for b in sh.boundaries.values():
            out.append((f"{name} boundary {b.name}", b.source))
            out += [(f"{name} boundary {b.name}.{k}", p.source) for k, p in b.params.items()]
    return out


def _all_sources():
    return ([(where, p.source) for where, p in _chip_params()] + _case_sources() + _chip_notes() + _format_sources()
            + _sheet_extras())


# ---- the file and the sources that cite it ---------------------------------------------------------

def test_package_file_is_the_repository_file():
    entries = bib.bibliography()
    assert list(entries) == list(parse_bibtex(BIB_PATH.read_text(encoding="utf-8"), str(BIB_PATH)))
    assert bib.bibliography() is entries  # parsed once


def test_every_cited_key_is_in_the_bibliography():
    cited = 0
    for where, source in _all_sources():
        bib.check_keys(source, where)
        cited += len(bib.citations(source))
    assert cited > 50


def test_every_non_placeholder_constant_cites_a_source():
    for where, p in _chip_params():
        if p.source.startswith("placeholder"):
            continue
        assert bib.citations(p.source), f"{where}: source cites no [@key]: {p.source!r}"


def test_every_validation_case_cites_a_source():
    from spikebench.hardware_models import validation

    for case in validation.cases():
        assert bib.citations(case.source), f"{case.case_id}: source cites no [@key]: {case.source!r}"


def test_no_unused_entry():
    used = set(bib.cite_keys(source for _, source in _all_sources()))
    unused = set(bib.bibliography()) - used
    assert not unused, f"entries no source cites (remove them): {sorted(unused)}"


def test_every_entry_is_complete():
    for key, e in bib.bibliography().items():
        f = e.fields
        assert re.fullmatch(r"[a-z][a-z0-9]*", key), f"{key}: keys are lowercase authorYYYY-style"
        assert e.kind in {"article", "inproceedings", "misc", "techreport"}, (key, e.kind)
        for field in ("author", "title", "year"):
            assert f.get(field, "").strip(), f"{key}: no {field}"
        assert re.fullmatch(r"(19|20)\d\d|n\.d\.", f["year"]), (key, f["year"])
        link = f.get("doi") or f.get("url") or re.search(r"\\url\{https?://[^}]+\}", f.get("howpublished", ""))
        assert link, f"{key}: needs a DOI or a URL"
        assert "doi" not in f or re.fullmatch(r"10\.\d{4,9}/\S+", f["doi"]), (key, f["doi"])
        if e.kind == "article":
            assert f.get("journal"), key
        if e.kind == "inproceedings":
            assert f.get("booktitle"), key
        if e.kind == "misc":
            assert f.get("howpublished"), key
        # braces balanced and no title cut mid-word
        assert f["title"].count("{") == f["title"].count("}"), key
        assert not re.search(r"(\.\.\.|…)$", f["title"].strip()), key


def test_every_entry_renders():
    for key, e in bib.bibliography().items():
        assert e.label() and "{" not in e.label() and "\\" not in e.label(), key
        text = e.text()
        assert "\n" not in text and "{" not in text and "\\" not in text, (key, text)
        assert e.fields["year"] in text, key
        assert parse_bibtex(e.to_bibtex())[key] == e, key


# ---- rendering -----------------------------------------------------------------------------------

EXAMPLE = ("[@davies2018, Table 2 p. 96]: 23.6 pJ (min, pre-silicon 0.75 V); high: "
           "[@sanafe2025loihiyaml, arch/loihi.yaml @8951ab0] dense synapse 35.5 pJ (silicon fit, [@boyle2025]) & 5%")


def test_citations_and_keys():
    assert bib.citations(EXAMPLE) == [("davies2018", "Table 2 p. 96"),
                                      ("sanafe2025loihiyaml", "arch/loihi.yaml @8951ab0"), ("boyle2025", "")]
    assert bib.cite_keys([EXAMPLE, "[@boyle2025]; [@frady2020, §4.3]", "no citation"]) == [
        "davies2018", "sanafe2025loihiyaml", "boyle2025", "frady2020"]
    assert bib.citations("an e-mail a@b.c, [not a citation], [@ key]") == []


def test_render_text():
    assert bib.render_text(EXAMPLE) == (
        "Davies et al. 2018, Table 2 p. 96: 23.6 pJ (min, pre-silicon 0.75 V); high: "
        "SLAM Lab 2025, arch/loihi.yaml @8951ab0 dense synapse 35.5 pJ (silicon fit, Boyle et al. 2025) & 5%")
    assert bib.render_text("no citation here") == "no citation here"


def test_render_latex():
    def escape(s: str) -> str:
        return s.replace("&", r"\&").replace("%", r"\%").replace("_", r"\_")

    assert bib.render_latex(EXAMPLE, escape) == (
        r"\cite[Table 2 p. 96]{davies2018}: 23.6 pJ (min, pre-silicon 0.75 V); high: "
        r"\cite[arch/loihi.yaml @8951ab0]{sanafe2025loihiyaml} dense synapse 35.5 pJ (silicon fit, "
        r"\cite{boyle2025}) \& 5\%")
    assert bib.render_latex("[@lavadl2023pilotnet, pilotnet_snn]", escape) == (
        r"\cite[pilotnet\_snn]{lavadl2023pilotnet}")


def test_entry_text_is_a_full_reference():
    assert bib.bibliography()["horowitz2014"].text() == (
        "Mark Horowitz. 1.1 Computing's energy problem (and what we can do about it). In 2014 IEEE "
        "International Solid-State Circuits Conference Digest of Technical Papers (ISSCC), pp. 10\u201314. 2014. "
        "doi:10.1109/ISSCC.2014.6757323.")
    merolla = bib.bibliography()["merolla2014"].text()
    assert merolla.startswith("Paul A. Merolla, John V. Arthur, ") and ", and Dharmendra S. Modha. " in merolla
    assert "Science 345(6197):668\u2013673. 2014." in merolla and merolla.endswith("doi:10.1126/science.1254642.")


def _entry(author: str, year: str = "2020") -> Entry:
    return Entry(key="x", kind="misc", fields={"author": author, "title": "T", "year": year})


def test_labels():
    assert _entry("Horowitz, Mark", "2014").label() == "Horowitz 2014"
    assert _entry("Mark Horowitz", "2014").label() == "Horowitz 2014"
    assert _entry("Dey, Srijanie and Dimitrov, Alexander").label() == "Dey & Dimitrov 2020"
    assert _entry("Timcheck, Jonathan and Pierro, Alessandro and Shrestha, Sumit Bam", "2026").label() == (
        "Timcheck et al. 2026")
    assert _entry("Scholze, Stefan and Partzsch, Johannes and others", "2026").label() == "Scholze et al. 2026"
    assert _entry("H{\\\"o}ppner, Sebastian and Mayr, Christian", "2019").label() == "Höppner & Mayr 2019"
    assert _entry("{Intel Corporation}", "2021").label() == "Intel Corporation 2021"
    assert _entry("{Meta Platforms, Inc.}", "2022").label() == "Meta Platforms, Inc. 2022"
    assert _entry("{Fonseca Guerra}, Gabriel A.").label() == "Fonseca Guerra 2020"
    assert bib.bibliography()["timcheck2026"].label() == "Timcheck et al. 2026"
    assert bib.bibliography()["davies2018"].label() == "Davies et al. 2018"
    assert bib.bibliography()["horowitz2014"].label() == "Horowitz 2014"
    assert bib.bibliography()["intel2021loihi2"].label() == "Intel Corporation 2021"


def test_check_keys_names_the_place_and_the_file():
    bib.check_keys("[@davies2018, p. 86]", "loihi.cores_per_chip")
    with pytest.raises(UnknownNameError) as err:
        bib.check_keys("[@davies2018]; [@nobody1999, p. 1]", "loihi.e_syn")
    msg = str(err.value)
    assert "\n" not in msg and "loihi.e_syn" in msg and "nobody1999" in msg and "references.bib" in msg
    with pytest.raises(UnknownNameError):
        bib.render_text("[@nobody1999]")


def test_to_bibtex_keeps_order_and_round_trips():
    text = bib.to_bibtex(["merolla2014", "davies2018", "merolla2014"])
    assert text.startswith("%")
    assert [m.group(1) for m in re.finditer(r"^@\w+\{([^,]+),", text, re.M)] == ["merolla2014", "davies2018"]
    back = parse_bibtex(text)
    assert back["davies2018"] == bib.bibliography()["davies2018"]
    first = bib.bibliography()["davies2018"].to_bibtex().splitlines()
    assert first[0] == "@article{davies2018," and first[1].lstrip().startswith("author")
    assert first[-2].lstrip().startswith("doi") and first[-1] == "}"
    with pytest.raises(UnknownNameError):
        bib.to_bibtex(["davies2018", "nobody1999"])


# ---- the parser ----------------------------------------------------------------------------------

GOOD = """% a comment
@article{a2020,
  author = {Surname, Given and {Org Name}},
  title = {A {Nested {Brace}} Title},
  journal = "J. \\"Quoted\\"",
  year = 2020,
}

@misc{b2021, title = {B}, year = {2021}}
"""


def test_parser_reads_the_subset():
    entries = parse_bibtex(GOOD, "good.bib")
    assert list(entries) == ["a2020", "b2021"]
    a = entries["a2020"]
    assert a.kind == "article" and a.fields["title"] == "A {Nested {Brace}} Title"
    assert a.fields["year"] == "2020" and a.fields["journal"] == 'J. \\"Quoted\\"'
    assert a.label() == "Surname & Org Name 2020"


@pytest.mark.parametrize("text, line, words", [
    ("@article{a2020,\n  author = {A},\n  title = {Cut", 3, ["truncated"]),
    ("@article{a2020,\n  author = {A},\n", 3, ["end of file"]),
    ("@article{a2020, title = {A}}\n\n@misc{a2020, title = {B}}", 3, ["duplicate key", "a2020"]),
    ("@article{a2020, title = {A}, title = {B}}", 1, ["twice"]),
    ("@article{a2020, title = A}", 1, ["field value"]),
    ("stray text\n@misc{b, title={B}}", 1, ["'@'"]),
    ("@misc{b, title={B}}}", 1, ["'@'"]),
    ("@misc{b title={B}}", 1, ["','"]),
    ("% cites [@key]\n@misc{b, title={B}}", 1, ["'@' inside a % comment"]),
])
def test_parser_refuses_bad_input_with_one_line(text, line, words):
    with pytest.raises(FileFormatError) as err:
        parse_bibtex(text, "refs.bib")
    msg = str(err.value)
    assert "\n" not in msg and msg.startswith(f"refs.bib, line {line}:"), msg
    for w in words:
        assert w in msg, msg


# ---- opt-in: BibTeX itself accepts the file with no warning ----------------------------------------

@pytest.mark.parametrize("path", [BIB_PATH, REPO / "reports" / "example" / "references.bib"],
                         ids=["package", "example-report"])
def test_bibtex_accepts_every_entry_without_warnings(tmp_path, path):
    if shutil.which("bibtex") is None:
        pytest.skip("bibtex not installed (Debian: texlive-binaries texlive-base)")
    shutil.copy(path, tmp_path / "references.bib")
    (tmp_path / "doc.tex").write_text(
        "\\documentclass{article}\n\\usepackage{url}\n\\begin{document}\n\\nocite{*}\n"
        "\\bibliographystyle{plain}\n\\bibliography{references}\n\\end{document}\n")
    (tmp_path / "doc.aux").write_text("\\relax\n\\citation{*}\n\\bibstyle{plain}\n\\bibdata{references}\n")
    proc = subprocess.run(["bibtex", "doc"], cwd=tmp_path, capture_output=True, text=True, timeout=60)
    blg = (tmp_path / "doc.blg").read_text(errors="replace")
    assert proc.returncode == 0, proc.stdout + blg
    warnings = [line for line in blg.splitlines() if "Warning--" in line or "error message" in line]
    assert not warnings, "\n".join(warnings)
    bbl = (tmp_path / "doc.bbl").read_text(errors="replace")
    assert bbl.count("\\bibitem") == len(parse_bibtex(path.read_text(encoding="utf-8"), str(path))) > 0
