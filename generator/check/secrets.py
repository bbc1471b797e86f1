"""Credential scan of record text, built on detect-secrets' detectors.

detect-secrets knows the token formats (AWS, GitHub, GitLab, Slack, Stripe, private key blocks,
passwords in URLs) and keyword assignments (`--password=...`, `DB_PASSWORD=...`). We add only
what it does not cover for shell commands: `mysql -pVALUE` and `Authorization:` headers.
Cheap screens (literals every match must contain) run first, so the detectors' patterns run
only on likely hits.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field

from ahocorasick_rs import AhoCorasick, Implementation
from detect_secrets.plugins.aws import AWSKeyDetector
from detect_secrets.plugins.base import RegexBasedDetector
from detect_secrets.plugins.basic_auth import BasicAuthDetector
from detect_secrets.plugins.github_token import GitHubTokenDetector
from detect_secrets.plugins.gitlab_token import GitLabTokenDetector
from detect_secrets.plugins.jwt import JwtTokenDetector
from detect_secrets.plugins.keyword import REGEX_BY_FILETYPE, KeywordDetector
from detect_secrets.plugins.npm import NpmDetector
from detect_secrets.plugins.openai import OpenAIDetector
from detect_secrets.plugins.private_key import PrivateKeyDetector
from detect_secrets.plugins.pypi_token import PypiTokenDetector
from detect_secrets.plugins.sendgrid import SendGridDetector
from detect_secrets.plugins.slack import SlackDetector
from detect_secrets.plugins.stripe import StripeDetector
from detect_secrets.util.filetype import FileType

ALLOW_MARKER = "runbook: allow-secret"

TOKEN_DETECTORS: tuple[RegexBasedDetector, ...] = (
    AWSKeyDetector(),
    BasicAuthDetector(),
    GitHubTokenDetector(),
    GitLabTokenDetector(),
    JwtTokenDetector(),
    NpmDetector(),
    OpenAIDetector(),
    PrivateKeyDetector(),
    PypiTokenDetector(),
    SendGridDetector(),
    SlackDetector(),
    StripeDetector(),
)
_KEYWORD_DETECTOR = KeywordDetector()
_KEYWORD_PATTERNS = REGEX_BY_FILETYPE[FileType.YAML]
# Shell forms detect-secrets' keyword rules do not read: `mysql -pS3cret`, `--password S3cret`,
# `-H "Authorization: Bearer abc..."`.
SHELL_CREDENTIALS = (
    ("MySQL password", re.compile(r"\b(?:mysql\w*|mariadb\w*)\b.*?\s-p([^\s'\"]+)")),
    ("password option", re.compile(r"--pass(?:word)?[= ]+['\"]?([^\s'\"$][^\s'\"]{2,})")),
    (
        "Authorization header",
        re.compile(r"(?i)authorization:\s*(?:bearer|basic|token)\s+([\w.~+/=-]{8,})"),
    ),
)
# Tools that take a password on their own flags; each runs only on commands holding the words
# (compared case-folded) that every match contains: the tool's name, and its flag or subcommand.
TOOL_CREDENTIALS = (
    (
        "curl user password",
        ("curl", "-u"),
        re.compile(r"\bcurl\b.*?\s(?:-u\s*|--user[= ]+)['\"]?[^\s:'\"]+:([^\s'\"]{3,})"),
    ),
    (
        "docker login password",
        ("docker", "login"),
        re.compile(
            r"\bdocker\s+login\b.*?\s(?:-p\s*|--password[= ]+)['\"]?([^\s'\"-][^\s'\"]{2,})"
        ),
    ),
)
# A credential in a URL's query (`?api_key=...`, `&token=...`) in any text, links included.
QUERY_KEYS = (
    "password", "passwd", "pwd", "pass", "token", "access_token", "auth_token", "api_key",
    "apikey", "secret", "client_secret", "sig", "signature",
)  # fmt: skip
QUERY_CREDENTIAL = re.compile(
    rf"(?i)[?&](?:{'|'.join(map(re.escape, QUERY_KEYS))})=([^&\s#'\"]{{6,}})"
)
# Literals every match of a detector contains, compared case-folded (tests/test_secrets.py
# checks every detector against a real token): a detector's own patterns run only where one
# of them occurs.
TOKEN_HINTS: dict[type[RegexBasedDetector], tuple[str, ...]] = {
    AWSKeyDetector: ("A3T", "ABIA", "ACCA", "AKIA", "ASIA", "aws"),
    BasicAuthDetector: ("://",),
    GitHubTokenDetector: ("ghp_", "gho_", "ghu_", "ghs_", "ghr_"),
    GitLabTokenDetector: (
        "glpat-",
        "gldt-",
        "glft-",
        "glsoat-",
        "glrt-",
        "GR1348941",
        "glcbt-",
        "glimt-",
        "glptt-",
        "glagent-",
        "gloas-",
    ),
    JwtTokenDetector: ("eyJ",),
    NpmDetector: ("_authToken",),
    OpenAIDetector: ("T3BlbkFJ",),
    PrivateKeyDetector: ("PRIVATE KEY", "PuTTY-User-Key-File-2"),
    PypiTokenDetector: ("pypi-",),
    SendGridDetector: ("SG.",),
    SlackDetector: ("xox", "hooks.slack.com"),
    StripeDetector: ("k_live_",),
}
_TOKEN_SCREENS = tuple(
    re.compile("|".join(f"(?:{pattern.pattern})" for pattern in detector.denylist))
    for detector in TOKEN_DETECTORS
)
# Words every keyword rule needs in a command: each of DENYLIST's patterns ("api_?key",
# "db_?pass", "pwd", "contraseña", ...) and each shell form above contains one
# (tests/test_secrets.py checks).
KEYWORD_HINTS = ("key", "pass", "pwd", "secret", "contrase", "authorization", "mysql", "mariadb")


# Letters Python's case-insensitive matching takes for `i` that case folding keeps apart
# (the dotless i, U+0131; the dotted capital I, U+0130, folds to `i` and a combining dot):
# the screen reads both as `i`.
_AS_I = str.maketrans({"\u0130": "i", "\u0131": "i"})


def _fold(text: str) -> str:
    """`text` as the screen compares it: every spelling the rules' case-insensitive patterns
    accept for an ASCII letter becomes that letter in lower case (folding, not lower(), maps
    the long s to `s`), and a lone surrogate (from an undecodable file name) becomes `?`."""
    if text.isascii():
        return text.lower()
    folded = text.translate(_AS_I).casefold()
    return folded.encode("utf-8", "replace").decode("utf-8")


_DETECTOR_HINTS = tuple(
    frozenset(map(_fold, TOKEN_HINTS[type(detector)])) for detector in TOKEN_DETECTORS
)
_QUERY_HINTS = frozenset(_fold(key + "=") for key in QUERY_KEYS)
_KEYWORD_HINTS = frozenset(map(_fold, KEYWORD_HINTS))
_TOKEN_OR_QUERY_HINTS = _QUERY_HINTS.union(*_DETECTOR_HINTS)
_SCREEN_WORDS = tuple(
    sorted(
        set().union(
            *_DETECTOR_HINTS,
            _QUERY_HINTS,
            _KEYWORD_HINTS,
            *(map(_fold, words) for _, words, _ in TOOL_CREDENTIALS),
        )
    )
)
# One pass over a record finds every rule's hint words at once: Python's re has no fast path
# for an alternation of literals (one pattern of all of them was ten times slower than this
# automaton), and a search per word read a large record dozens of times.
_SCREEN = AhoCorasick(list(_SCREEN_WORDS), implementation=Implementation.DFA)


class Hints:
    """Which of the credential rules can match a text, from one pass over it for the literal
    words each rule's matches contain; only those rules' patterns are then run."""

    __slots__ = ("text", "words")

    def __init__(self, text: str) -> None:
        self.text = text
        self.words = frozenset(
            _SCREEN_WORDS[index]
            for index, _, _ in _SCREEN.find_matches_as_indexes(_fold(text), overlapping=True)
        )

    def token_detectors(self) -> list[int]:
        """Indexes of the token detectors one of whose hints occurs and whose patterns match."""
        words = self.words
        return [
            index
            for index, hints in enumerate(_DETECTOR_HINTS)
            if not words.isdisjoint(hints) and _TOKEN_SCREENS[index].search(self.text)
        ]

    def query_credential(self) -> bool:
        return not self.words.isdisjoint(_QUERY_HINTS) and bool(QUERY_CREDENTIAL.search(self.text))

    def tool(self, words: tuple[str, ...]) -> bool:
        """Every word a tool's password rule needs (its name, its flag) occurs."""
        return all(_fold(word) in self.words for word in words)

    def command_credentials(self) -> bool:
        """A keyword, shell or tool rule, read as commands, could match (URL queries aside)."""
        return not self.words.isdisjoint(_KEYWORD_HINTS) or any(
            self.tool(words) for _, words, _ in TOOL_CREDENTIALS
        )


