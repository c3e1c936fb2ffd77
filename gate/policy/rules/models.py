"""``models``: which model formats may be promoted, what their pickles may import, and which
exact bytes were approved.

Fail closed: a format the gate cannot recognise, a pickle it cannot read to the end, an archive
that would write outside its folder, and a file missing from (or changed against) the manifest
are rule outcomes, never silent passes."""

from __future__ import annotations

from gate.model import UNKNOWN_FORMAT, ModelFile, Safety, Status, Violation
from gate.policy.model import ModelRules, OnFinding, OnUnknown
from gate.policy.rules.base import Context, Outcome

SHOWN_IMPORTS = 5


def _status(action: OnFinding | OnUnknown) -> Status | None:
    return {"block": Status.BLOCKING, "warn": Status.WARNING}.get(action.value)


def _names(model: ModelFile, safety: Safety) -> list[str]:
    return [f"{i.qualified}" + (f" (in {i.stream})" if i.stream else "") for i in model.imports if i.safety is safety]


def _listing(items: list[str]) -> str:
    shown = ", ".join(items[:SHOWN_IMPORTS])
    return shown + (f" and {len(items) - SHOWN_IMPORTS} more" if len(items) > SHOWN_IMPORTS else "")


class ModelRule:
    section = "models"

    def check(self, context: Context) -> Outcome:
        rules = context.policy.models
        models = context.models
        if rules is None:
            if not models:
                return Outcome()
            dangerous = sum(1 for m in models if m.verdict == Safety.DANGEROUS.value)
            return Outcome(notes=(f"{len(models)} model file(s) inventoried but not judged: the policy has no "
                                  f"models section ({dangerous} with dangerous content).",))
        violations: list[Violation] = []
        for model in models:
            violations.extend(self._judge(model, rules))
        violations.extend(self._missing(models, rules))
        notes = () if models or rules.manifest else (
            "The policy has a models section but no model file was scanned (give --models or models.paths).",)
        return Outcome(violations=tuple(violations), notes=notes)

    @staticmethod
    def _judge(model: ModelFile, rules: ModelRules) -> list[Violation]:
        out: list[Violation] = []

        def add(rule: str, status: Status | None, detail: str) -> None:
            if status is not None:
                out.append(Violation(rule=rule, status=status, detail=f"{model.path}: {detail}", file=model.path))

        if model.format == UNKNOWN_FORMAT:
            add("models.unknown_format", _status(rules.unknown_format),
                "format not recognised from the bytes: it cannot be judged")
        elif rules.allowed_formats is not None and model.format not in rules.allowed_formats:
            add("models.allowed_formats", Status.BLOCKING,
                f"format {model.format} is not allowed (allowed: {', '.join(sorted(rules.allowed_formats)) or 'none'})")
        dangerous = _names(model, Safety.DANGEROUS)
        if dangerous or model.problems:
            parts = ([f"imports {_listing(dangerous)}, which run code or touch the system when loaded"]
                     if dangerous else []) + list(model.problems)
            add("models.block_unsafe", Status.BLOCKING if rules.block_unsafe else Status.WARNING, "; ".join(parts))
        suspicious = _names(model, Safety.SUSPICIOUS)
        if suspicious:
            add("models.suspicious", _status(rules.suspicious),
                f"imports {_listing(suspicious)}, outside the allow list (their code runs when loaded)")
        if rules.manifest is not None:
            expected = {real: digest for _, real, digest in rules.manifest}
            if model.real_path not in expected:
                add("models.unlisted", _status(rules.unlisted), "not listed in models.manifest")
            elif model.sha256 != expected[model.real_path]:
                add("models.manifest", Status.BLOCKING,
                    f"sha256 {model.sha256 or '(not read)'} differs from the manifest's {expected[model.real_path]}")
        return out

    @staticmethod
    def _missing(models: tuple[ModelFile, ...], rules: ModelRules) -> list[Violation]:
        if rules.manifest is None:
            return []
        scanned = {model.real_path for model in models}
        return [Violation(rule="models.manifest", status=Status.BLOCKING, file=written,
                          detail=f"{written}: listed in models.manifest but not among the model files scanned")
                for written, real, _ in rules.manifest if real not in scanned]
