"""Records stay valid history while checklists, services and owners evolve.

Each test changes the demo runbook the way a team does in its second month (an item added,
renamed, retired or deleted; a name spelled another way; a service renamed) and checks what
`runbook validate` says and what the built site shows, with the real CLI.
"""

from __future__ import annotations

import json
import re
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest
from cli_run import CliRun

REPO_ROOT = Path(__file__).resolve().parent.parent

CHECKLIST = "checklists/security-hardening.yaml"
CAP = "records/2026/2026-11-20-cap-upload-size.yaml"  # through security-hardening
HEADERS = "records/2026/2026-10-06-web-frontend-security-headers.yaml"  # through it too


@pytest.fixture
def demo_repo(runbook_repo: Path) -> Path:
    shutil.copytree(REPO_ROOT / "records", runbook_repo / "records", dirs_exist_ok=True)
    return runbook_repo


def edit(repo: Path, relative: str, old: str, new: str) -> None:
    path = repo / relative
    text = path.read_text(encoding="utf-8")
    assert old in text, f"{old!r} not in {relative}"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def add_record(repo: Path, name: str, *, source: str = CAP, **replacements: str) -> str:
    """A copy of `source` under a new file name, with top-level values replaced (a new date
    drops the source's time of shipping, which was on the old date)."""
    text = (repo / source).read_text(encoding="utf-8")
    if "date" in replacements:
        text = re.sub(r"(?m)^shipped_at: .*\n", "", text)
    for key, value in replacements.items():
        text, count = re.subn(rf"(?m)^{key}: .*$", f"{key}: {value}", text, count=1)
        assert count == 1, key
    relative = f"records/2026/{name}.yaml"
    (repo / relative).write_text(text, encoding="utf-8")
    return relative


def line_of(repo: Path, relative: str, needle: str) -> int:
    lines = (repo / relative).read_text(encoding="utf-8").splitlines()
    return next(number for number, line in enumerate(lines, 1) if needle in line)


def diagnostics(result: CliRun) -> list[tuple[str, int, str, str, str]]:
    return [(d["path"], d["line"], d["severity"], d["code"], d["message"]) for d in result.json()]


def codes(result: CliRun) -> set[tuple[str, str]]:
    return {(path, code) for path, _, _, code, _ in diagnostics(result)}


def errors(result: CliRun) -> list[tuple[str, int, str, str, str]]:
    return [d for d in diagnostics(result) if d[2] == "error"]


NEW_ITEM = """  - id: dependency-audit
    text: Audit new dependencies for known vulnerabilities
"""


def test_an_added_item_binds_only_records_from_its_date(
    demo_repo: Path, run_runbook: Callable[..., CliRun]
) -> None:
    edit(demo_repo, CHECKLIST, "required_for:", NEW_ITEM + "required_for:")
    undated = run_runbook("validate", "--format", "json")
    assert {(p, c) for p, _, _, c, _ in errors(undated)} == {
        (CAP, "missing-item"),
        (HEADERS, "missing-item"),
    }
    assert all("added: DATE" in message for *_, message in errors(undated))

    edit(demo_repo, CHECKLIST, "    text: Audit new", "    added: 2026-12-01\n    text: Audit new")
    assert errors(run_runbook("validate", "--format", "json")) == []
    later = add_record(demo_repo, "2026-12-02-later-cap", date="2026-12-02")
    result = run_runbook("validate", "--format", "json")
    assert [(p, line, c) for p, line, _, c, _ in errors(result)] == [
        (later, line_of(demo_repo, later, "  security-hardening:"), "missing-item")
    ]
    assert "dependency-audit" in errors(result)[0][4]

    explained = run_runbook("validate", CHECKLIST)
    assert (
        f"note: {CHECKLIST}: item 'dependency-audit' (added 2026-12-01) must be addressed by "
        "1 of the 3 records through this checklist; the 2 dated before it need not"
    ) in explained.stderr


def test_a_renamed_item_keeps_old_records_valid(
    demo_repo: Path, run_runbook: Callable[..., CliRun]
) -> None:
    edit(
        demo_repo,
        CHECKLIST,
        "  - id: secrets\n    text: Keep secrets",
        "  - id: secret-handling\n    replaces: [secrets]\n    text: Never keep secrets",
    )
    assert errors(run_runbook("validate", "--format", "json")) == []
    build = run_runbook("build", "-q")
    assert build.exit_code == 0, build.output
    page = (demo_repo / "site" / "changes" / Path(CAP).stem / "index.html").read_text()
    assert "Never keep secrets out of code" in page
    checklist_page = demo_repo / "site" / "checklists" / "security-hardening" / "index.html"
    assert "formerly secrets" in checklist_page.read_text()

    edit(demo_repo, CAP, "    secrets: done\n", "    secrets: done\n    secret-handling: done\n")
    result = run_runbook("validate", "--format", "json")
    assert [(p, line, c) for p, line, _, c, _ in errors(result)] == [
        (CAP, line_of(demo_repo, CAP, "secret-handling: done"), "duplicate-item")
    ]


