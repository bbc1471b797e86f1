"""The runbook plugin added to a team's existing mkdocs.yml, in place, or exactly how to; and
the runbook's index pages as one "Runbook" section at the end of a hand-written nav.

The file is the team's: its comments, order, quoting and `!ENV` tags must survive, so it is
edited as text at the position the YAML parser gives, never loaded and dumped again. The edit
is kept only when reading the new text gives the same settings plus the plugin; anything the
parser cannot place safely (an empty `plugins:`, a file that is not YAML) is left to the
user, with the exact lines to add.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import yaml

from ..config import parse_settings

BY_HAND = "plugins:\n  - search\n  - runbook\n"
NAV_SECTION = "Runbook"


@dataclass(frozen=True)
class PluginEdit:
    """mkdocs.yml with the plugin (`text`), or why not; `enabled` when it was there already."""

    text: str | None = None
    problem: str = ""
    enabled: bool = False


def _parsed(text: str) -> tuple[yaml.MappingNode, dict[str, Any]] | str:
    """The file's node tree (where to edit) and its settings (to check the edit against), or
    why it cannot be edited in place."""
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
        before = parse_settings(text)
    except yaml.YAMLError as exc:
        return f"it is not valid YAML ({exc.problem or exc})"
    if not isinstance(root, yaml.MappingNode) or not isinstance(before, dict):
        return "its top level is not a mapping of settings"
    return root, before


def add_runbook_plugin(text: str) -> PluginEdit:
    """Add `runbook` to the `plugins:` of a mkdocs.yml's text (with `search`, when the file
    had no plugins and so relied on MkDocs' default search)."""
    parsed = _parsed(text)
    if isinstance(parsed, str):
        return PluginEdit(problem=parsed)
    root, before = parsed
    plugins = next((v for k, v in root.value if k.value == "plugins"), None)
    if plugins is None:
        edited = text + ("" if text.endswith("\n") or not text else "\n") + BY_HAND
    elif _names(plugins) and "runbook" in _names(plugins):
        return PluginEdit(enabled=True)
    elif isinstance(plugins, yaml.SequenceNode | yaml.MappingNode) and plugins.flow_style:
        edited = _append_flow_entry(text, plugins)
    elif isinstance(plugins, yaml.SequenceNode) and plugins.value:
        edited = _append_entry(text, plugins, ["- runbook"])
    elif isinstance(plugins, yaml.MappingNode) and plugins.value:
        edited = _append_entry(text, plugins, ["runbook: {}"])
    else:
        return PluginEdit(problem="its `plugins:` is empty or not a list")
    return _checked(before, edited)


def _names(plugins: yaml.Node) -> list[str]:
    """Plugin names in a `plugins:` node: list items (`- name` or `- name: {...}`) or keys."""
    if isinstance(plugins, yaml.MappingNode):
        return [key.value for key, _ in plugins.value]
    if isinstance(plugins, yaml.SequenceNode):
        return [
            item.value if isinstance(item, yaml.ScalarNode) else str(item.value[0][0].value)
            for item in plugins.value
            if isinstance(item, yaml.ScalarNode)
            or (isinstance(item, yaml.MappingNode) and item.value)
        ]
    return []


def _append_entry(text: str, node: yaml.SequenceNode | yaml.MappingNode, entry: list[str]) -> str:
    """A new last entry (its lines), indented like the first one, on the line after the last
    one ends."""
    lines = text.splitlines(keepends=True)
    first = node.value[0] if isinstance(node, yaml.SequenceNode) else node.value[0][0]
    first_line = lines[first.start_mark.line]
    if isinstance(node, yaml.SequenceNode):
        indent = first_line[: first_line.rfind("-", 0, first.start_mark.column)]
    else:
        indent = first_line[: first.start_mark.column]
    last = node.value[-1] if isinstance(node, yaml.SequenceNode) else node.value[-1][1]
    end = last.end_mark.line if last.end_mark.column > 0 else last.end_mark.line - 1
    if lines and not lines[-1].endswith("\n"):
        lines[-1] += "\n"
    lines[end + 1 : end + 1] = [f"{indent}{line}\n" for line in entry]
    return "".join(lines)


