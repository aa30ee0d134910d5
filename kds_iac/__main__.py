"""``python -m kds_iac``: the same as the ``kds-iac`` command."""

from kds_iac.cli import run

run()