def test_a_retired_item_may_be_addressed_only_before_its_retirement(
    demo_repo: Path, run_runbook: Callable[..., CliRun]
) -> None:
    """HEADERS (2026-10-06) predates the retirement and keeps its answer; CAP (2026-11-20)
    comes after it and may not address the item; a newer record need not."""
    edit(demo_repo, CHECKLIST, "  - id: headers\n", "  - id: headers\n    retired: 2026-11-01\n")
    result = run_runbook("validate", "--format", "json")
    assert [(p, line, c) for p, line, _, c, _ in errors(result)] == [
        (CAP, line_of(demo_repo, CAP, "    headers: done"), "retired-item")
    ]
    edit(demo_repo, CAP, "    headers: done\n", "")
    assert errors(run_runbook("validate", "--format", "json")) == []
    assert run_runbook("build", "-q").exit_code == 0
    old_page = (demo_repo / "site" / "changes" / Path(HEADERS).stem / "index.html").read_text()
    new_page = (demo_repo / "site" / "changes" / Path(CAP).stem / "index.html").read_text()
    assert "Set security headers" in old_page  # the checklist as it was on its date
    assert "Set security headers" not in new_page
    checklist_page = demo_repo / "site" / "checklists" / "security-hardening" / "index.html"
    assert "Retired 2026-11-01" in checklist_page.read_text()


def test_an_item_deleted_outright_is_an_error_at_the_checklist(
    demo_repo: Path, run_runbook: Callable[..., CliRun]
) -> None:
    text = (demo_repo / CHECKLIST).read_text()
    start = text.index("  - id: logging")
    (demo_repo / CHECKLIST).write_text(text[:start] + text[text.index("required_for:") :])
    result = run_runbook("validate", "--format", "json")
    found = {(p, line, c): message for p, line, _, c, message in errors(result)}
    assert len(found) == 2
    for record in (CAP, HEADERS):
        message = found[(record, line_of(demo_repo, record, "    logging:"), "unknown-item")]
        assert "retired: DATE" in message

    checklist_only = run_runbook("validate", "--format", "json", CHECKLIST)
    ((path, line, _, code, message),) = errors(checklist_only)
    assert (path, line, code) == (
        CHECKLIST,
        line_of(demo_repo, CHECKLIST, "items:"),
        "removed-item",
    )
    assert "'logging'" in message and "2 records" in message
    assert "retired: DATE" in message and "replaces:" in message


def test_spellings_of_one_name_share_a_page_and_warn(
    demo_repo: Path, run_runbook: Callable[..., CliRun]
) -> None:
    variant = add_record(
        demo_repo,
        "2026-11-22-spelled-otherwise",
        service="Uploads",
        owner="maya_okafor",
    )
    result = run_runbook("validate", "--format", "json")
    warnings = {
        (p, line): message
        for p, line, _, code, message in diagnostics(result)
        if code == "name-variant"
    }
    assert set(warnings) == {
        (variant, line_of(demo_repo, variant, "service: Uploads")),
        (variant, line_of(demo_repo, variant, "owner: maya_okafor")),
    }
    service_warning = warnings[(variant, line_of(demo_repo, variant, "service: Uploads"))]
    assert "did you mean 'uploads'" in service_warning
    assert run_runbook("build", "-q").exit_code == 0
    services = sorted(p.name for p in (demo_repo / "site" / "services").iterdir() if p.is_dir())
    assert services.count("uploads") == 1 and not [s for s in services if "uploads-" in s]
    page = (demo_repo / "site" / "services" / "uploads" / "index.html").read_text()
    assert Path(variant).stem in page and Path(CAP).stem in page
    listed = run_runbook(
        "list", "--service", "UPLOADS", "--owner", "Maya Okafor", "--format", "json"
    )
    ids = {entry["id"] for entry in listed.json()}
    assert {Path(variant).stem, Path(CAP).stem} <= ids


