"""Feed documents (JSON or YAML bytes) decoded to plain data, fast and with one meaning.

Every YAML scalar stays the text written (``1.10`` must not become the float 1.1), as
PyYAML's ``BaseLoader`` gives it; that reference path walks libyaml's node tree by hand.

Decoding is most of an ingest, so each format has a fast path, taken only for documents on
which it gives the reference's result; the others take the reference path (which also gives
the error message, if any):

- JSON: ``orjson``; anything it refuses (lone surrogates, ``NaN``) goes to ``json``, and so
  does a document with a run of 19 digits (orjson reads integers past 64 bits as floats).
- YAML: rapidyaml parses in C++ and emits JSON, read back by ``json`` with hooks that refuse
  any number: about three times faster than the reference on the PyPI records. rapidyaml
  resolves less than YAML 1.1 says (aliases stay ``*name``, ``inf`` and ``.NaN`` become
  ``.inf`` and ``.nan``, ``1.`` becomes ``1.0``, an empty value ``null``, NEL is no line
  break), so a document with anything beyond plain mappings, sequences and string scalars - an
  anchor, alias, tag, directive, second document, the word inf, nan or infinity, a tab, a line
  break other than LF, or an unquoted number or constant in the emitted JSON - takes the
  reference path. The checks look inside text too, so some plain documents go there as well
  (2% of the PyPI records). Tests compare both paths on fixed cases, on generated documents
  and on the PyPI and Alpine secdb corpora. Where the two differ is text that is not YAML:
  rapidyaml accepts some of it (an empty key, a plain scalar starting with ``]``, an unclosed
  ``[``) that PyYAML rejects, so such a record is read rather than skipped; and it prints its
  own message to stderr for text it rejects too.

Written here because no library does both: rapidyaml is fast but types scalars as YAML 1.2
does, and PyYAML keeps strings but composes node objects in Python.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import orjson
import yaml

from spyglass.errors import FeedError

try:  # a C++ extension: without a wheel for this platform, the reference path does it all
    import ryml  # type: ignore[import-untyped]
except ImportError:  # pragma: no cover - wheels exist for the platforms we run on
    ryml = None

DECODE_ERRORS: tuple[type[Exception], ...] = (ValueError, yaml.YAMLError)
"""What :func:`load_json` and :func:`load_yaml` raise for bytes that are not their format."""

# The base loader keeps every scalar a string, and the libyaml composer builds the node tree in
# C; walking it by hand (below) is a third faster than PyYAML's generic constructor.
_YAML_LOADER = getattr(yaml, "CBaseLoader", yaml.BaseLoader)

# What makes a YAML source more than plain mappings, sequences and string scalars: a directive
# or document marker at a line start, a merge key, a tab or another line break (rules differ),
# an anchor / alias / tag where a node starts, a special float.
_LINE_MARKS = (b"---", b"...", b"%")
# YAML 1.1 also breaks lines at NEL, LS and PS (PyYAML does; rapidyaml does not).
_INNER_MARKS = (
    b"\n---",
    b"\n...",
    b"\n%",
    b"<<",
    b"\t",
    b"\r",
    b"\xc2\x85",
    b"\xe2\x80\xa8",
    b"\xe2\x80\xa9",
)
_PROPERTY_CHARS = b"&*!"
_PROPERTY = re.compile(rb"[&*!][^\s,\[\]{}]")  # charset first: the regex engine scans fast
_NODE_START = frozenset(b" \n[{,?:-")
# rapidyaml rewrites inf, -inf, nan, infinity (any case, dotted or not) to .inf / .nan.
_SPECIAL_FLOAT = re.compile(rb"(?i)(?<![a-z0-9_])(?:inf(?:inity)?|nan)(?![a-z0-9_])")
_JSON_TRIGGERS = ("true", "false", "null")
# In the emitted JSON: true / false / null as a value.
_JSON_CONSTANT = re.compile(r"[\[,:]\s*(?:true|false|null)\s*[,\]}\n]")


# Every digit to "0", everything else to " ": a run of 19 zeros is a number orjson may misread.
_DIGITS = bytes(0x30 if 0x30 <= c <= 0x39 else 0x20 for c in range(256))
_LONG_DIGITS = b"0" * 19


class _NotPlain(Exception):
    """The fast path cannot vouch for this document."""


def _not_plain(_text: str) -> Any:
    raise _NotPlain


def load_json(raw: bytes) -> Any:
    """``json.loads``' result for ``raw``, computed by orjson when it agrees to."""
    if _LONG_DIGITS in raw.translate(_DIGITS):  # orjson reads integers past 64 bits as floats
        return json.loads(raw)
    try:
        return orjson.loads(raw)
    except orjson.JSONDecodeError:
        return json.loads(raw)


