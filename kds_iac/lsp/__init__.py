"""``kds-iac lsp``: a language server that validates Terraform and CloudFormation on open, on
save and as the user types (unsaved text, off the event loop), and offers the findings' fixes
as code actions.

``validate`` holds the editor-neutral part (which files form a unit, the cache, findings
turned into ranged problems) and imports neither pygls nor the engine until it runs;
``server`` is the pygls front-end over stdio. Like every front-end, the server reuses
``kds_iac.engine.scan`` and never re-implements a rule.
"""
