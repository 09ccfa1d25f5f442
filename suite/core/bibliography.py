"""The bibliography: one BibTeX file in the package, and citations inside source texts.

Every published number spikebench uses (a chip constant's ``source``, a validation case's ``source``)
names its references with a pandoc-style citation: ``[@key]`` or ``[@key, locator]``, where ``key``
is an entry of ``spikebench/core/references.bib`` and ``locator`` says where in the source (table,
page, section, commit), e.g.::

    [@davies2018, Table 2 p. 96]: 23.6 pJ (min, pre-silicon 0.75 V)

This module parses the file (a small, strict parser for the subset we write: ``@type{key, field =
{...} | "..." | number, ...}`` with nested braces), checks cited keys, and renders citations for
plain text and Markdown (``Davies et al. 2018, Table 2 p. 96``) and for LaTeX (``\\cite[Table 2
p. 96]{davies2018}``). The file is data read with :mod:`importlib.resources`, never executed.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from importlib import resources
from types import MappingProxyType

from .errors import FileFormatError, UnknownNameError, one_line

__all__ = ["CITATION", "Entry", "bibliography", "check_keys", "cite_keys", "citations", "parse_bibtex",
           "render_latex", "render_text", "to_bibtex"]

BIB_FILE = "references.bib"

#: ``[@key]`` or ``[@key, locator]``; the locator runs to the closing bracket (no ``]`` inside).
CITATION = re.compile(r"\[@([A-Za-z0-9][A-Za-z0-9_:.-]*)(?:\s*,\s*([^\]]*?))?\s*\]")

# Fields written first, in this order, by Entry.to_bibtex(); any other field follows alphabetically.
_FIELD_ORDER = ("author", "title", "journal", "booktitle", "howpublished", "institution", "type",
                "publisher", "address", "volume", "number", "pages", "month", "year", "doi", "url",
                "eprint", "archiveprefix", "primaryclass", "note")

# TeX accent commands we write (one letter each), for plain-text output.
_ACCENTS = {'"': "\u0308", "'": "\u0301", "`": "\u0300", "^": "\u0302", "~": "\u0303", "c": "\u0327"}
_TEX_ACCENT = re.compile(r"""\\(["'`^~c])\s*\{?\s*([A-Za-z])\s*\}?""")
_TEX_ESCAPE = re.compile(r"\\([_&%$#{}])")
_TEX_URL = re.compile(r"\\(?:url|texttt|emph|textit|textbf)\s*\{([^{}]*)\}")


def detex(text: str) -> str:
    """BibTeX field text -> plain text: accents composed, ``\\url{x}`` -> x, escapes and braces dropped."""
    s = _TEX_URL.sub(r"\1", text)
    s = _TEX_ACCENT.sub(lambda m: unicodedata.normalize("NFC", m.group(2) + _ACCENTS[m.group(1)]), s)
    s = s.replace("--", "\u2013").replace("~", "\u00a0")
    s = _TEX_ESCAPE.sub(r"\1", s)
    s = re.sub(r"(?<!\\)[{}]", "", s)
    return " ".join(s.split())


def _split_top(text: str, sep: str) -> list[str]:
    """Split on ``sep`` (a word, surrounded by whitespace) at brace depth 0."""
    parts, depth, start, i = [], 0, 0, 0
    pattern = re.compile(r"\s+" + re.escape(sep) + r"\s+", re.IGNORECASE)
    while i < len(text):
        c = text[i]
        if c == "{":
            depth += 1
        elif c == "}":
            depth -= 1
        elif depth == 0:
            m = pattern.match(text, i)
            if m and i > 0:
                parts.append(text[start:i])
                start = i = m.end()
                continue
        i += 1
    parts.append(text[start:])
    return [p.strip() for p in parts if p.strip()]


def _is_organisation(name: str) -> bool:
    """``{Intel Corporation}``: the whole name in one brace group."""
    name = name.strip()
    if not (name.startswith("{") and name.endswith("}")):
        return False
    depth = 0
    for i, c in enumerate(name):
        depth += c == "{"
        depth -= c == "}"
        if depth == 0 and i < len(name) - 1:
            return False
    return True


def _surname(name: str) -> str:
    if _is_organisation(name):
        return detex(name)
    if "," in name:
        return detex(name.split(",", 1)[0])
    return detex(name).split()[-1]


def _full_name(name: str) -> str:
    if _is_organisation(name) or "," not in name:
        return detex(name)
    last, first = name.split(",", 1)
    return f"{detex(first)} {detex(last)}"


@dataclass(frozen=True)
class Entry:
    """One bibliography entry: its key, its type (``article``, ``misc``, ...) and its fields."""

    key: str
    kind: str
    fields: Mapping[str, str]

    def __hash__(self) -> int:  # fields is a read-only mapping, not hashable itself
        return hash((self.key, self.kind, tuple(sorted(self.fields.items()))))

    def _authors(self) -> tuple[list[str], bool]:
        names = _split_top(self.fields.get("author", ""), "and")
        others = bool(names) and names[-1].strip().lower() == "others"
        return (names[:-1] if others else names), others

    def label(self) -> str:
        """Short author-year label: ``Merolla et al. 2014``, ``A & B 2020``, ``Intel Corporation 2021``."""
        names, others = self._authors()
        year = detex(self.fields.get("year", "n.d."))
        if not names:
            return f"{detex(self.fields.get('title', self.key))} {year}"
        if len(names) == 1 and not others:
            who = _surname(names[0])
        elif len(names) == 2 and not others:
            who = f"{_surname(names[0])} & {_surname(names[1])}"
        else:
            who = f"{_surname(names[0])} et al."
        return f"{who} {year}"

    def text(self) -> str:
        """One-line plain-text reference: authors, title, venue, year, DOI or URL."""
        f = self.fields
        names, others = self._authors()
        people = [_full_name(n) for n in names]
        if others:
            authors = ", ".join(people) + " et al."
        elif len(people) > 2:
            authors = ", ".join(people[:-1]) + ", and " + people[-1]
        else:
            authors = " and ".join(people)
        parts = [authors] if authors else []
        parts.append(detex(f.get("title", self.key)))
        if self.kind == "article":
            venue = detex(f.get("journal", ""))
            if "volume" in f:
                venue += f" {detex(f['volume'])}"
                if "number" in f:
                    venue += f"({detex(f['number'])})"
            if "pages" in f:
                venue += f":{detex(f['pages'])}" if "volume" in f else f", pp. {detex(f['pages'])}"
        elif self.kind == "inproceedings":
            venue = "In " + detex(f.get("booktitle", ""))
            if "pages" in f:
                venue += f", pp. {detex(f['pages'])}"
            if "publisher" in f:
                venue += f". {detex(f['publisher'])}"
        elif self.kind == "techreport":
            venue = ", ".join(detex(f[k]) for k in ("type", "institution", "number") if k in f)
        else:
            venue = detex(f.get("howpublished", ""))
        if venue.strip():
            parts.append(venue.strip())
        parts.append(detex(f.get("year", "n.d.")))
        if "note" in f:
            parts.append(detex(f["note"]))
        link = f"doi:{f['doi']}" if "doi" in f else f.get("url", "")
        if link and link not in " ".join(parts):
            parts.append(link)
        return ". ".join(p.rstrip(".") for p in parts if p) + "."

    def to_bibtex(self) -> str:
        """The entry as BibTeX, fields in a fixed order (see ``_FIELD_ORDER``), values in braces."""
        names = [n for n in _FIELD_ORDER if n in self.fields]
        names += sorted(n for n in self.fields if n not in _FIELD_ORDER)
        width = max((len(n) for n in names), default=0)
        lines = [f"@{self.kind}{{{self.key},"]
        lines += [f"  {n.ljust(width)} = {{{self.fields[n]}}}," for n in names]
        return "\n".join(lines + ["}"])


# ---- parser --------------------------------------------------------------------------------------

class _Parser:
    def __init__(self, text: str, origin: str):
        self.text, self.origin, self.i = text, origin, 0

    def line(self, i: int | None = None) -> int:
        return self.text.count("\n", 0, self.i if i is None else i) + 1

    def fail(self, message: str, at: int | None = None) -> FileFormatError:
        return FileFormatError(one_line(f"{self.origin}, line {self.line(at)}: {message}"))

    def skip_space(self) -> None:
        while self.i < len(self.text):
            c = self.text[self.i]
            if c.isspace():
                self.i += 1
            elif c == "%":  # comment to end of line
                end = self.text.find("\n", self.i)
                end = len(self.text) if end < 0 else end
                if "@" in self.text[self.i:end]:  # BibTeX has no comments: it starts an entry at any '@'
                    raise self.fail("'@' inside a % comment (BibTeX would read it as the start of an entry)")
                self.i = end + 1
            else:
                return

    def expect(self, char: str, what: str) -> None:
        self.skip_space()
        if self.i >= len(self.text):
            raise self.fail(f"unexpected end of file, expected {what} ({char!r}); is an entry truncated?")
        if self.text[self.i] != char:
            raise self.fail(f"expected {what} ({char!r}), found {self.text[self.i]!r}")
        self.i += 1

    def name(self, what: str, pattern: str = r"[A-Za-z][A-Za-z0-9_-]*") -> str:
        self.skip_space()
        m = re.compile(pattern).match(self.text, self.i)
        if not m:
            found = repr(self.text[self.i]) if self.i < len(self.text) else "end of file"
            raise self.fail(f"expected {what}, found {found}")
        self.i = m.end()
        return m.group(0)

    def value(self) -> str:
        self.skip_space()
        if self.i >= len(self.text):
            raise self.fail("unexpected end of file, expected a field value; is an entry truncated?")
        c, start = self.text[self.i], self.i
        if c.isdigit():
            return self.name("a number", r"[0-9]+")
        if c not in "{\"":
            raise self.fail(f"a field value must be {{...}}, \"...\" or a number, found {c!r}")
        depth, j = 0, self.i + 1
        while j < len(self.text):
            ch = self.text[j]
            if ch == "\\":
                j += 2
                continue
            if ch == "{":
                depth += 1
            elif ch == "}":
                if depth == 0 and c == "{":
                    self.i = j + 1
                    return self.text[start + 1:j]
                depth -= 1
                if depth < 0:
                    raise self.fail("unbalanced '}' inside a quoted value", j)
            elif ch == '"' and c == '"' and depth == 0:
                self.i = j + 1
                return self.text[start + 1:j]
            j += 1
        raise self.fail("unterminated field value (missing closing brace or quote); is an entry truncated?",
                        start)

    def entries(self) -> dict[str, Entry]:
        out: dict[str, Entry] = {}
        while True:
            self.skip_space()
            if self.i >= len(self.text):
                return out
            if self.text[self.i] != "@":
                raise self.fail(f"expected '@' to start an entry, found {self.text[self.i]!r}")
            at = self.i
            self.i += 1
            kind = self.name("an entry type").lower()
            self.expect("{", "'{' after @" + kind)
            key = self.name("a citation key", r"[A-Za-z0-9][A-Za-z0-9_:.-]*")
            if key in out:
                raise self.fail(f"duplicate key {key!r} (first defined earlier in the file)", at)
            fields: dict[str, str] = {}
            while True:
                self.skip_space()
                if self.i < len(self.text) and self.text[self.i] == "}":
                    self.i += 1
                    break
                self.expect(",", f"',' or '}}' in entry {key!r}")
                self.skip_space()
                if self.i < len(self.text) and self.text[self.i] == "}":
                    self.i += 1
                    break
                fname = self.name(f"a field name in entry {key!r}").lower()
                self.expect("=", f"'=' after field {fname!r} in entry {key!r}")
                if fname in fields:
                    raise self.fail(f"field {fname!r} given twice in entry {key!r}")
                fields[fname] = " ".join(self.value().split())
            out[key] = Entry(key=key, kind=kind, fields=MappingProxyType(fields))


def parse_bibtex(text: str, origin: str = "<bibtex>") -> dict[str, Entry]:
    """Parse BibTeX text into ``{key: Entry}`` in file order.

    Raises :class:`FileFormatError` (one line naming ``origin`` and the line) on a syntax error, a
    truncated entry, a duplicate key or a field given twice. ``%`` starts a comment outside values; a
    comment may not contain ``@`` (BibTeX itself has no comments and starts an entry at every ``@``).
    """
    return _Parser(text, origin).entries()


@functools.cache
def bibliography() -> Mapping[str, Entry]:
    """The package's bibliography (``spikebench/core/references.bib``), parsed once."""
    text = resources.files(__package__).joinpath(BIB_FILE).read_text(encoding="utf-8")
    return MappingProxyType(parse_bibtex(text, origin=f"spikebench/core/{BIB_FILE}"))


# ---- citations in source texts -------------------------------------------------------------------

def citations(text: str) -> list[tuple[str, str]]:
    """The citations in a source text, in order, as ``(key, locator)`` (locator ``""`` when absent)."""
    return [(m.group(1), (m.group(2) or "").strip()) for m in CITATION.finditer(text)]


def cite_keys(texts: Iterable[str]) -> list[str]:
    """The keys cited in ``texts``, each once, in order of first use."""
    return list(dict.fromkeys(key for t in texts for key, _ in citations(t)))


def check_keys(text: str, where: str) -> None:
    """Raise :class:`UnknownNameError` if ``text`` cites a key that is not in the bibliography."""
    bib = bibliography()
    for key, _ in citations(text):
        if key not in bib:
            raise UnknownNameError(one_line(
                f"{where}: cites [@{key}], which is not in the bibliography; "
                f"add an entry with that key to spikebench/core/{BIB_FILE}"))


def _label(key: str) -> str:
    entry = bibliography().get(key)
    if entry is None:
        raise UnknownNameError(one_line(
            f"citation [@{key}] is not in the bibliography; add it to spikebench/core/{BIB_FILE}"))
    return entry.label()


def render_text(text: str) -> str:
    """Citations replaced by ``Label, locator`` (``Davies et al. 2018, Table 2 p. 96``), for text and Markdown."""
    def one(m: re.Match) -> str:
        loc = (m.group(2) or "").strip()
        return f"{_label(m.group(1))}, {loc}" if loc else _label(m.group(1))
    return CITATION.sub(one, text)


def render_latex(text: str, escape: Callable[[str], str]) -> str:
    """Citations -> ``\\cite[locator]{key}`` (or ``\\cite{key}``); the text around them through ``escape``."""
    out, pos = [], 0
    for m in CITATION.finditer(text):
        out.append(escape(text[pos:m.start()]))
        loc = (m.group(2) or "").strip()
        out.append(f"\\cite[{escape(loc)}]{{{m.group(1)}}}" if loc else f"\\cite{{{m.group(1)}}}")
        pos = m.end()
    out.append(escape(text[pos:]))
    return "".join(out)


def to_bibtex(keys: Iterable[str]) -> str:
    """The entries for ``keys`` (each once, in the given order) as a BibTeX file."""
    bib = bibliography()
    keys = list(dict.fromkeys(keys))
    missing = [k for k in keys if k not in bib]
    if missing:
        raise UnknownNameError(one_line(
            f"not in the bibliography: {', '.join(missing)}; add them to spikebench/core/{BIB_FILE}"))
    head = [f"% References cited by spikebench (from spikebench/core/{BIB_FILE}); {len(keys)} entries.", ""]
    return "\n".join(head + [bib[k].to_bibtex() + "\n" for k in keys])
