"""Documents for :func:`alchemist.ingest`: reading plain text, Markdown and PDF, one at a time.

A :class:`Document` holds the text of one source and the *analysis text* the extractor reads:
the same string for plain text and PDF, and for Markdown the source with its markup (heading
marks, emphasis, link targets, code, HTML tags) replaced by spaces. The analysis text has the
length of the source, so every character span found in it is a span of the source: provenance
points into the file as the user wrote it.

:func:`iter_documents` turns what a user hands over (paths, a folder, strings, bytes, the seed's
``{"document_id", "content", "metadata"}`` dicts, :class:`Document` objects, or an iterator of
them) into documents lazily, so that a corpus is read one document at a time.
"""

from __future__ import annotations

import io
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterator

from alchemist.errors import InputFormatError, MissingDependencyError

__all__ = ["Document", "read_document", "iter_documents", "iter_sources", "load_document", "FORMATS",
           "markdown_analysis_text", "check_text", "check_format"]

FORMATS = ("text", "markdown", "pdf")
SUFFIXES = {".txt": "text", ".text": "text", ".rst": "text", ".md": "markdown", ".markdown": "markdown",
            ".pdf": "pdf"}
MAX_CONTROL_FRACTION = 0.05  # above this share of control characters, bytes are not text
_CONTROL = re.compile(r"[\x00-\x08\x0e-\x1f\x7f-\x9f]")  # Unicode category Cc but tab, newlines, form feeds


@dataclass(frozen=True)
class Document:
    """One document: its id, text and where it came from.

    Parameters
    ----------
    document_id : str
        Unique within an ingestion; the document node is ``"doc:<document_id>"``.
    text : str
        The document's text (for a PDF, the text layer pypdf extracts, pages separated by
        ``"\\n\\n"``). Character spans in the graph index this string.
    format : {"text", "markdown", "pdf"}
    source : str, optional
        The file it was read from.
    metadata : dict
        JSON-compatible properties copied onto the document node.
    page_starts : tuple of int
        For a PDF, the offset in ``text`` where each page begins (page ``k`` is
        ``text[page_starts[k]:page_starts[k + 1]]``); empty otherwise.

    Examples
    --------
    >>> doc = Document("a", "Force layouts. *Springs* pull.", format="markdown")
    >>> doc.analysis_text
    'Force layouts.  Springs  pull.'
    """

    document_id: str
    text: str
    format: str = "text"
    source: str | None = None
    metadata: dict[str, Any] = field(default_factory=dict)
    page_starts: tuple[int, ...] = ()

    @property
    def analysis_text(self) -> str:
        """The text the extractor reads: ``text`` itself, or for Markdown its prose with the markup blanked.

        Returns
        -------
        str
            A string of the same length as :attr:`text`.
        """
        return markdown_analysis_text(self.text) if self.format == "markdown" else self.text

    def page_of(self, offset: int) -> int | None:
        """The 0-based page holding character ``offset`` of a PDF's text (None for other formats).

        Parameters
        ----------
        offset : int

        Returns
        -------
        int or None
        """
        if not self.page_starts:
            return None
        import bisect

        return bisect.bisect_right(self.page_starts, offset) - 1


def read_document(source, document_id: str | None = None, *, format: str | None = None,
                  metadata: dict | None = None) -> Document:
    """Read one document from a file or from bytes.

    Parameters
    ----------
    source : str, os.PathLike or bytes
        A file path, or the file's bytes.
    document_id : str, optional
        Default: the file's name, or ``"document"`` for bytes.
    format : {"text", "markdown", "pdf"}, optional
        Default: from the file's suffix (``.md`` Markdown, ``.pdf`` PDF, else text), or for bytes
        ``"pdf"`` when they start with ``%PDF-``, else text.
    metadata : dict, optional
        Properties for the document node.

    Returns
    -------
    Document

    Raises
    ------
    InputFormatError
        Naming the document: the file cannot be read, the bytes are not UTF-8 text or are
        binary, the PDF cannot be parsed, is encrypted or has no text layer, or there is no text.

    Examples
    --------
    >>> read_document(b"Springs pull connected nodes together.", "d1").text
    'Springs pull connected nodes together.'
    >>> read_document(b"\\x00\\x01\\x02binary", "blob")
    Traceback (most recent call last):
    ...
    alchemist.errors.InputFormatError: document 'blob': 3 of 9 characters are control characters (NUL at offset 0): binary data, not text; pass a text, Markdown or PDF file
    """
    path = None
    if isinstance(source, (bytes, bytearray, memoryview)):
        data = bytes(source)
        document_id = document_id or "document"
    else:
        path = Path(source)
        document_id = document_id or path.name
        try:
            data = path.read_bytes()
        except OSError as exc:
            raise InputFormatError(f"document {document_id!r}: cannot read {path}: {exc.strerror or exc}",
                                   path=str(path)) from None
    if format is None:
        if path is not None and path.suffix.lower() in SUFFIXES:
            format = SUFFIXES[path.suffix.lower()]
        else:
            format = "pdf" if data.startswith(b"%PDF-") else "text"
    check_format(format, document_id)
    page_starts: tuple[int, ...] = ()
    if format == "pdf":
        text, page_starts = _pdf_text(data, document_id, path)
    else:
        text = _decode(data, document_id, path)
    document = Document(str(document_id), text, format, None if path is None else str(path), dict(metadata or {}),
                        page_starts)
    check_text(document)
    return document


