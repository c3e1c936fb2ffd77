"""One module per policy section. Each exposes ``check(context) -> Outcome``; the evaluator
runs them in the order of :data:`gate.policy.evaluate.RULES`."""