@dataclass(frozen=True)
class SecretHit:
    """A likely credential: its kind, a masked form safe to print, and (never printed) the
    matched text, used only to find its exact line."""

    kind: str
    masked: str
    value: str = field(repr=False)


def mask(secret: str) -> str:
    """Show just enough of a secret to find it, never the whole value."""
    shown = secret[:4] if len(secret) >= 12 else secret[:1]
    return f"{shown}…({len(secret)} chars)"


def _matches(detector: RegexBasedDetector, text: str) -> Iterator[str]:
    """The whole token; only for passwords in URLs is the credential a part of the match."""
    if isinstance(detector, BasicAuthDetector):
        yield from detector.analyze_string(text)
        return
    for pattern in detector.denylist:
        for match in pattern.finditer(text):
            yield match.group(0)


def may_hold_credentials(text: str) -> bool:
    """False when no rule but the token formats can match in `text`, read as commands: the
    screen `find_secrets(tokens=False)` applies to each command, applied once to all of a
    record's commands joined (nearly every record's commands hold no hint at all)."""
    hints = Hints(text)
    return hints.query_credential() or hints.command_credentials()


def find_secrets(text: str, *, command: bool, tokens: bool = True) -> Iterator[SecretHit]:
    """Yield credentials in `text`. Keyword rules apply to commands only: prose says "password".

    `tokens=False` skips the token formats, for callers that screened the whole file already.
    """
    for hit in _all_secrets(text, command=command, tokens=tokens):
        if not _allowed(text, hit.value):
            yield hit