def test_an_alias_renames_a_service_and_brings_required_for_along(
    demo_repo: Path, run_runbook: Callable[..., CliRun]
) -> None:
    (demo_repo / "checklists" / "uploads-policy.yaml").write_text(
        "title: Uploads policy\nitems:\n  - {id: reviewed, text: Reviewed by the uploads team}\n"
        "required_for:\n  services: [uploads]\n",
        encoding="utf-8",
    )
    legacy = add_record(demo_repo, "2026-11-23-legacy-name", service="legacy-uploads")
    assert (legacy, "required-checklist") not in codes(run_runbook("validate", "--format", "json"))
    mkdocs_yml = demo_repo / "mkdocs.yml"
    mkdocs_yml.write_text(
        mkdocs_yml.read_text().replace(
            "  - runbook\n",
            "  - runbook:\n      aliases:\n        services: {legacy-uploads: uploads}\n",
        )
    )
    result = run_runbook("validate", "--format", "json")
    assert (legacy, "required-checklist") in codes(result)
    assert not [d for d in diagnostics(result) if d[3] == "name-variant" and d[0] == legacy]

    for record in (demo_repo / "records").rglob("*.yaml"):  # satisfy the new policy
        text = record.read_text()
        if re.search(r"(?m)^service: (uploads|legacy-uploads)$", text):
            record.write_text(
                text.replace(
                    "checklists:\n", "checklists:\n  uploads-policy:\n    reviewed: done\n", 1
                )
            )
    assert errors(run_runbook("validate", "--format", "json")) == []
    assert run_runbook("build", "-q").exit_code == 0
    assert not (demo_repo / "site" / "services" / "legacy-uploads").exists()
    page = (demo_repo / "site" / "services" / "uploads" / "index.html").read_text()
    assert Path(legacy).stem in page
    record_page = (demo_repo / "site" / "changes" / Path(legacy).stem / "index.html").read_text()
    assert "legacy-uploads" in record_page  # the record keeps its words

    mkdocs_yml.write_text(mkdocs_yml.read_text().replace("legacy-uploads: uploads", "old: nobody"))
    result = run_runbook("validate", "--format", "json")
    (alias_warning,) = [d for d in diagnostics(result) if d[3] == "alias-target"]
    assert alias_warning[0] == "mkdocs.yml" and alias_warning[1] == line_of(
        demo_repo, "mkdocs.yml", "old: nobody"
    )


def entity_pages(site: Path) -> dict[str, str]:
    """URL → the h1 of every service, owner, tag, metric and files page."""
    pages = {}
    for kind in ("services", "owners", "tags", "metrics", "files"):
        for page in (site / kind).glob("*/index.html"):
            h1 = re.search(r"<h1[^>]*>(.*?)</h1>", page.read_text(), re.DOTALL)
            pages[page.parent.relative_to(site).as_posix()] = h1[1] if h1 else ""
    return pages


def test_page_urls_depend_only_on_their_own_name(
    demo_repo: Path, run_runbook: Callable[..., CliRun]
) -> None:
    add_record(demo_repo, "2026-11-24-ops", service="ops-infra", tags="[ops, Infra]")
    assert run_runbook("build", "-q", "--full").exit_code == 0
    before = entity_pages(demo_repo / "site")
    assert "services/ops-infra" in before

    add_record(demo_repo, "2026-11-25-slash", service="Ops/Infra", owner="Ops Team")
    add_record(demo_repo, "2026-11-26-case", service="UPLOADS", tags="[OPS, infra, café]")
    add_record(demo_repo, "2026-11-27-index", service="index", owner="Index")
    (demo_repo / "records" / "2026" / "2026-11-28-folder.yaml").write_text(
        (demo_repo / CAP).read_text().replace("  - deploy/nginx/upload.conf", "  - Deploy/x.conf"),
    )
    assert run_runbook("build", "-q", "--full").exit_code == 0
    after = entity_pages(demo_repo / "site")
    moved = {url: (h1, after.get(url)) for url, h1 in before.items() if after.get(url) != h1}
    assert moved == {}
    assert len({url for url in after if url.startswith("services/ops-infra")}) == 2
    records = json.loads((demo_repo / "site" / "records.json").read_text())
    assert len(records) == len(list((demo_repo / "records").rglob("*.yaml")))  # every one


# A checklist the uploads service requires, whose items were in force only at some times:
# (its items' dates, a day on which one was in force).
DATED_CHECKLISTS = {
    "all-added-later": (["    added: 2026-12-01\n"] * 2, "2026-12-02"),
    "all-retired-before": (["    retired: 2025-06-01\n"] * 2, "2025-05-01"),
    "a-gap-between": (["    retired: 2025-06-01\n", "    added: 2026-12-01\n"], "2026-12-02"),
}


