"""Talking to a server runbook does not trust (Grafana, PagerDuty, a CDEvents receiver): the
URL and credential checks before anything is sent, and every failure as one terminal line.

Each sink names its server and the option that set its URL; the line it gets back never holds
a credential (credentials are read from environment variables, and URLs with a user name,
password or query are refused before they could be echoed), and the server's own words are
escaped (control, line-breaking and bidi characters) and capped, since a hostile server
chooses them. Requests go through http_exchange: a total deadline, a size cap, no redirect.
"""

from __future__ import annotations

import json
import re
import urllib.parse
from collections.abc import Mapping
from dataclasses import dataclass, field

from ..models import BIDI_CONTROLS
from .http_exchange import Answer, Broken, TooLarge, TooSlow, Unreachable, exchange

_SERVER_TEXT_LIMIT = 200
_NOT_SHOWN = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029" + "".join(sorted(BIDI_CONTROLS)) + "]")
_TOKEN = re.compile("[\x21-\x7e]+")


class UnusableSetting(ValueError):
    """A URL or credential runbook will not use; the message never repeats the value."""


class RemoteError(Exception):
    """What went wrong talking to a server, as one line (never a credential)."""


class Refused(RemoteError):
    """The server answered with a 4xx or 5xx status."""

    def __init__(self, message: str, status: int) -> None:
        super().__init__(message)
        self.status = status


def checked_url(
    text: str, option: str, *, base: bool, credential_option: str, credential: str = "token"
) -> str:
    """The URL given to `option`, checked: http(s), a host, a port in range, no credentials,
    no query or fragment (a place for a secret the terminal would then show). A `base` URL
    (requests go under it) loses its trailing slashes; an endpoint's is kept as given."""
    if _NOT_SHOWN.search(text) or " " in text:
        raise UnusableSetting(f"{option} holds a space or control character")
    try:
        parts = urllib.parse.urlsplit(text.strip())
    except ValueError:  # an unclosed [IPv6] host, and such
        raise UnusableSetting(f"{option} is not a URL (check its host)") from None
    if parts.scheme not in ("http", "https"):
        raise UnusableSetting(f"{option} must start with http:// or https://")
    if "@" in parts.netloc:
        raise UnusableSetting(
            f"{option} must not hold a user name or password: the {credential} is read from "
            f"the variable {credential_option} names"
        )
    try:
        parts.port  # noqa: B018 (raises on a port that is not a number in range)
    except ValueError:
        raise UnusableSetting(f"{option} has a port that is not a number") from None
    if not parts.hostname:
        raise UnusableSetting(f"{option} has no host")
    if parts.query or parts.fragment:
        what = "a base URL" if base else "the endpoint's URL"
        raise UnusableSetting(
            f"{option} takes {what} without ? or # (the {credential} is read from the "
            f"variable {credential_option} names)"
        )
    path = parts.path.rstrip("/") if base else parts.path
    return f"{parts.scheme}://{parts.netloc}{path}"


def checked_token(token: str, variable: str) -> str:
    """The credential without surrounding whitespace; refused (never echoed) when it could not
    be sent as a header or JSON value as it is."""
    token = token.strip()
    if not _TOKEN.fullmatch(token):
        raise UnusableSetting(
            f"{variable} holds a line break, space, control or non-ASCII character inside the "
            "token: set it to the token alone"
        )
    return token


def shown(text: object) -> str:
    """A server's text for one terminal line: control, line-breaking and bidi characters
    escaped, length capped."""
    text = str(text)
    cut = len(text) > _SERVER_TEXT_LIMIT
    text = _NOT_SHOWN.sub(lambda m: m.group().encode("unicode_escape").decode("ascii"), text)
    return text[:_SERVER_TEXT_LIMIT] + ("..." if cut else "")


