"""What the record store's rows are valid for.

Every kept result depends on runbook's code and on the check context (check/file_check.py
CheckContext: every valid checklist in full, the options, the reference day, the working
folder), whose digest the store is signed for. Making the context means reading and
validating the checklists with the record models, which a run that finds every record file
unchanged (`runbook list`, `dora`) has no other use for. So the store also keeps a digest of
what the context is made from (the checklist files' paths and stamps, the options it reads,
the day, the folder) and the number of errors in the checklists: a run whose inputs digest
equals the kept one takes the kept context digest and makes no context unless a record file
is to be checked; any other run makes the context, trusts the store when its digest matches,
and keeps the new inputs digest.
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import os
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from ..check.files import file_stamp
from ..config import RunbookOptions, reference_date
from .trust import code_digest

if TYPE_CHECKING:
    from ..check.file_check import CheckContext


def context_digest(context: CheckContext) -> str:
    """What every kept result depends on besides its file: runbook's code, the folder paths
    are shown relative to, and the context (every valid checklist in full, the options, the
    reference day). Whether records are kept is not part of it: `list` and `validate` share
    one store, each file saying whether its record's data is kept."""
    kept = dataclasses.replace(context, keep_records=False)
    return hashlib.sha256(repr([code_digest(), os.getcwd(), repr(kept)]).encode()).hexdigest()


# The check context's field that says what a run keeps, not what a result depends on
# (context_digest leaves it out too).
NOT_AN_INPUT = frozenset({"keep_records"})


def context_inputs(options: RunbookOptions, checklists: object) -> dict[str, object]:
    """What each field of the check context (CheckContext) is made from, by field: a field
    added to the context and not named here would leave the store trusted when it changes
    (tests/test_store.py holds the two lists equal)."""
    return {
        "checklists": checklists,
        "aliases": repr(options.aliases),
        "max_file_bytes": options.max_file_bytes,
        "review_max_age_days": options.review_max_age_days,
        "today": reference_date().isoformat(),
        "folder": os.getcwd(),
    }


def inputs_digest(options: RunbookOptions, checklist_files: list[str]) -> str | None:
    """A digest of everything the check context and the checklists' own diagnostics are
    made from (context_inputs: the checklist files' paths and stamps, where an edit changes
    a stamp; the options the context reads, the reference day, the working folder) and
    runbook's code. None when a checklist file cannot be stat'ed (the context is then made)."""
    stamps = [file_stamp(path) for path in checklist_files]
    if None in stamps:
        return None
    checklists = list(zip(checklist_files, stamps, strict=True))
    made_from = [code_digest(), sorted(context_inputs(options, checklists).items())]
    return hashlib.sha256(repr(made_from).encode()).hexdigest()


@dataclass
class StoreContext:
    """What a run's store is valid for: the digest of the context's inputs, and how to make
    the context (with the count of errors in the checklists) when it is needed."""

    inputs: str | None
    make: Callable[[], tuple[CheckContext, int]]
    # The checklists' count of errors the store kept under these inputs (set when used).
    kept_errors: int | None = None

    @functools.cached_property
    def made(self) -> tuple[CheckContext, int]:
        return self.make()

    @property
    def context(self) -> CheckContext:
        return self.made[0]

    @functools.cached_property
    def digest(self) -> str:
        return context_digest(self.context)

    def checklist_errors(self) -> int:
        return self.kept_errors if self.kept_errors is not None else self.made[1]

    def trusts(self, kept: dict[str, str]) -> bool:
        """Whether rows kept under `kept` (a store's signed meta) are valid here."""
        if self.inputs is not None and kept.get("inputs") == self.inputs:
            errors = kept.get("checklist_errors", "")
            if errors.isdigit():
                self.kept_errors = int(errors)
                return True
        return kept.get("context") == self.digest

    def meta(self) -> dict[str, str]:
        """What the store keeps of this context (it was made: the store was not trusted under
        its inputs)."""
        return {
            "context": self.digest,
            "inputs": self.inputs or "",
            "checklist_errors": str(self.checklist_errors()),
        }


def store_context(
    options: RunbookOptions, checklist_files: list[str], need_records: bool
) -> StoreContext:
    """The store's context for a run that makes the check context only if it must."""

    def make() -> tuple[CheckContext, int]:
        from ..check.validate import made_context

        context, _, diagnostics = made_context(options, checklist_files, need_records)
        return context, sum(d.severity == "error" for d in diagnostics)

    return StoreContext(inputs_digest(options, checklist_files), make)