def read_json_file(path: Path, what: str) -> Any:
    """The JSON document in ``path``; ``FeedError`` naming ``what`` when it cannot be read."""
    try:
        return load_json(path.read_bytes())
    except (OSError, ValueError) as exc:
        raise FeedError(f"{what} {path} is not readable JSON ({exc})") from exc


def load_yaml(raw: bytes) -> Any:
    """``raw`` as plain data, every scalar a string; ``yaml.YAMLError`` when it is not YAML."""
    fast = _fast_yaml(raw)
    return fast if fast is not None else reference_yaml(raw)


def reference_yaml(raw: bytes) -> Any:
    """The meaning :func:`load_yaml` keeps: PyYAML's ``BaseLoader`` reading, via libyaml."""
    node = yaml.compose(raw, Loader=_YAML_LOADER)
    try:
        return _plain(node)
    except TypeError as exc:  # a sequence or mapping used as a key cannot be a dict key
        raise yaml.YAMLError(f"a mapping key that is not a scalar ({exc})") from exc


def _fast_yaml(raw: bytes) -> Any:
    """rapidyaml's reading of a plain document, or ``None`` to use the reference path."""
    if raw.startswith(b"---\n"):  # one explicit document start is still one document
        raw = raw[4:]
    if ryml is None or _beyond_plain(raw):
        return None
    try:
        raw.decode("utf-8")  # the reference refuses what rapidyaml would carry through
        tree = ryml.parse_in_arena(raw)
        emitted = ryml.emit_json_malloc(tree, tree.root_id())
        if not emitted or _constant_in(emitted):
            return None
        data = json.loads(
            emitted, parse_int=_not_plain, parse_float=_not_plain, parse_constant=_not_plain
        )
    except (_NotPlain, UnicodeError, ValueError, ryml.ExceptionBasic):
        return None
    return data if isinstance(data, dict | list) else None


def _beyond_plain(raw: bytes) -> bool:
    if raw.startswith(_LINE_MARKS) or any(mark in raw for mark in _INNER_MARKS):
        return True
    if len(raw.translate(None, _PROPERTY_CHARS)) != len(raw) and _node_property(raw):
        return True
    lower = raw.lower()  # the case-insensitive pattern is slow; most documents skip it
    return (b"inf" in lower or b"nan" in lower) and _SPECIAL_FLOAT.search(raw) is not None


def _node_property(raw: bytes) -> bool:
    for found in _PROPERTY.finditer(raw):
        at = found.start()
        if at == 0 or raw[at - 1] in _NODE_START:
            return True
    return False


def _constant_in(emitted: str) -> bool:
    return any(t in emitted for t in _JSON_TRIGGERS) and bool(_JSON_CONSTANT.search(emitted))


def _plain(node: yaml.Node | None) -> Any:
    if node is None or isinstance(node, yaml.ScalarNode):
        return node.value if node is not None else None
    if isinstance(node, yaml.SequenceNode):
        return [_plain(item) for item in node.value]
    return {_plain(key): _plain(value) for key, value in node.value}
