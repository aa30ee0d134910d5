"""Turn the paths a user names into one ``Model``.

Discovery decides what each file is (Terraform module directory, CloudFormation template by
content, Terraform plan JSON by content, Serverless Framework service by name or content); each format's loader fills the model. A file that
cannot be read becomes a ``Diagnostic``; the rest of the scan goes on.
"""

from __future__ import annotations

from typing import Callable, Mapping, Optional, Sequence

from kds_iac.loaders.discovery import discover
from kds_iac.model import Diagnostic, DiagnosticCode, Model


def load(
    paths: Sequence[str],
    *,
    var_files: Sequence[str] = (),
    variables: Optional[Mapping[str, str]] = None,
    progress: Optional[Callable[[int, int, str], None]] = None,
    jobs: int = 1,
) -> Model:
    """Load every template under ``paths`` into one model whose scope is ``paths``.

    ``progress(done, total, unit)``, if given, is called before each unit (module directory,
    plan, template) is loaded and once more with ``done == total`` at the end.
    ``jobs``: how many units may load at once (``kds_iac.loaders.parallel``); the model is
    the same whatever it is, and a small scan loads serially anyway.
    """
    found = discover(paths)
    models: list[Model] = [Model(diagnostics=list(found.diagnostics))]
    total = (
        len(found.terraform_modules)
        + len(found.terraform_plans)
        + len(found.cloudformation_templates)
        + len(found.serverless_services)
    )
    done = 0

    def step(unit: str) -> None:
        nonlocal done
        if progress is not None:
            progress(done, total, unit)
        done += 1

    # Each loader is imported only when its format is present: start-up time is the
    # on-save budget, and a CloudFormation-only scan need not pay for tfparse.
    if found.terraform_modules:
        from kds_iac.loaders import terraform

        def module(directory: str) -> Model:
            return _guarded(directory, lambda: terraform.load_module(directory, var_files=var_files, variables=variables, roots=paths))

        models.extend(_terraform_modules(found.terraform_modules, module, jobs, step))
    if found.terraform_plans:
        from kds_iac.loaders import terraform_plan

        for path in found.terraform_plans:
            step(path)
            models.append(_guarded(path, lambda: terraform_plan.load_plan(path)))
    if found.cloudformation_templates:
        from kds_iac.loaders import cloudformation
        from kds_iac.loaders.cfn_nested import scanned_roots

        roots = scanned_roots(paths)  # where nested stacks' templates may be read from

        def template(path: str) -> Model:
            return _guarded(path, lambda: cloudformation.load_template(path, roots=roots))

        models.extend(_cloudformation_templates(found.cloudformation_templates, template, jobs, step))
    if found.serverless_services:
        from kds_iac.loaders import serverless

        for path in found.serverless_services:
            step(path)
            models.append(_guarded(path, lambda: serverless.load_service(path, root=_scan_root(path, paths))))
    if progress is not None:
        progress(total, total, "")
    model = Model.merge(models, scope=[str(p) for p in paths])
    # a nested stack's template scanned on its own and through its parent: its problems once
    model.diagnostics = list(dict.fromkeys(model.diagnostics))
    model.focus_files = found.focus_files
    if model.focus_files and found.cloudformation_templates:
        from kds_iac.loaders.cfn_nested import nested_files

        # a named template's nested stacks are part of what it deploys: reported with it
        model.focus_files |= nested_files(model)
    return model


def _terraform_modules(
    directories: Sequence[str], module: Callable[[str], Model], jobs: int, step: Callable[[str], None]
) -> list[Model]:
    """Each module directory's model, in order; with ``jobs`` above 1 (and a scan large enough),
    loaded in threads, each with a tfparse worker of its own."""
    threads, replace_forked = 1, False
    if jobs > 1:
        from kds_iac.loaders import parallel

        threads, replace_forked = parallel.terraform_plan(jobs, directories)
    if threads == 1:
        out = []
        for directory in directories:
            step(directory)
            out.append(module(directory))
        return out
    from kds_iac.loaders import tfparse_worker

    before = tfparse_worker.workers()
    tfparse_worker.set_workers(max(before, threads), replace_forked=replace_forked)
    try:
        return list(parallel.ordered_map(module, directories, threads, before=step))
    finally:
        tfparse_worker.set_workers(before)


def _cloudformation_templates(
    paths: Sequence[str], template: Callable[[str], Model], jobs: int, step: Callable[[str], None]
) -> list[Model]:
    """Each template's model, in order; with ``jobs`` above 1 (and templates large enough),
    runs of them loaded in forked children at once (``parallel.cloudformation_shares``)."""
    if jobs > 1:
        from kds_iac import forked
        from kds_iac.loaders import parallel

        parts = parallel.cloudformation_shares(jobs, paths) if forked.can_fork() else []
        if len(parts) > 1:
            return _forked_templates(paths, parts, template, step)
    out = []
    for path in paths:
        step(path)
        out.append(template(path))
    return out


def _forked_templates(
    paths: Sequence[str], parts: list[list[int]], template: Callable[[str], Model], step: Callable[[str], None]
) -> list[Model]:
    """The first run loaded here, the others in forked children (``kds_iac.forked``). Progress
    is reported here, in the templates' order: as each of this process's own templates loads,
    then for the children's as their models arrive."""
    from kds_iac import forked

    def here(part: list[int]) -> dict[int, Model]:
        loaded = {}
        for index in part:
            step(paths[index])
            loaded[index] = template(paths[index])
        return loaded

    loaded = forked.run_shared(parts, lambda part: {index: template(paths[index]) for index in part}, here)
    for part in parts[1:]:
        for index in part:
            step(paths[index])
    return [loaded[index] for index in range(len(paths))]


def _scan_root(path: str, paths: Sequence[str]) -> str:
    """The scanned directory that holds ``path`` (includes stay inside it); for a file named
    alone, its directory."""
    import os

    for raw in paths:
        root = os.path.normpath(str(raw))
        if os.path.isdir(root) and os.path.commonpath([os.path.abspath(root), os.path.abspath(path)]) == os.path.abspath(root):
            return root
    return os.path.dirname(path) or "."


def _guarded(unit: str, load_unit: Callable[[], Model]) -> Model:
    """A loader never raises for bad input; should one have a bug, that unit becomes an error
    diagnostic and the other units are still loaded and judged."""
    try:
        return load_unit()
    except Exception as error:  # noqa: BLE001
        import logging

        logging.getLogger("kds_iac.loaders").debug("loading %s raised", unit, exc_info=error)
        text = (str(error).splitlines() or [""])[0][:200]
        return Model(
            diagnostics=[Diagnostic("error", unit, 0, f"internal error while loading ({type(error).__name__}: {text}); not checked", code=DiagnosticCode.INTERNAL)],
        )
