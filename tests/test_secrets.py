"""The credential scan: every detector fires on a real-looking token, hints never hide one,
the allow marker works, and prose words like "password" are not flagged outside commands."""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

import pytest
import yaml
from cli_run import run_cli
from detect_secrets.plugins.keyword import DENYLIST, REGEX_BY_FILETYPE, KeywordDetector
from detect_secrets.util.filetype import FileType
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from generator.check.rules import secret_findings
from generator.check.secrets import (
    KEYWORD_HINTS,
    QUERY_CREDENTIAL,
    SHELL_CREDENTIALS,
    TOKEN_DETECTORS,
    TOKEN_HINTS,
    TOOL_CREDENTIALS,
    Hints,
    find_secrets,
    may_hold_credentials,
)

# One token per detector, in the format each service issues (all fake).
SAMPLES = {
    "AWSKeyDetector": "aws s3 ls --profile x AKIAIOSFODNN7EXAMPLE",
    "BasicAuthDetector": "curl https://deploy:s3cr3tpass@registry.example.com/v2/",
    "GitHubTokenDetector": "export GH=ghp_" + "a1B2" * 9,
    "GitLabTokenDetector": "git clone https://oauth2:glpat-" + "x7Y9z" * 4 + "@gitlab.example",
    "JwtTokenDetector": "Bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.c2lnbmF0dXJl",
    "NpmDetector": "echo //registry.npmjs.org/:_authToken=npm_" + "A1b2C3" * 6,
    "OpenAIDetector": "OPENAI=sk-" + "A1b2C3d4E5" * 2 + "T3BlbkFJ" + "Z9y8X7w6V5" * 2,
    "PrivateKeyDetector": "-----BEGIN OPENSSH PRIVATE KEY-----",
    "PypiTokenDetector": "twine upload -p pypi-AgEIcHlwaS5vcmc" + "Ab1_" * 18,
    "SendGridDetector": "SG." + "a" * 22 + "." + "b" * 43,
    "SlackDetector": "curl https://hooks.slack.com/services/T0001/B0001/XXXXXXXXXXXX",
    "StripeDetector": "stripe --api-key sk_live_" + "4eC39HqLyjWDarjtT1zdp7dc",
}


def test_every_detector_has_hints_and_a_sample() -> None:
    assert {type(d).__name__ for d in TOKEN_DETECTORS} == set(SAMPLES)
    assert set(TOKEN_HINTS) == {type(d) for d in TOKEN_DETECTORS}


@pytest.mark.parametrize("word", DENYLIST)
def test_every_keyword_rule_word_contains_a_hint(word: str) -> None:
    """detect-secrets' keyword words are simple: letters with optional `_` (`api_?key`).
    Every spelling they match must contain a hint, or the hint test would hide it."""
    assert re.fullmatch(r"(?:[^\W_]|_\?)+", word), f"{word!r}: not a simple word any more"
    spellings = {word.replace("_?", ""), word.replace("_?", "_")}
    for spelling in spellings:
        assert re.fullmatch(word, spelling)
        assert any(hint in spelling for hint in KEYWORD_HINTS), spelling


@pytest.mark.parametrize("kind", [kind for kind, _ in SHELL_CREDENTIALS])
def test_every_shell_form_needs_a_hint(kind: str) -> None:
    """A command that matches a shell form matches no more once the hint words are gone."""
    samples = {
        "MySQL password": "mysql -u root -pS3cretPass db",
        "password option": "psql --password=S3cretPass",
        "Authorization header": "curl -H 'Authorization: Bearer abcdef123456'",
    }
    pattern = dict(SHELL_CREDENTIALS)[kind]
    assert pattern.search(samples[kind])
    assert list(find_secrets(samples[kind], command=True, tokens=False))
    without_hints = re.sub("|".join(KEYWORD_HINTS), "x", samples[kind], flags=re.I)
    assert not pattern.search(without_hints), without_hints


COMMAND_FRAGMENTS = [
    "curl -fsS https://api.example.com/healthz",
    "curl -u admin:hunter2pass https://api.example.com/",
    "docker login -p Sup3rSecretPw registry.example.com",
    "docker pull registry.example.com/app:1.2",
    "mysql -u root -pS3cretPass app",
    "psql --password=hunter2hunter2 -h db",
    "export DB_PASSWORD=hunter2hunter2",
    "curl -H 'Authorization: Bearer abcdef1234567890'",
    "wget 'https://x.example.com/f?token=abcdef123456'",
    "kubectl -n app rollout status deploy/web --timeout=120s",
]


