"""The plugin options are read from mkdocs.yml without building anything it names.

`runbook validate`, `list` and `render` need only the runbook plugin's options: a tag that
would construct a Python object (`!!python/object/apply:os.system`) must never run, while
the lines real sites have (`!ENV`, Material's `!!python/name:` emoji settings) keep working.
Bad options are refused with exit 2 and one line naming them.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from cli_run import CliRun

from generator.config import ConfigurationError, read_options

TAGGED_MKDOCS_YML = """\
site_name: !ENV [RUNBOOK_TEST_SITE_NAME, Tagged runbook]
theme:
  name: material
markdown_extensions:
  - pymdownx.emoji:
      emoji_index: !!python/name:material.extensions.emoji.twemoji
      emoji_generator: !!python/name:material.extensions.emoji.to_svg
  - pymdownx.superfences:
      custom_fences:
        - name: mermaid
          format: !!python/object/apply:os.system ["touch {marker}"]
plugins:
  - search
  - runbook:
      records_dir: !ENV [RUNBOOK_TEST_RECORDS, records]
"""


@pytest.mark.parametrize(
    "command", [("validate",), ("list",), ("render", "--out", "out"), ("schema",)]
)
def test_tags_in_mkdocs_yml_build_nothing(
    runbook_repo: Path,
    run_runbook: Callable[..., CliRun],
    command: tuple[str, ...],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    marker = runbook_repo / "code-ran"
    (runbook_repo / "mkdocs.yml").write_text(
        TAGGED_MKDOCS_YML.format(marker=marker), encoding="utf-8"
    )
    (runbook_repo / "elsewhere").mkdir()
    monkeypatch.setenv("RUNBOOK_TEST_RECORDS", "elsewhere")
    result = run_runbook(*command)
    assert not marker.exists()
    if command[0] in ("validate", "list"):  # !ENV was read: the (empty) folder it names
        assert result.exit_code == 2, result.output
        assert "no record files (*.yaml, *.yml) under elsewhere" in result.stderr
    else:
        assert result.exit_code == 0, result.output


@pytest.mark.parametrize(
    ("options", "named"),
    [
        ("max_file_bytes: -1", "max_file_bytes"),
        ("records_dri: records", "records_dri"),
        ("aliases: {services: [not, a, mapping]}", "aliases.services"),
    ],
)
def test_bad_plugin_options_exit_2_naming_them(
    runbook_repo: Path, run_runbook: Callable[..., CliRun], options: str, named: str
) -> None:
    (runbook_repo / "mkdocs.yml").write_text(
        f"site_name: x\nplugins:\n  - runbook:\n      {options}\n", encoding="utf-8"
    )
    result = run_runbook("validate")
    assert result.exit_code == 2
    (line,) = result.stderr.strip().splitlines()
    assert named in line and "invalid runbook plugin options" in line


@pytest.mark.parametrize("option", ["records_dir", "checklists_dir", "templates_dir"])
@pytest.mark.parametrize("folder", ["..", "../..", "/", "sub/../.."])
def test_a_folder_that_holds_the_repository_is_refused(
    tmp_path: Path, option: str, folder: str
) -> None:
    """`records_dir: ..` would have runbook read (and quote in its diagnostics) every YAML
    file of the disk above the repository."""
    repo = tmp_path / "team" / "repo"
    repo.mkdir(parents=True)
    (repo / "mkdocs.yml").write_text(
        f"plugins:\n  - runbook:\n      {option}: {folder}\n", encoding="utf-8"
    )
    with pytest.raises(ConfigurationError, match=f"{option} .* holds the folder of mkdocs.yml"):
        read_options(str(repo / "mkdocs.yml"))
    (repo / "mkdocs.yml").write_text(
        f"plugins:\n  - runbook:\n      {option}: ops/{option}\n", encoding="utf-8"
    )
    assert getattr(read_options(str(repo / "mkdocs.yml")), option) == repo / "ops" / option
