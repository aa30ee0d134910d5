"""The optional ``progress`` callback of ``engine.scan`` and ``loaders.load`` (used by the CLI bar)."""

from __future__ import annotations

from types import SimpleNamespace

import kds_iac.loaders as loaders
from kds_iac import engine
from kds_iac.loaders.discovery import Discovered
from kds_iac.model import Model


def fake_loaders(monkeypatch) -> None:
    found = Discovered(terraform_modules=["infra/a", "infra/b"], terraform_plans=["plan.json"],
                       cloudformation_templates=["stack.yaml"])
    monkeypatch.setattr(loaders, "discover", lambda paths: found)
    monkeypatch.setattr(loaders, "terraform", SimpleNamespace(load_module=lambda d, **kw: Model()), raising=False)
    monkeypatch.setattr(loaders, "terraform_plan", SimpleNamespace(load_plan=lambda p: Model()), raising=False)
    monkeypatch.setattr(loaders, "cloudformation", SimpleNamespace(load_template=lambda p, **kw: Model()), raising=False)


def test_load_reports_each_unit_then_the_end(monkeypatch):
    fake_loaders(monkeypatch)
    calls = []
    model = loaders.load(["infra"], progress=lambda *args: calls.append(args))
    assert calls == [(0, 4, "infra/a"), (1, 4, "infra/b"), (2, 4, "plan.json"), (3, 4, "stack.yaml"), (4, 4, "")]
    assert model.scope == ["infra"]


def test_load_without_progress_is_unchanged(monkeypatch):
    fake_loaders(monkeypatch)
    assert loaders.load(["infra"]).scope == ["infra"]


def test_scan_hands_its_progress_callback_to_the_loaders(monkeypatch):
    seen = []

    def load(paths, **kwargs):
        seen.append(kwargs)
        return Model(scope=list(paths))

    monkeypatch.setattr(engine, "load", load)
    monkeypatch.setattr(engine, "all_rules", lambda: ())
    engine.scan(["infra"])
    callback = lambda done, total, unit: None  # noqa: E731
    engine.scan(["infra"], progress=callback)
    assert seen[0]["progress"] is None
    assert seen[1]["progress"] is callback
