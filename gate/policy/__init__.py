"""Policy files: schema, loading, and evaluation of an environment against them."""

from gate.policy.loader import load_policy, policy_from_effective, resolve_policy_argument, shipped_policy_dir
from gate.policy.model import Policy
from gate.policy.schema import POLICY_SCHEMA

__all__ = [
    "POLICY_SCHEMA",
    "Policy",
    "load_policy",
    "policy_from_effective",
    "resolve_policy_argument",
    "shipped_policy_dir",
]