def iter_documents(documents) -> Iterator[Document]:
    """Documents from what the user gives, lazily (one read at a time).

    Parameters
    ----------
    documents : Document, str, os.PathLike, bytes, dict, or an iterable of them
        A :class:`Document`; a :class:`pathlib.Path` (a file, or a folder: its ``.txt``, ``.md``,
        ``.markdown``, ``.rst`` and ``.pdf`` files in name order); a ``str`` (the text itself);
        ``bytes`` (a file's content); a dict in the seed's shape ``{"document_id", "content",
        "metadata"}`` (``"id"``/``"text"``/``"path"``/``"format"`` also accepted).

    Yields
    ------
    Document
        Strings and bytes without an id get ``"doc-1"``, ``"doc-2"``, … by position.

    Raises
    ------
    InputFormatError
        As :func:`read_document`; or a dict without content or path; or an item of another type.
    """
    for position, item in iter_sources(documents):
        yield load_document(item, position)


def iter_sources(documents) -> Iterator[tuple[int, Any]]:
    """``(position, item)`` for each document to read, folders expanded, nothing read yet.

    Parameters
    ----------
    documents
        As :func:`iter_documents`.

    Yields
    ------
    (int, object)
        1-based position and the item (a folder yields one :class:`pathlib.Path` per file).
    """
    if isinstance(documents, (Document, str, bytes, bytearray, Path, dict)):
        documents = [documents]
    position = 0
    for item in documents:
        if isinstance(item, Path) and item.is_dir():
            for path in sorted(p for p in item.iterdir() if p.suffix.lower() in SUFFIXES and p.is_file()):
                position += 1
                yield position, path
        else:
            position += 1
            yield position, item


def check_format(format: str, document_id: str) -> None:
    """Raise :class:`InputFormatError` unless ``format`` is one of :data:`FORMATS`."""
    if format not in FORMATS:
        raise InputFormatError(f"document {document_id!r}: unknown format {format!r}; use one of {', '.join(FORMATS)}")


def check_text(document: Document) -> None:
    """Raise :class:`InputFormatError` if a document is binary data or has no words.

    Parameters
    ----------
    document : Document

    Raises
    ------
    InputFormatError
        Naming the document: control characters (NUL, or more than 5 % of the characters) or
        no word character in its analysis text.
    """
    text = document.text
    control = [m.start() for m in _CONTROL.finditer(text, 0, 1_000_000)]
    if control and (text[control[0]] == "\x00" or len(control) > MAX_CONTROL_FRACTION * min(len(text), 1_000_000)):
        first = control[0]
        name = "NUL" if text[first] == "\x00" else f"U+{ord(text[first]):04X}"
        raise InputFormatError(
            f"document {document.document_id!r}: {len(control)} of {len(text)} characters are control characters "
            f"({name} at offset {first}): binary data, not text; pass a text, Markdown or PDF file",
            path=document.source)
    if not re.search(r"\w", document.analysis_text):
        raise InputFormatError(f"document {document.document_id!r} has no text (it is empty or only markup/whitespace)",
                               path=document.source)


# --------------------------------------------------------------------------- Markdown
_MD_RULES = [
    re.compile(r"^(?:```|~~~)[^\n]*\n.*?^(?:```|~~~)[ \t]*$", re.M | re.S),  # fenced code: all of it
    re.compile(r"<!--.*?-->", re.S),                                          # HTML comments
    re.compile(r"`[^`\n]*`"),                                                 # inline code
    re.compile(r"</?[A-Za-z][^>\n]*>"),                                       # HTML tags
    re.compile(r"^[ \t]*(?:#{1,6}|>+|[-*+]|\d+[.)])(?=[ \t])", re.M),         # heading, quote, list marks
    re.compile(r"^[ \t]*(?:[-*_][ \t]*){3,}$", re.M),                        # rules
    re.compile(r"^[ \t]*\[[^\]\n]+\]:[^\n]*$", re.M),                        # link definitions
]
_MD_LINK = re.compile(r"!?\[([^\]\n]*)\]\([^)\n]*\)")  # keep the link text, blank ![, ], (target)
_MD_MARKS = re.compile(r"(\*{1,3}|_{1,3}|~~|\|)")         # emphasis, strike-through, table pipes


