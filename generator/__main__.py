"""`runbook` and `python -m generator`: the command line, started as lightly as its command
allows (generator/startup.py)."""

import sys


def main() -> None:
    """Run one command in this process and exit; nothing is left running."""
    args = sys.argv[1:]
    from .startup import start_light

    start_light(args[0] if args else None)
    from .cli import main as run

    run(args)


if __name__ == "__main__":
    main()
