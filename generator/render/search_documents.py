"""What search indexes of a record: one small HTML document per record, for Pagefind.

The document holds the record's values (not the page's labels and headings, which are on
every record and would make those words match all of them), Pagefind's metadata (title, date,
service, owner, status: what a result shows) and filters (service, owner, status, tag, year:
the facets), and the record's *search terms*.

Search terms are why a path or a command fragment is found precisely. Pagefind splits words at
punctuation, so `app/billing/file-0469.conf` would be the words "app", "billing", ... and
`--dry-run=server` would be "dry", "run", "server": a full path would list every record in its
folder, and flags could not be told apart. A joined word (one holding anything besides letters
and digits, such as "/", ".", "-", "=" or ":") is therefore also indexed *encoded* into letters
and digits, whole, by its tails (`file-0469.conf`, `0469.conf`) and by its parts; its heads
(`app/billing`) need no terms of their own, since Pagefind finds the words a query term starts
(and indexing them only made the index larger). The browser (templates/runbook-search.js)
encodes a query's joined words the same way, so `app/billing` finds that folder,
`--dry-run=server` finds that flag, and a full path finds only the records that touched it
(runbook-search.js also drops what Pagefind finds for a word no record has). The encoding is
a contract between this module and that script: change both or neither
(tests/site/test_search.py checks they agree).

Services, owners and tags are indexed, shown and filtered under their shown names (the names
their pages have: names.ShownNames), and found by the words the record says too. A document
is in Unicode's composed form (NFC), as the worker makes what is typed: a path written
decomposed is found by the same letters typed on any keyboard.

Facet (filter) values are written with "%", '"', "\\" and control characters as %XX
(`filter_value`): Pagefind never matches a filter value whose JSON has an escape, so a
service called `Edge "beta"` could not be chosen. The worker decodes them to match what is
typed and hands Pagefind the values as indexed.
"""

from __future__ import annotations

import functools
import re
import unicodedata

from jinja2 import Environment

from ..models import SourcedRecord
from ..names import ShownNames

SEARCH_DOCUMENT_TEMPLATE = "_record_search.html.j2"
# Everything after this word in a document's text is search terms; the browser cuts excerpts
# there (runbook-search.js has the same word).
TERMS_MARKER = "zzrunbooktermszz"
# How a joined word's punctuation is spelled in letters; any other character is "zx", and
# "z" itself is "zz", so that no two words encode alike.
_SPELLED = {"-": "zh", "/": "zs", ".": "zd", "_": "zu", "=": "ze", ":": "zc", "@": "za"}
_SPELLED |= {"~": "zt", "+": "zp", ",": "zm", "z": "zz"}
_LEADING = "\"'`([{<*"
_TRAILING = "\"'`)]}>*,;:!?."
_JOINER_RUN = re.compile(r"[\W_]+")
_FILTER_ESCAPED = re.compile(r'[%"\\\x00-\x1f\x7f]')
_WORD = re.compile(r"\S+")


def encode(word: str) -> str:
    """A joined word spelled in letters and digits only (see the module docstring)."""
    return "".join(
        char if char.isalnum() and char != "z" else _SPELLED.get(char, "zx") for char in word
    )


def filter_value(value: str) -> str:
    """A facet value as Pagefind indexes it (see the module docstring)."""
    return _FILTER_ESCAPED.sub(lambda char: f"%{ord(char.group()):02X}", value)


def _joined(word: str) -> bool:
    """Whether a (non-empty) word holds anything besides letters and digits."""
    return not word.isalnum()


@functools.lru_cache(maxsize=1 << 13)
def terms_of_word(word: str) -> frozenset[str]:
    """The search terms of one word of text: itself encoded, its tails and its parts.
    Remembered (the last few thousand): a runbook's paths, commands and names recur in
    record after record, and finding them was most of a full build's search documents."""
    word = word.lstrip(_LEADING).rstrip(_TRAILING).lower()
    if not word or not _joined(word) or not any(char.isalnum() for char in word):
        return frozenset()
    variants = {word, word.lstrip("-")}
    for run in _JOINER_RUN.finditer(word):
        if run.end() < len(word):
            variants.add(word[run.end() :])
    terms = {encode(variant) if _joined(variant) else variant for variant in variants if variant}
    terms.update(part for part in _JOINER_RUN.split(word) if part)
    return frozenset(terms)


def search_terms(texts: list[str]) -> list[str]:
    """The search terms of every joined word in these texts, sorted (stable documents)."""
    words = {word for text in texts for word in _WORD.findall(text)}
    # Plain ASCII words have none (other letters may lower-case to more than letters).
    joined = [word for word in words if not (word.isascii() and word.isalnum())]
    return sorted(frozenset().union(*map(terms_of_word, joined)))


def _searchable_texts(entry: SourcedRecord, shown: dict[str, list[str]]) -> list[str]:
    record = entry.record
    texts = [record.title, record.owner, record.service, record.environment, *record.tags]
    texts += [*shown["service"], *shown["owner"], *shown["tag"]]
    texts += [*record.reviewers, *record.files_touched, record.reason, record.rollback.plan]
    texts += [incident.id for incident in record.incidents]  # "INC-1042" finds its cause
    for command in [*record.commands, *record.rollback.commands]:
        texts += [command.run, command.note or ""]
    return texts


def shown_names_of(entry: SourcedRecord, names: ShownNames) -> dict[str, list[str]]:
    """The record's service, owner and tags as shown (tags once each, in its order)."""
    record = entry.record
    return {
        "service": [names.shown("service", record.service)],
        "owner": [names.shown("owner", record.owner)],
        "tag": list(dict.fromkeys(names.shown("tag", tag) for tag in record.tags)),
    }


def search_document_html(environment: Environment, entry: SourcedRecord, names: ShownNames) -> str:
    """The HTML document Pagefind indexes for a record's page."""
    shown = shown_names_of(entry, names)
    html = environment.get_template(SEARCH_DOCUMENT_TEMPLATE).render(
        entry=entry,
        record=entry.record,
        service=shown["service"][0],
        owner=shown["owner"][0],
        tags=shown["tag"],
        terms=search_terms(
            [unicodedata.normalize("NFC", text) for text in _searchable_texts(entry, shown)]
        ),
        terms_marker=TERMS_MARKER,
        filter_value=filter_value,
    )
    return unicodedata.normalize("NFC", html)