def _append_flow_entry(
    text: str, node: yaml.SequenceNode | yaml.MappingNode, entry: str | None = None
) -> str:
    """`[search]` becomes `[search, runbook]`, `{search: {}}` `{search: {}, runbook: {}}`."""
    closing = node.end_mark.index - 1  # the `]` or `}`
    if entry is None:
        entry = "runbook" if isinstance(node, yaml.SequenceNode) else "runbook: {}"
    return text[:closing] + (", " if node.value else "") + entry + text[closing:]


def _checked(before: dict[str, Any], edited: str) -> PluginEdit:
    """The edit, if the new text reads as the same settings with `runbook` added."""
    try:
        after = parse_settings(edited)
    except yaml.YAMLError:
        after = None
    if not isinstance(after, dict) or {k: v for k, v in after.items() if k != "plugins"} != {
        k: v for k, v in before.items() if k != "plugins"
    }:
        return PluginEdit(problem="an edit in place would change other settings")
    old = before.get("plugins")
    if old is None:  # MkDocs' default search stays
        expected: Any = ["search", "runbook"]
    elif isinstance(old, list):
        expected = [*old, "runbook"]
    else:
        expected = {**old, "runbook": {}}
    if after.get("plugins") != expected:
        return PluginEdit(problem="an edit in place would not read as the plugin list plus runbook")
    return PluginEdit(text=edited)


@dataclass(frozen=True)
class NavEdit:
    """mkdocs.yml with the Runbook section in its nav (`text`), or why not (`problem`);
    neither when there is nothing to add (no hand-written nav, or it lists every page)."""

    text: str | None = None
    problem: str = ""


def add_runbook_section(text: str, pages: list[tuple[str, str]]) -> NavEdit:
    """Append a "Runbook" section of the `pages` (title, path) a hand-written `nav:` does not
    list yet, as its last entry. Without a `nav:`, MkDocs lists every page by itself."""
    parsed = _parsed(text)
    if isinstance(parsed, str):
        return NavEdit(problem=parsed)
    root, before = parsed
    nav = next((v for k, v in root.value if k.value == "nav"), None)
    if nav is None or not isinstance(before.get("nav"), list):
        return NavEdit()
    listed = set(_paths(before["nav"]))
    missing = [(title, path) for title, path in pages if path not in listed]
    if not missing:
        return NavEdit()
    if any(isinstance(item, dict) and NAV_SECTION in item for item in before["nav"]):
        return NavEdit(problem=f"its nav has a {NAV_SECTION} section already")
    if not isinstance(nav, yaml.SequenceNode) or not (nav.value or nav.flow_style):
        return NavEdit(problem="its `nav:` is empty or not a list")
    if nav.flow_style:
        entries = ", ".join(f"{{{title}: {path}}}" for title, path in missing)
        edited = _append_flow_entry(text, nav, f"{{{NAV_SECTION}: [{entries}]}}")
    else:
        lines = [f"- {NAV_SECTION}:"] + [f"    - {title}: {path}" for title, path in missing]
        edited = _append_entry(text, nav, lines)
    try:
        after = parse_settings(edited)
    except yaml.YAMLError:
        after = None
    section = {NAV_SECTION: [{title: path} for title, path in missing]}
    if not isinstance(after, dict) or after != {**before, "nav": [*before["nav"], section]}:
        return NavEdit(problem="an edit in place would change other settings")
    return NavEdit(text=edited)


def nav_lines(pages: list[tuple[str, str]]) -> str:
    """The section to add by hand, as it goes under `nav:`."""
    return f"  - {NAV_SECTION}:\n" + "".join(f"      - {t}: {p}\n" for t, p in pages)


def _paths(items: Any) -> list[str]:
    """Every page path a nav's items name, in sections too."""
    if isinstance(items, str):
        return [items]
    if isinstance(items, list):
        return [path for item in items for path in _paths(item)]
    if isinstance(items, dict):
        return [path for value in items.values() for path in _paths(value)]
    return []