def _allowed(text: str, secret: str) -> bool:
    """The allow marker silences the line it is on (of a multi-line script), nothing else."""
    start = text.find(secret)
    line_start = text.rfind("\n", 0, max(start, 0)) + 1
    line_end = text.find("\n", start + len(secret))
    return ALLOW_MARKER in text[line_start : line_end if line_end >= 0 else len(text)]


def _all_secrets(text: str, *, command: bool, tokens: bool) -> Iterator[SecretHit]:
    hints = Hints(text)
    if tokens:
        for index in hints.token_detectors():
            detector = TOKEN_DETECTORS[index]
            for value in _matches(detector, text):
                yield SecretHit(detector.secret_type, mask(value), value)
    if not hints.words.isdisjoint(_QUERY_HINTS):
        for match in QUERY_CREDENTIAL.finditer(text):
            yield SecretHit("credential in a URL query", mask(match.group(1)), match.group(1))
    if not command:
        return
    for kind, words, pattern in TOOL_CREDENTIALS:
        if hints.tool(words):
            for match in pattern.finditer(text):
                yield SecretHit(kind, mask(match.group(1)), match.group(1))
    if hints.words.isdisjoint(_KEYWORD_HINTS):
        return
    for value in _KEYWORD_DETECTOR.analyze_string(text, _KEYWORD_PATTERNS):
        yield SecretHit("password or key assignment", mask(value), value)
    for kind, pattern in SHELL_CREDENTIALS:
        for match in pattern.finditer(text):
            yield SecretHit(kind, mask(match.group(1)), match.group(1))


def mask_secrets(text: str) -> str:
    """`text` with every token-format or URL-query credential in it masked (for messages
    that echo a key, an id or a value, in every output format)."""
    if Hints(text).words.isdisjoint(_TOKEN_OR_QUERY_HINTS):
        return text
    for hit in _all_secrets(text, command=False, tokens=True):
        text = text.replace(hit.value, hit.masked)
    return text
