"""`runbook` and `python -m generator`: the command line, started as lightly as it can be."""

import os

# Pydantic looks for plugins in every installed distribution's metadata when the first model
# is built. runbook's models are validated by runbook alone, and the scan cost a tenth of the
# start-up of `runbook validate` on one record; a setting of the user's own is kept. Only the
# command line does this: under `mkdocs build`, pydantic is left as the other plugins expect.
os.environ.setdefault("PYDANTIC_DISABLE_PLUGINS", "__all__")

from .cli import main

if __name__ == "__main__":
    main()
