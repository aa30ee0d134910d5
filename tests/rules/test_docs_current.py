"""Generated rule docs and the README's rule table must match the rule modules."""

from kds_iac.docsgen import stale_files
from tests.conftest import REPO


def test_generated_docs_are_current():
    assert stale_files(REPO) == [], "run: python -m kds_iac.docsgen"
