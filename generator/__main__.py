"""`runbook` and `python -m generator`: the command line, started as lightly as it can be."""

import os
import sys

# Pydantic looks for plugins in every installed distribution's metadata when the first model
# is built. runbook's models are validated by runbook alone, and the scan cost a tenth of the
# start-up of `runbook validate` on one record; a setting of the user's own is kept. Only the
# command line does this: under `mkdocs build`, pydantic is left as the other plugins expect.
os.environ.setdefault("PYDANTIC_DISABLE_PLUGINS", "__all__")


def main() -> None:
    """`runbook validate` goes to the resident validator when one is running (see
    generator/resident), and leaves one behind when none was; every other command, and
    validation without one, runs here."""
    args = sys.argv[1:]
    validating = args[:1] == ["validate"]
    if validating:
        from .resident.client import run_resident

        status = run_resident(args)
        if status is not None:
            sys.exit(status)
    from .cli import main as run_here

    try:
        run_here(args)
    finally:
        if validating:
            from .resident.client import start_resident

            start_resident()


if __name__ == "__main__":
    main()