@settings(max_examples=200, deadline=None)
@given(st.lists(st.sampled_from(COMMAND_FRAGMENTS), min_size=1, max_size=4))
def test_the_joined_command_screen_misses_no_credential(commands: list[str]) -> None:
    """A record's commands are screened once, joined: whenever any one of them holds a
    credential the keyword, tool and URL rules find, the screen lets the record through."""
    found = any(list(find_secrets(c, command=True, tokens=False)) for c in commands)
    if found:
        assert may_hold_credentials("\n".join(commands))


def _unscreened(text: str, command: bool) -> bool:
    """Whether any rule's own pattern matches `text`, with no hint screen before it."""
    if any(pattern.search(text) for d in TOKEN_DETECTORS for pattern in d.denylist):
        return True
    if QUERY_CREDENTIAL.search(text):
        return True
    return command and (
        any(pattern.search(text) for _, _, pattern in TOOL_CREDENTIALS)
        or any(pattern.search(text) for _, pattern in SHELL_CREDENTIALS)
        or bool(list(KeywordDetector().analyze_string(text, REGEX_BY_FILETYPE[FileType.YAML])))
    )


# Spellings the rules' case-insensitive patterns read as the fragments: capitals, and the
# letters Python's case-insensitive matching takes for `k`, `s` and `i` (the Kelvin sign, the
# long s, the dotless i and the dotted capital I).
SPELLINGS = (
    str,
    str.upper,
    str.title,
    lambda text: text.replace("k", "\u212a"),
    lambda text: text.replace("s", "\u017f"),
    lambda text: text.replace("i", "\u0131"),
    lambda text: text.upper().replace("I", "\u0130"),
)
# Beside the commands: URL queries whose key holds a shorter hint (`password` before
# `password=`, `sig` in `signature`), and token formats.
RECORD_FRAGMENTS = [
    *COMMAND_FRAGMENTS,
    "open https://x.example.com/f?password=abcdef123456 to check",
    "https://x.example.com/f?a=1&signature=abcdef123456",
    SAMPLES["GitHubTokenDetector"],
    SAMPLES["JwtTokenDetector"],
]


def _escaped(text: str) -> str:
    """`text` as a YAML double-quoted scalar with its letters a and e written as escapes, so
    that the file itself no longer spells the words."""
    return json.dumps(text, ensure_ascii=False).replace("a", "\\x61").replace("e", "\\u0065")


@settings(max_examples=200, deadline=None)
@given(
    st.lists(st.sampled_from(RECORD_FRAGMENTS), min_size=1, max_size=4),
    st.lists(st.sampled_from(SPELLINGS), min_size=4, max_size=4),
    st.sampled_from(["commands", "rollback", "note", "key", "escaped"]),
)
def test_the_record_screen_misses_no_credential(
    commands: list[str], spellings: list, place: str
) -> None:
    """A record is screened once, its whole text, for the words the rules need: whenever a
    command holds a credential some rule's pattern matches (run with no screen at all), the
    record's scan reports it, however the command is capitalised or escaped, and wherever it
    is (a key is read for token formats and URL queries, as prose is)."""
    commands = [spell(command) for spell, command in zip(spellings, commands, strict=False)]
    data: dict = {"title": "t", "reason": "Rotated nothing.", "rollback": {"plan": "p"}}
    if place == "commands":
        data["commands"] = commands
    elif place == "rollback":
        data["rollback"]["commands"] = commands
    elif place == "note":  # prose: only token formats and URL queries count there
        data["commands"] = [{"run": "make deploy", "note": command} for command in commands]
    elif place == "key":
        data["rollback"]["extra"] = dict.fromkeys(commands, 1)
    text = yaml.safe_dump(data, allow_unicode=True, width=1000)
    if place == "escaped":
        text += f"commands: [{', '.join(map(_escaped, commands))}]\n"
    as_command = place not in ("note", "key")
    expected = any(_unscreened(command, as_command) for command in commands)
    assert bool(list(secret_findings(yaml.safe_load(text), text))) == expected, text


@pytest.mark.parametrize(
    ("kind", "sample"),
    [
        ("curl user password", "curl -u admin:hunter2pass https://api.example.com/"),
        ("docker login password", "docker login -p Sup3rSecretPw registry.example.com"),
    ],
)
def test_tool_password_flags(kind: str, sample: str) -> None:
    """Found in a command naming the tool; never without any of its screen's words (the
    tool's name, its flag), so that screening commands for those words loses nothing."""
    assert [hit.kind for hit in find_secrets(sample, command=True)] == [kind]
    assert may_hold_credentials(sample)
    (words,) = [words for name, words, _ in TOOL_CREDENTIALS if name == kind]
    for word in words:
        without = re.sub(re.escape(word), "xx", sample, flags=re.I)
        assert not list(find_secrets(without, command=True)), without