@pytest.mark.parametrize("dating", DATED_CHECKLISTS)
def test_a_checklist_with_no_item_in_force_on_a_records_date_requires_nothing_of_it(
    demo_repo: Path, run_runbook: Callable[..., CliRun], dating: str
) -> None:
    """A record can only be required to go through a checklist that had an item in force on
    its date: older records stay valid when a required checklist is new (or was emptied),
    a record from a day it had items is held to it, and naming it with nothing to address
    is no error either."""
    dates, in_force = DATED_CHECKLISTS[dating]
    items = "".join(
        f"  - id: step-{number}\n    text: Step {number}\n{dated}"
        for number, dated in enumerate(dates, 1)
    )
    (demo_repo / "checklists" / "pci-review.yaml").write_text(
        f"title: PCI review\nitems:\n{items}required_for:\n  services: [uploads]\n"
        "  tags: [security]\n",
        encoding="utf-8",
    )
    assert errors(run_runbook("validate", "--format", "json")) == []

    bound = add_record(demo_repo, f"{in_force}-bound-cap", date=in_force)
    found = errors(run_runbook("validate", "--format", "json"))
    assert {(p, c) for p, _, _, c, _ in found} == {(bound, "required-checklist")}

    (demo_repo / bound).unlink()
    edit(demo_repo, CAP, "checklists:\n", "checklists:\n  pci-review: {}\n")
    assert errors(run_runbook("validate", "--format", "json")) == []


@pytest.mark.parametrize("dating", DATED_CHECKLISTS)
def test_new_leaves_out_a_checklist_with_no_item_in_force_on_its_day(
    demo_repo: Path, run_runbook: Callable[..., CliRun], dating: str
) -> None:
    dates, in_force = DATED_CHECKLISTS[dating]
    items = "".join(f"  - id: step-{n}\n    text: Step {n}\n{d}" for n, d in enumerate(dates))
    (demo_repo / "checklists" / "pci-review.yaml").write_text(
        f"title: PCI review\nitems:\n{items}required_for:\n  services: [uploads]\n", "utf-8"
    )
    backfill = [
        "new", "Old change", "--date", "2026-06-01", "--service", "uploads", "--owner", "Maya",
        "--reason", "Backfilled.", "--file", "app/views.py", "--command", "make deploy",
        "--rollback", "Revert it.", "--rollback-tested", "--expected-result", "Fine.",
    ]  # fmt: skip
    written = run_runbook(*backfill)
    assert written.exit_code == 0, written.output
    assert "pci-review" not in (demo_repo / written.stdout.strip()).read_text("utf-8")
    named = run_runbook(*backfill, "--check", "pci-review=done")
    assert named.exit_code == 0, named.output
    assert "pci-review: {}" in (demo_repo / named.stdout.strip()).read_text("utf-8")
    result = run_runbook("validate", "--format", "json")
    assert errors(result) == []

    bound = run_runbook(*backfill[:3], in_force, *backfill[4:])
    assert bound.exit_code == 0, bound.output
    assert "pci-review:" in (demo_repo / bound.stdout.strip()).read_text("utf-8")


def _with_aliases(repo: Path, aliases: str) -> None:
    mkdocs_yml = repo / "mkdocs.yml"
    text = mkdocs_yml.read_text(encoding="utf-8")
    mkdocs_yml.write_text(text.replace("  - runbook\n", f"  - runbook:\n{aliases}"), "utf-8")


@pytest.mark.parametrize(
    "aliases",
    [
        "      aliases:\n        services: {legacy-billing: Billing API}\n",
        "      aliases:\n        services: {search: search}\n",
        "      aliases:\n        services: {Billing API: billing-api}\n",
        "      aliases:\n        services: {Web_Frontend: Web Frontend, Billing: BILLING API}\n",
        "      aliases:\n        tags: {Security: security}\n        owners: {maya: Maya Okafor}\n",
    ],
    ids=["variant-target", "to-itself", "variant-to-itself", "both-variants", "tags-owners"],
)
def test_an_alias_to_a_spelling_of_a_used_name_is_no_warning(
    demo_repo: Path, run_runbook: Callable[..., CliRun], aliases: str
) -> None:
    _with_aliases(demo_repo, aliases)
    result = run_runbook("validate", "--format", "json")
    assert [d for d in diagnostics(result) if d[3] == "alias-target"] == []


def test_a_typo_in_an_alias_target_still_warns_at_its_line(
    demo_repo: Path, run_runbook: Callable[..., CliRun]
) -> None:
    _with_aliases(
        demo_repo, "      aliases:\n        services: {legacy: Biling API, search: search}\n"
    )
    result = run_runbook("validate", "--format", "json")
    ((path, line, _, _, message),) = [d for d in diagnostics(result) if d[3] == "alias-target"]
    assert (path, line) == ("mkdocs.yml", line_of(demo_repo, "mkdocs.yml", "Biling API"))
    assert "'Biling API'" in message and "did you mean 'billing-api'" in message
    assert run_runbook("validate", "--strict").exit_code == 1
