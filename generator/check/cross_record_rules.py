"""The rules that need every record at once: ids unique across folders, one spelling per
service, owner and tag, aliases that point at a name some record uses, and `fixes` that name
an older record of the same service (and a rollback that says what undid it).

The per-record rules are in rules.py; these run after every file was checked, in the parent.
"""

from __future__ import annotations

import difflib
from collections.abc import Callable
from pathlib import Path

from ..config import RunbookOptions
from ..delivery import DeliveryRow
from ..diagnostics import Diagnostic
from ..models import SourcedRecord
from ..names import NAME_KINDS, NameKind, counts_as_use, name_key
from .files import file_stem
from .loader import load_yaml_file
from .paths import display_path
from .positions import located
from .problems import problem
from .rules import Finding
from .schema_errors import did_you_mean
from .summary import RecordSummary
from .variants import Variant, name_variants


def duplicate_id_diagnostics(
    records: list[SourcedRecord], checklist_files: list[str], record_files: list[str]
) -> list[Diagnostic]:
    """Ids are file stems and must be unique across folders (and .yaml/.yml twins)."""
    diagnostics = []
    for files, kind in ((record_files, "record"), (checklist_files, "checklist")):
        first_by_stem: dict[str, str] = {}
        for path in files:
            first = first_by_stem.setdefault(file_stem(path), path)
            if first is not path:
                diagnostics.append(
                    problem(
                        display_path(path),
                        1,
                        1,
                        "error",
                        "duplicate-id",
                        f"{kind} id '{file_stem(path)}' is already used by {display_path(first)}",
                    )
                )
    duplicated = {d.path for d in diagnostics}
    records[:] = [r for r in records if r.path not in duplicated]
    return diagnostics


def name_diagnostics(uses: list[RecordSummary], options: RunbookOptions) -> list[Diagnostic]:
    """`[name-variant]` at each other spelling of a name, and `[alias-target]` when an alias
    points at a name no record uses (a typo in the alias would hide the records)."""
    return variant_diagnostics(
        name_variants(uses, options.aliases), options
    ) + _alias_target_diagnostics(uses, options)


def variant_diagnostics(variants: list[Variant], options: RunbookOptions) -> list[Diagnostic]:
    """`[name-variant]` at each variant's place in its file."""
    by_path: dict[str, list[Finding]] = {}
    for variant in variants:
        others = f"{variant.others} record{'s' if variant.others != 1 else ''}"
        by_path.setdefault(variant.path, []).append(
            Finding(
                variant.loc,
                "warning",
                "name-variant",
                f"{variant.kind} '{variant.spelling}' is spelled '{variant.shown_as}' in "
                f"{others}: did you mean '{variant.shown_as}'? (both are shown as "
                f"'{variant.shown_as}')",
            )
        )
    return _placed(by_path, options)


def _placed(by_path: dict[str, list[Finding]], options: RunbookOptions) -> list[Diagnostic]:
    """The findings at their lines: each file with findings is read again for its positions."""
    diagnostics = []
    for path, findings in by_path.items():
        loaded = load_yaml_file(path, path, max_bytes=options.max_file_bytes)
        diagnostics += located(findings, loaded)
    return diagnostics


def fix_diagnostics(
    uses: list[RecordSummary], is_record_id: Callable[[str], bool], options: RunbookOptions
) -> list[Diagnostic]:
    """Each entry of `fixes` names a record that exists, is older, and is of the same service
    unless the entry says `other_service: true`; each at its entry's line. A rolled-back
    record that no later record fixes and whose `rollback.undone_by` is empty gets a warning
    at its status: the delivery page could not say what undid it. `is_record_id`: whether
    a record file (valid or not) has the id."""
    by_id = {use.record_id: use for use in reversed(uses)}  # the first of a duplicated id
    fixed: set[str] = set()
    by_path: dict[str, list[Finding]] = {}
    unexplained: list[Diagnostic] = []
    for use in uses:
        for index, (fixed_id, other_service) in enumerate(_row(use).fixes):
            target = by_id.get(fixed_id)
            if target is None and is_record_id(fixed_id):
                continue  # an invalid record: its own file says what is wrong
            finding = _fix_finding(use, index, fixed_id, target, other_service, by_id, options)
            if finding is None:
                fixed.add(fixed_id)
            else:
                by_path.setdefault(use.path, []).append(finding)
    for use in uses:
        if use.unexplained_at is not None and use.record_id not in fixed:
            unexplained.append(
                problem(
                    use.path,
                    *use.unexplained_at,
                    "warning",
                    "rollback-unexplained",
                    f"status is rolled-back, but no later record lists '{use.record_id}' in "
                    "its fixes: add it to the fixes of the record that undid it, or say what "
                    "did in rollback.undone_by",
                )
            )
    return _placed(by_path, options) + unexplained


