"""One entry of the `sources` plugin option: a runbook an aggregating runbook gathers.

Its own module, below config.py: sync (authoring/sources.py) and the reading of sources
(check/sources.py) name it, and what it refuses is what keeps git from being handed an option,
a command or a password from mkdocs.yml.
"""

from __future__ import annotations

import re
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, model_validator

# What git may be asked to fetch from: a URL with one of these schemes, or scp-like
# `user@host:path`. Never `ext::` (it runs a command) nor anything git reads as an option.
GIT_URL = re.compile(r"(?:(?:https?|ssh|git|file)://|\w[\w.-]*@\w[\w.-]*:)[^\s\x00-\x1f]+")
PASSWORD_IN_URL = re.compile(r"\w+://[^/@\s]*:[^/@\s]*@")
GIT_REF = re.compile(r"[\w][\w./-]{0,199}")


class SourceOption(BaseModel):
    """One runbook an aggregating runbook gathers (see README, "Many repositories")."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(
        pattern=r"^[a-z0-9][a-z0-9-]{0,62}$",
        description="a-z 0-9 -: the prefix of its record ids and page URLs.",
    )
    git: str | None = Field(None, description="A repository URL (https, ssh, git, file).")
    path: str | None = Field(None, description="A local folder, read in place.")
    ref: str | None = Field(None, description="Branch, tag or commit (default: remote HEAD).")
    dir: str = Field("", description="The folder holding that runbook's mkdocs.yml.")

    @model_validator(mode="after")
    def _one_place(self) -> SourceOption:
        if (self.git is None) == (self.path is None):
            raise ValueError(f"source {self.name!r} needs exactly one of `git:` and `path:`")
        if self.git is not None and not GIT_URL.fullmatch(self.git):
            raise ValueError(
                f"source {self.name!r}: git must be an https, http, ssh, git or file URL "
                "(or user@host:path)"
            )
        if self.git is not None and PASSWORD_IN_URL.match(self.git):
            raise ValueError(
                f"source {self.name!r}: no password in the git URL; credentials come from "
                "git's own configuration (a credential helper or an SSH key)"
            )
        if self.ref is not None and (self.git is None or not GIT_REF.fullmatch(self.ref)):
            raise ValueError(
                f"source {self.name!r}: ref is a branch, tag or commit name of a git source"
            )
        folder = Path(self.dir)
        if folder.is_absolute() or ".." in folder.parts or "\\" in self.dir:
            raise ValueError(
                f"source {self.name!r}: dir must be a relative folder inside the source "
                f"(no '..', not absolute), got {self.dir!r}"
            )
        return self