@dataclass(frozen=True)
class Server:
    """Where requests go: what to call the server in messages, its URL as checked (what the
    messages show), the option that set it, and how long and how much a request may take."""

    name: str
    url: str
    option: str
    deadline_seconds: float
    max_answer_bytes: int

    def send(
        self, method: str, url: str, what: str, headers: Mapping[str, str], body: bytes | None
    ) -> Answer:
        """One request and its answer, whatever its status, but a redirect: that is an error
        naming only where it points (scheme, host and port), never followed."""
        try:
            answer = exchange(
                method,
                url,
                headers=headers,
                body=body,
                deadline_seconds=self.deadline_seconds,
                max_answer_bytes=self.max_answer_bytes,
            )
        except TooSlow:
            raise RemoteError(
                f"{self.name} at {self.url} did not answer {what} within "
                f"{self.deadline_seconds:g} s"
            ) from None
        except TooLarge:
            raise RemoteError(
                f"{self.name} at {self.url} answered {what} with more than "
                f"{self.max_answer_bytes} bytes; stopped reading"
            ) from None
        except Unreachable as exc:
            raise RemoteError(f"cannot reach {self.name} at {self.url}: {shown(exc)}") from None
        except Broken as exc:
            raise RemoteError(
                f"{self.name} at {self.url} gave a broken HTTP answer to {what}: {shown(exc)}"
            ) from None
        if 300 <= answer.status < 400:
            raise RemoteError(
                f"{self.name} at {self.url} answered {what} with a redirect (HTTP "
                f"{answer.status} to {_origin(answer.location, self.url)}); not followed: give "
                f"{self.option} the address {self.name} answers at"
            )
        return answer

    def refusal(self, what: str, answer: Answer) -> Refused:
        """A 4xx or 5xx answer as one line, with the server's own message if it gave one."""
        verb = "refused" if answer.status < 500 else "failed on"
        return Refused(
            f"{self.name} at {self.url} {verb} {what} "
            f"(HTTP {answer.status}{_reason(answer.body, answer.reason)})",
            answer.status,
        )


def _reason(body: bytes, reason: str) -> str:
    """`: MESSAGE` from a JSON answer's `message` (and its `errors`, as PagerDuty lists what
    was invalid), else from the status line."""
    try:
        answer = json.loads(body or b"{}")
    except (ValueError, RecursionError):
        answer = None
    message = answer.get("message") if isinstance(answer, dict) else None
    message = message if isinstance(message, str) and message.strip() else reason
    errors = answer.get("errors") if isinstance(answer, dict) else None
    if isinstance(errors, list) and errors and all(isinstance(e, str) for e in errors):
        message = f"{message}: {'; '.join(errors)}" if message else "; ".join(errors)
    return f": {shown(message)}" if message else ""


def _origin(location: str | None, base: str) -> str:
    """Where a redirect points: scheme, host and port only (a path or query may carry a
    credential), with no user name or password."""
    if not location:
        return "nowhere (no Location)"
    try:
        parts = urllib.parse.urlsplit(urllib.parse.urljoin(base + "/", location.strip()))
        host = parts.hostname or ""
        port = f":{parts.port}" if parts.port is not None else ""
    except ValueError:
        return "an unreadable Location"
    host = f"[{host}]" if ":" in host else host
    return shown(f"{parts.scheme}://{host}{port}")


@dataclass
class DeliveryReport:
    """What a run that posts one request per record did: what was posted, what the server
    refused (id and one line), how many were there already, how many were left when a
    failure stopped the run, and that failure's line."""

    posted: list[str] = field(default_factory=list)
    refused: list[tuple[str, str]] = field(default_factory=list)
    already: int = 0
    not_posted: int = 0
    stopped: str | None = None

    def summary(self, already: str) -> str:
        """`posted 3, 1 refused, 2 not posted (stopped), 4 ALREADY`."""
        parts = [f"posted {len(self.posted)}"]
        if self.refused:
            parts.append(f"{len(self.refused)} refused")
        if self.not_posted:
            parts.append(f"{self.not_posted} not posted (stopped)")
        return ", ".join([*parts, f"{self.already} {already}"])