def _fix_finding(
    use: RecordSummary,
    index: int,
    fixed_id: str,
    target: RecordSummary | None,
    other_service: bool,
    by_id: dict[str, RecordSummary],
    options: RunbookOptions,
) -> Finding | None:
    """What is wrong with `use`'s entry `fixes[index]`, or None."""
    where = f"fixes[{index}]: '{fixed_id}'"
    if target is None:
        # Suggestions from the same service: a runbook may hold 100,000 ids.
        same = [i for i, u in by_id.items() if u.service == use.service and i != use.record_id]
        message = f"{where}: no such record{did_you_mean(fixed_id, same[-5000:])}"
        return Finding(("fixes", index), "error", "unknown-fix", message)
    if target is use or not _older(_row(target), _row(use)):
        moment = _row(target).shipped_at
        when = moment.isoformat() if moment else target.date.isoformat()
        shown = "this record itself" if target is use else when
        return Finding(
            ("fixes", index),
            "error",
            "fix-order",
            f"{where} is not older than this record (it is {shown}): a fix comes after "
            "what it fixes",
        )
    service_key = options.aliases.key
    if not other_service and service_key("service", target.service) != service_key(
        "service", use.service
    ):
        return Finding(
            ("fixes", index),
            "error",
            "fix-service",
            f"{where} is of service '{target.service}', this record of '{use.service}': "
            f"write {{id: {fixed_id}, other_service: true}} if that is right",
        )
    return None


def _row(use: RecordSummary) -> DeliveryRow:
    assert use.delivery is not None  # every valid record's summary has its row
    return use.delivery


def _older(earlier: DeliveryRow, later: DeliveryRow) -> bool:
    """Whether `earlier` shipped before `later`: by date, and on one day by shipped_at when
    both have it (without it, the order within the day is unknown and taken as given)."""
    if earlier.date != later.date:
        return earlier.date < later.date
    if earlier.shipped_at is None or later.shipped_at is None:
        return True
    return earlier.shipped_at < later.shipped_at


def _alias_target_diagnostics(
    uses: list[RecordSummary], options: RunbookOptions
) -> list[Diagnostic]:
    if options.config_file is None or not options.aliases:
        return []
    used = {
        (kind, name_key(spelling))
        for use in uses
        for kind, _, spelling in use.named()
        if counts_as_use(options.aliases, kind, spelling)
    }

    def known(kind: NameKind) -> dict[str, str]:
        return {name_key(s): s for use in uses for k, _, s in use.named() if k == kind}

    return alias_target_diagnostics(options, used, known, any_uses=bool(uses))


def alias_target_diagnostics(
    options: RunbookOptions,
    used: set[tuple[NameKind, str]],
    known: Callable[[NameKind], dict[str, str]],
    *,
    any_uses: bool,
) -> list[Diagnostic]:
    """`[alias-target]` for each target no record uses: `used` holds (kind, name key) of every
    use that counts (counts_as_use); `known(kind)` is each name key's spelling of the last
    record (in the listing's order) that uses it, for the "did you mean"."""
    aliases = options.aliases
    if options.config_file is None or not aliases:
        return []
    lines = _text_lines(options.config_file)
    # The targets are written under `aliases:`; a name may appear above it (`- search`).
    start = next((n for n, text in enumerate(lines) if "aliases" in text), 0)
    diagnostics = []
    for kind in NAME_KINDS:
        for target in dict.fromkeys(aliases.table(kind).values()):
            if (kind, name_key(target)) in used or not any_uses:
                continue
            # Compared by key, so that a typo is found under any spelling of the name.
            spellings = known(kind)
            close = difflib.get_close_matches(name_key(target), sorted(spellings), n=1)
            hint = f" (did you mean '{spellings[close[0]]}'?)" if close else ""
            line = next((n for n, text in enumerate(lines[start:], start + 1) if target in text), 1)
            diagnostics.append(
                problem(
                    display_path(options.config_file),
                    line,
                    1,
                    "warning",
                    "alias-target",
                    f"aliases.{kind}s: no record uses the target '{target}'{hint}",
                )
            )
    return diagnostics


def _text_lines(path: Path) -> list[str]:
    try:
        return path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError):
        return []
