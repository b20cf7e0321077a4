"""`python -m mlgrove.cli`: the same as the `mlgrove` command."""

from mlgrove.cli.main import run

run()