@pytest.mark.parametrize("name", sorted(SAMPLES))
def test_each_detector_fires_through_its_hints(name: str) -> None:
    text = SAMPLES[name]
    assert Hints(text).token_detectors()
    hits = list(find_secrets(text, command=False))
    detector = next(d for d in TOKEN_DETECTORS if type(d).__name__ == name)
    assert detector.secret_type in {hit.kind for hit in hits}
    for hit in hits:
        assert hit.value not in hit.masked


@pytest.mark.parametrize(
    "command",
    [
        "mysql -u root -pS3cretPass app",
        "psql --password=hunter2hunter2 -h db",
        "export DB_PASSWORD=hunter2hunter2",
        "curl -H 'Authorization: Bearer abcdef1234567890'",
    ],
)
def test_password_forms_in_commands(command: str) -> None:
    assert list(find_secrets(command, command=True))
    assert not list(find_secrets(command + "  # runbook: allow-secret", command=True))


@pytest.mark.parametrize(
    "text",
    [
        "Rotated the database password in the vault; no secret is stored in the repo.",
        "mkdir -p /var/lib/app && docker run -p 8080:80 app",
        "curl -u deploy https://example.com/ && docker login registry.example.com",
        "kubectl create secret generic app --from-file=./key",
    ],
)
def test_ordinary_text_is_not_a_credential(text: str) -> None:
    assert not list(find_secrets(text, command="kubectl" in text or "mkdir" in text))


def _token(sample: str) -> str:
    """The credential inside a sample, as find_secrets sees it."""
    return next(find_secrets(sample, command=False)).value


# Tokens recognisable on their own (a URL's password is one only inside its URL).
KEY_TOKENS = sorted(
    {
        _token(sample)
        for sample in SAMPLES.values()
        if ":" not in _token(sample) and list(find_secrets(_token(sample), command=False))
    }
)


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    token=st.sampled_from(KEY_TOKENS),
    place=st.sampled_from(["top", "nested", "checklist", "item", "list-key"]),
)
def test_a_token_used_as_a_key_is_never_printed_whole(
    runbook_repo: Path, token: str, place: str
) -> None:
    """Keys go through the credential scan wherever they are (top level, nested, as a
    checklist or item id), and no message echoes one in full, in any output format."""
    key = json.dumps(token)
    extra = {
        "top": f"{key}: 1\n",
        "nested": f"rollback: {{plan: p, tested: true, {key}: 1}}\n",
        "checklist": f"checklists: {{{key}: {{permissions: done}}}}\n",
        "item": f"checklists: {{safe-change: {{{key}: done}}}}\n",
        "list-key": f"links: [{{title: t, url: 'https://x.example', {key}: 1}}]\n",
    }[place]
    rollback = "" if place == "nested" else "rollback: {plan: p, tested: true}\n"
    record = VALID_RECORD_HEAD + rollback + extra
    (runbook_repo / "records" / "2026-03-02-key.yaml").write_text(record, encoding="utf-8")
    seen_secret = False
    for output_format in ("text", "json", "github"):
        result = run_cli(runbook_repo, "validate", "--format", output_format, epoch="1798761600")
        assert result.exit_code == 1
        assert token not in result.output, (place, output_format)
        seen_secret = seen_secret or "[secret]" in result.output or "secret" in result.stdout
    assert seen_secret


VALID_RECORD_HEAD = """\
title: Token as a key
date: 2026-03-02
owner: Maya Okafor
service: uploads
reason: r
expected_result: e
files_touched: [a.txt]
commands: [make deploy]
metrics: [{name: m, unit: '', before: 1, after: 2, better: higher}]
"""


def test_a_file_name_that_is_not_utf8_is_reported(runbook_repo: Path) -> None:
    """Messages echo file names; one with a byte that is not UTF-8 (a lone surrogate to
    Python) is masked and reported like any other, never a traceback."""
    name = os.fsdecode(b"2026-03-02-caf\xff.yaml")
    record = VALID_RECORD_HEAD + "rollback: {plan: p, tested: true}\n"
    (runbook_repo / "records" / name).write_text(record, encoding="utf-8")
    result = run_cli(runbook_repo, "validate", "--format", "json", epoch="1798761600")
    assert result.exit_code == 1
    assert "id" in {diagnostic["code"] for diagnostic in result.json()}
