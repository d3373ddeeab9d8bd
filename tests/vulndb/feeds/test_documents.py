"""Fast document decoding means exactly what the reference (json, PyYAML BaseLoader) means."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from spyglass.vulndb.feeds import documents
from spyglass.vulndb.feeds.documents import (
    DECODE_ERRORS,
    load_json,
    load_yaml,
    reference_yaml,
)


def _outcome(load: Any, raw: bytes) -> Any:
    try:
        return ("ok", load(raw))
    except DECODE_ERRORS as exc:
        return ("error", type(exc).__name__)


# Each case is a YAML feature the fast path must either get right or hand to the reference.
YAML_CASES = {
    "plain": b"id: X-1\nversions:\n- '1.0'\n- '1.10'\n- 2.0.1\nsummary: some text\n",
    "unquoted number": b"id: X-1\nversions:\n- 1.10\n",
    "numbers": b"a: 1\nb: 1.10\nc: .5\nd: 1.\ne: 0x1F\nf: 1e5\ng: +1\nh: 007\ni: -1\n",
    "constants": b"a: true\nb: false\nc: null\nd: ~\ne:\nf: True\ng: yes\nh: NULL\n",
    "special floats": b"a: .inf\nb: -.Inf\nc: .NaN\nd: .nan\n",
    "float words": b"- inf\n- -inf\n- nan\n- infinity\n- Infinity\n- NaN\n- .iNf\n- info\n",
    "anchor and alias": b"a: &x\n  k: v\nb: *x\n",
    "merge key": b"base: &b {k: v}\nchild:\n  <<: *b\n  j: w\n",
    "tags": b"a: !!str 1\nb: !custom x\n--- \n",
    "explicit start": b"---\nid: X-1\nlist: [a, b]\n",
    "two documents": b"---\na: 1\n---\nb: 2\n",
    "document end": b"a: b\n...\n",
    "directive": b"%YAML 1.1\n---\na: b\n",
    "flow": b"a: [1, x, 'y', {k: 2}]\nb: {c: d}\n",
    "quoted escapes": b'a: "\\x41\\u00e9\\N\\_\\L\\t"\nb: \'it\'\'s\'\nc: "\\"q\\""\n',
    "block scalars": b"a: |\n  one\n  two\nb: >-\n  folded\n  text\nc: |+\n  keep\n\n",
    "multi-line plain": b"details: first line\n  second line, with a comma\n\n  new paragraph\n",
    "colon in continuation": b"details: first line\n  second line, with: colon\n",
    "markdown in text": b"details: '**bold** *it* & more!'\nsummary: a *b* c\n",
    "tab": b"a:\tb\n",
    "crlf": b"a: b\r\nc: d\r\n",
    "unicode line breaks": "a: 'x\x85y'\nb: 'x\u2028y\u2029z'\nc: x\x85 y\n".encode(),
    "bom": b"\xef\xbb\xbfa: b\n",
    "utf-8": "a: été ✓\n".encode(),
    "invalid utf-8": b"a: \xff\n",
    "duplicate keys": b"a: 1\na: 2\n",
    "complex key": b"? [a, b]\n: c\n",
    "numeric keys": b"1: a\n1.5: b\ntrue: c\n",
    "empty": b"",
    "scalar document": b"just text\n",
    "sequence document": b"- a\n- b\n",
    "bad indentation": b"a:\n  b: 1\n c: 2\n",
    "unclosed flow": b"a: [x\n",
}


@pytest.mark.parametrize("raw", YAML_CASES.values(), ids=YAML_CASES.keys())
def test_yaml_cases_mean_what_the_reference_means(raw: bytes) -> None:
    assert _outcome(load_yaml, raw) == _outcome(reference_yaml, raw)


def test_plain_documents_take_the_fast_path() -> None:
    for name in ("plain", "explicit start", "multi-line plain", "quoted escapes", "utf-8"):
        assert documents._fast_yaml(YAML_CASES[name]) is not None, name


# Words YAML (1.1 or 1.2) or rapidyaml may read as something else than text.
# fmt: off
_WORDS = st.sampled_from([
    "inf", "-inf", "+.inf", "nan", "NaN", ".nan", "infinity", "Infinity", "null", "Null", "~",
    "true", "yes", "on", "1.10", ".5", "1.", "0x1F", "1_000", "1:30", "007", "+1", "2001-12-14",
    "@", "`", "*", "&", "!", "%", "|", ">", "-", "?", ":", ",", "#", "'q'", '"d"', "--", "---",
    "...",
])
# fmt: on
_text = st.text(st.characters(exclude_categories=("Cs",)), max_size=30) | _WORDS
_data = st.recursive(
    _text,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(_text, inner, max_size=4),
    max_leaves=20,
)


@settings(max_examples=500, deadline=None)
@given(data=_data, flow=st.sampled_from([False, True, None]), width=st.sampled_from([20, 80, 1000]))
def test_generated_documents_mean_what_the_reference_means(
    data: Any, flow: bool | None, width: int
) -> None:
    raw = yaml.safe_dump(
        data, default_flow_style=flow, width=width, allow_unicode=True, sort_keys=False
    ).encode()
    assert _outcome(load_yaml, raw) == _outcome(reference_yaml, raw)


@pytest.mark.realdata
@pytest.mark.parametrize("folder", ["osv-pypi/vulns", "alpine-secdb/yaml"])
def test_real_yaml_corpora_decode_identically(testdata: Path, folder: str) -> None:
    files = sorted((testdata / "advisories" / folder).rglob("*.yaml"))
    fast = 0
    for path in files:
        raw = path.read_bytes()
        assert load_yaml(raw) == reference_yaml(raw), path
        fast += documents._fast_yaml(raw) is not None
    assert fast >= 0.8 * len(files)  # the fast path is really taken, not just the fallback


JSON_CASES = {
    "object": b'{"a": [1, 2.5, "x", true, null]}',
    "lone surrogate": b'{"a": "\\ud800"}',
    "huge integer": b'{"a": 123456789012345678901234567890}',
    "past 64 bits": b"[18446744073709551616, -9223372036854775809, 18446744073709551615]",
    "infinite float": b'{"a": 1e400}',
    "nan": b'{"a": NaN, "b": Infinity}',
    "duplicate keys": b'{"a": 1, "a": 2}',
    "bom": b'\xef\xbb\xbf{"a": 1}',
    "trailing comma": b'{"a": 1,}',
    "empty": b"",
    "not json": b"<html>",
}


@pytest.mark.parametrize("raw", JSON_CASES.values(), ids=JSON_CASES.keys())
def test_json_cases_mean_what_json_means(raw: bytes) -> None:
    assert _outcome(load_json, raw) == _outcome(json.loads, raw)