def markdown_analysis_text(text: str) -> str:
    """The prose of a Markdown text, markup replaced by spaces (same length, same offsets).

    Blanks fenced and inline code, HTML tags and comments, heading/quote/list marks, rules,
    link definitions, link targets and brackets (keeping the link text), emphasis marks and
    table pipes. Newlines are kept, so paragraphs and lines stay where they were.

    Parameters
    ----------
    text : str
        Markdown source.

    Returns
    -------
    str
        ``len(result) == len(text)``; every character is either the source's or a space.

    Examples
    --------
    >>> markdown_analysis_text("## Springs\\nSee [ForceAtlas2](https://x.org) **now**.")
    '   Springs\\nSee  ForceAtlas2                    now  .'
    """
    chars = list(text)

    def blank(start: int, end: int) -> None:
        for k in range(start, end):
            if chars[k] != "\n":
                chars[k] = " "

    for rule in _MD_RULES:
        for m in rule.finditer("".join(chars)):
            blank(m.start(), m.end())
    for m in _MD_LINK.finditer("".join(chars)):
        blank(m.start(), m.start(1))
        blank(m.end(1), m.end())
    for m in _MD_MARKS.finditer("".join(chars)):
        blank(m.start(), m.end())
    return "".join(chars)


# --------------------------------------------------------------------------- helpers
def load_document(item, position: int) -> Document:
    """Read one item of :func:`iter_sources` into a :class:`Document` (see :func:`iter_documents`).

    Parameters
    ----------
    item : Document, pathlib.Path, str, bytes or dict
    position : int
        1-based position, for the default id ``"doc-<position>"``.

    Returns
    -------
    Document

    Raises
    ------
    InputFormatError
        Naming the document, as :func:`read_document`.
    """
    if isinstance(item, Document):
        check_format(item.format, item.document_id)
        check_text(item)
        return item
    if isinstance(item, Path):
        return read_document(item)
    if isinstance(item, str):
        document = Document(f"doc-{position}", item)
        check_text(document)
        return document
    if isinstance(item, (bytes, bytearray, memoryview)):
        return read_document(bytes(item), f"doc-{position}")
    if isinstance(item, dict):
        return _from_dict(item, position)
    raise InputFormatError(
        f"document {position} is a {type(item).__name__}; give a Document, a pathlib.Path, a str (the text), bytes, "
        "or a dict {'document_id', 'content', 'metadata'}")


def _from_dict(item: dict, position: int) -> Document:
    document_id = str(item.get("document_id", item.get("id", f"doc-{position}")))
    metadata = item.get("metadata") or {}
    format = item.get("format")
    content = item.get("content", item.get("text"))
    if content is None:
        if item.get("path") is None:
            raise InputFormatError(f"document {document_id!r} has neither 'content' nor 'path'; give one of them")
        return read_document(item["path"], document_id, format=format, metadata=metadata)
    if isinstance(content, (bytes, bytearray)):
        return read_document(bytes(content), document_id, format=format, metadata=metadata)
    format = format or "text"
    check_format(format, document_id)
    if format == "pdf":
        raise InputFormatError(f"document {document_id!r}: format 'pdf' needs the file's bytes or path, not a str")
    document = Document(document_id, str(content), format, item.get("path"), dict(metadata))
    check_text(document)
    return document


def _decode(data: bytes, document_id: str, path: Path | None) -> str:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InputFormatError(
            f"document {document_id!r} is not UTF-8 text (byte 0x{data[exc.start]:02x} at offset {exc.start}); "
            "pass format='pdf' for a PDF, or decode the text yourself and pass the str",
            path=None if path is None else str(path)) from None


def _pdf_text(data: bytes, document_id: str, path: Path | None) -> tuple[str, tuple[int, ...]]:
    try:
        from pypdf import PdfReader
        from pypdf.errors import PyPdfError
    except ImportError:  # pragma: no cover - the ingest extra installs it
        raise MissingDependencyError("reading PDF needs pypdf: pip install 'alchemist[ingest]'") from None
    where = None if path is None else str(path)
    try:
        reader = PdfReader(io.BytesIO(data))
        if reader.is_encrypted:
            raise InputFormatError(f"document {document_id!r} is an encrypted PDF; decrypt it first (e.g. qpdf --decrypt)",
                                   path=where)
        pages = [page.extract_text() or "" for page in reader.pages]
    except InputFormatError:
        raise
    except (PyPdfError, ValueError, KeyError, TypeError, AttributeError, OSError) as exc:
        raise InputFormatError(f"document {document_id!r} is not a readable PDF: {exc}", path=where) from None
    starts, text = [], ""
    for k, page in enumerate(pages):
        if k:
            text += "\n\n"
        starts.append(len(text))
        text += page
    if not re.search(r"\w", text):
        raise InputFormatError(
            f"document {document_id!r}: the PDF's {len(pages)} page(s) have no text layer (a scan?); run OCR first",
            path=where)
    return text, tuple(starts)
