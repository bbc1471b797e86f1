"""Names people type (services, owners, tags): one key per name, however it is spelled.

`Uploads API`, `uploads-api` and `uploads_api` are one service: names are grouped by a key
that folds case, Unicode forms, invisible characters, spaces, `_` and `-`. The `aliases`
option renames without editing history: a record that says OLD is shown (and held to
`required_for`) under NEW. A page's URL comes from its key alone (`stable_slug`), so adding or
removing other records never moves it.
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import re
import unicodedata
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Literal

NameKind = Literal["service", "owner", "tag"]
NAME_KINDS: tuple[NameKind, ...] = ("service", "owner", "tag")
_JOINERS = re.compile(r"[\s_\-]+")
_PLAIN_SLUG = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*")
RESERVED_SLUGS = frozenset({"index"})


@functools.lru_cache(maxsize=65536)  # a runbook has few names, each on many records
def name_key(name: str) -> str:
    """The key a name is grouped by: NFKC, no invisible (format) characters, case folded,
    runs of spaces, `_` and `-` made one `-`."""
    text = name if name.isascii() else unicodedata.normalize("NFKC", name)
    if not text.isascii():
        text = "".join(c for c in text if unicodedata.category(c) != "Cf")
    return _JOINERS.sub("-", text.casefold()).strip("-")


def stable_slug(key: str) -> str:
    """A URL slug that depends on `key` alone: the key itself when it is plain (a-z, 0-9,
    single dashes), else its ASCII form plus a short digest of the key, so two keys that
    would slug alike (`ops/infra`, `ops-infra`) never share or steal a page."""
    if _PLAIN_SLUG.fullmatch(key) and key not in RESERVED_SLUGS and len(key) <= 60:
        return key
    folded = unicodedata.normalize("NFKD", key).encode("ascii", "ignore").decode("ascii")
    base = re.sub(r"[^a-z0-9]+", "-", folded.lower()).strip("-")[:50].strip("-")
    digest = hashlib.sha256(key.encode("utf-8")).hexdigest()[:8]
    return f"{base}-{digest}" if base else f"x-{digest}"


@dataclass(frozen=True)
class Aliases:
    """OLD → NEW per kind, keyed by OLD's name key (the `aliases` plugin option)."""

    services: Mapping[str, str] = field(default_factory=dict)
    owners: Mapping[str, str] = field(default_factory=dict)
    tags: Mapping[str, str] = field(default_factory=dict)

    @classmethod
    def from_option(cls, option: Mapping[str, Mapping[str, str]]) -> Aliases:
        return cls(
            **{
                kind: {name_key(old): new for old, new in option.get(kind, {}).items()}
                for kind in ("services", "owners", "tags")
            }
        )

    def __bool__(self) -> bool:
        return bool(self.services or self.owners or self.tags)

    def table(self, kind: NameKind) -> Mapping[str, str]:
        return {"service": self.services, "owner": self.owners, "tag": self.tags}[kind]

    def target(self, kind: NameKind, name: str) -> str | None:
        """NEW when `name` is an aliased OLD, else None."""
        table = self.table(kind)
        return table.get(name_key(name)) if table else None

    def canonical(self, kind: NameKind, name: str) -> str:
        """The name a record's word is shown under: its alias target, or itself."""
        return (self.target(kind, name) or name) if self else name

    def key(self, kind: NameKind, name: str) -> str:
        return name_key(self.canonical(kind, name) if self else name)


def preferred_spelling(uses: Iterable[tuple[str, dt.date, str]]) -> str:
    """The spelling a group of names is shown under: the most used, ties to the earliest
    record (by date, then id). `uses` are (spelling, record date, record id)."""
    counts: Counter[str] = Counter()
    earliest: dict[str, tuple[dt.date, str]] = {}
    for spelling, date, record_id in uses:
        counts[spelling] += 1
        if spelling not in earliest or (date, record_id) < earliest[spelling]:
            earliest[spelling] = (date, record_id)
    return min(counts, key=lambda spelling: (-counts[spelling], earliest[spelling]))


class ShownNames:
    """The name each service, owner and tag is shown and filtered under, wherever it appears
    (its page, search facets, the timeline, annotations): the alias target of the word a
    record says, spelled as most records of its group spell it (`preferred_spelling`).

    Every record's names are added first, then asked for: a shown name depends on all the
    records, so one built from fewer records (`runbook annotate --since`) would differ.
    """

    def __init__(self, aliases: Aliases | None = None) -> None:
        self.aliases = aliases or Aliases()
        self._uses: dict[NameKind, dict[str, list[tuple[str, dt.date, str]]]] = {
            kind: {} for kind in NAME_KINDS
        }
        self._shown: dict[tuple[NameKind, str], str] = {}
        # Each word's shown name once asked, until a record is added: pages, annotations and
        # search documents ask for every record's service, owner and tags (a million times at
        # 100,000 records), and finding a word's key folds and rewrites it each time.
        self._of_word: dict[tuple[NameKind, str], str] = {}

    def add(self, kind: NameKind, word: str, date: dt.date, record_id: str) -> str:
        """Count one record's use of `word`; the key of its group."""
        key = self.aliases.key(kind, word)
        self._uses[kind].setdefault(key, []).append(
            (self.aliases.canonical(kind, word), date, record_id)
        )
        self._shown.pop((kind, key), None)
        if self._of_word:
            self._of_word.clear()
        return key

    def by_key(self, kind: NameKind, key: str) -> str:
        """The shown name of the group with this key."""
        shown = self._shown.get((kind, key))
        if shown is None:
            shown = self._shown[(kind, key)] = preferred_spelling(self._uses[kind][key])
        return shown

    def shown(self, kind: NameKind, word: str) -> str:
        """The name a record's `word` is shown under (its alias target, or itself, when no
        record says it)."""
        shown = self._of_word.get((kind, word))
        if shown is None:
            key = self.aliases.key(kind, word)
            if key not in self._uses[kind]:
                shown = self.aliases.canonical(kind, word)
            else:
                shown = self.by_key(kind, key)
            self._of_word[(kind, word)] = shown
        return shown


def counts_as_use(aliases: Aliases, kind: NameKind, spelling: str) -> bool:
    """A target is used when a record spells it, under any spelling of it: one that is an
    alias to itself or to another spelling of itself (`Billing API: billing-api`) is still
    that name. A name reached only through an alias does not count: it could be a typo."""
    target = aliases.target(kind, spelling)
    return target is None or name_key(target) == name_key(spelling)
