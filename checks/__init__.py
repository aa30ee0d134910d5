"""checkov loads this folder: ``checkov -d . --external-checks-dir checks/ --skip-download``."""
