from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest

from gate.errors import PolicyError
from gate.model import Level
from gate.policy import POLICY_SCHEMA, load_policy, resolve_policy_argument, shipped_policy_dir
from gate.policy.model import OnUnknown


def write(tmp_path: Path, text: str, name: str = "policy.yml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def error_for(path: Path) -> str:
    with pytest.raises(PolicyError) as caught:
        load_policy(path)
    return str(caught.value)


def test_shipped_policies_load_and_production_extends_staging() -> None:
    production = load_policy(resolve_policy_argument("production"))
    assert production.stage == "production"
    assert production.vulnerabilities is not None
    assert production.vulnerabilities.block_at is Level.LOW
    assert production.vulnerabilities.unknown_severity is OnUnknown.BLOCK
    assert production.advisory_db is not None and production.advisory_db.max_age_days == 2
    # inherited from staging
    assert production.packages is not None
    assert [d.name for d in production.packages.deny] == ["torch"]
    for name in ("sandbox", "staging"):
        assert load_policy(shipped_policy_dir() / f"{name}.yml").stage == name


def test_maps_merge_and_lists_replace(tmp_path: Path) -> None:
    write(tmp_path, "vulnerabilities:\n  block_at: high\n  unknown_severity: warn\n"
                    "packages:\n  deny:\n    - {name: a, reason: r}\n    - {name: b, reason: r}\n", "base.yml")
    child = write(tmp_path, "extends: base.yml\nvulnerabilities:\n  block_at: critical\n"
                            "packages:\n  deny:\n    - {name: C_d, reason: r2}\n")
    policy = load_policy(child)
    assert policy.effective == {
        "vulnerabilities": {"block_at": "critical", "unknown_severity": "warn"},
        "packages": {"deny": [{"name": "C_d", "reason": "r2"}]},
    }
    assert policy.packages is not None and policy.packages.deny[0].name == "c-d"


def test_waivers_are_typed(tmp_path: Path) -> None:
    path = write(tmp_path, """\
vulnerabilities:
  waivers:
    - id: CVE-2018-18074
      package: Requests
      reason: not reachable
      owner: sec@example.com
      expires: 2027-01-31
""")
    policy = load_policy(path)
    assert policy.vulnerabilities is not None
    (waiver,) = policy.vulnerabilities.waivers
    assert waiver.package == "requests"
    assert waiver.expires == dt.date(2027, 1, 31)
    assert policy.effective["vulnerabilities"]["waivers"][0]["expires"] == "2027-01-31"


def test_digest_is_of_the_effective_policy(tmp_path: Path) -> None:
    a = write(tmp_path, "stage: x\nvulnerabilities: {block_at: high}\n", "a.yml")
    b = write(tmp_path, "# comment\nvulnerabilities:\n  block_at: high\nstage: x\n", "b.yml")
    assert load_policy(a).digest == load_policy(b).digest
    assert load_policy(a).digest.startswith("sha256:")


def test_misspelt_key_says_did_you_mean(tmp_path: Path) -> None:
    path = write(tmp_path, "stage: prod\nvulnerabilities:\n  block_at: high\n  waviers: []\n")
    assert error_for(path) == f"{path}:4: vulnerabilities.waviers: unknown key 'waviers' (did you mean 'waivers'?)"


def test_misspelt_section(tmp_path: Path) -> None:
    path = write(tmp_path, "vulnerabilites:\n  block_at: high\n")
    assert error_for(path) == (f"{path}:1: vulnerabilites: unknown key 'vulnerabilites' "
                               "(did you mean 'vulnerabilities'?)")


def test_unknown_key_without_close_match_lists_allowed(tmp_path: Path) -> None:
    path = write(tmp_path, "advisory_db:\n  zzz: 1\n")
    assert error_for(path) == f"{path}:2: advisory_db.zzz: unknown key 'zzz' (allowed: max_age_days)"


def test_wrong_enum_value(tmp_path: Path) -> None:
    path = write(tmp_path, "vulnerabilities:\n  block_at: severe\n")
    assert error_for(path) == (f"{path}:2: vulnerabilities.block_at: 'severe' is not one of "
                               "'critical', 'high', 'medium', 'low'")


def test_wrong_type(tmp_path: Path) -> None:
    path = write(tmp_path, "advisory_db:\n  max_age_days: soon\n")
    assert error_for(path) == f"{path}:2: advisory_db.max_age_days: 'soon' is not of type 'integer'"


def test_bad_date_shape(tmp_path: Path) -> None:
    path = write(tmp_path, "vulnerabilities:\n  waivers:\n    - {id: X-1, reason: r, owner: o, expires: next week}\n")
    assert error_for(path) == f"{path}:3: vulnerabilities.waivers[0].expires: 'next week' is not a date (YYYY-MM-DD)"


def test_impossible_calendar_date(tmp_path: Path) -> None:
    path = write(tmp_path, "vulnerabilities:\n  waivers:\n    - id: X-1\n      reason: r\n      owner: o\n"
                           "      expires: 2027-02-30\n")
    assert error_for(path) == f"{path}:6: vulnerabilities.waivers[0].expires: '2027-02-30' is not a calendar date"


def test_missing_required_key(tmp_path: Path) -> None:
    path = write(tmp_path, "vulnerabilities:\n  waivers:\n    - id: X-1\n      reason: r\n      expires: 2027-01-01\n")
    assert error_for(path) == f"{path}:3: vulnerabilities.waivers[0]: missing required key 'owner'"


def test_bad_specifier(tmp_path: Path) -> None:
    path = write(tmp_path, "packages:\n  deny:\n    - {name: torch, versions: 'less than 2', reason: r}\n")
    assert error_for(path) == (f"{path}:3: packages.deny[0].versions: 'less than 2' is not a PEP 440 "
                               "version specifier")


def test_duplicate_key(tmp_path: Path) -> None:
    path = write(tmp_path, "stage: a\nstage: b\n")
    assert error_for(path) == f"{path}:2: duplicate key 'stage'"


def test_invalid_yaml(tmp_path: Path) -> None:
    path = write(tmp_path, "vulnerabilities:\n  block_at: [high\n")
    message = error_for(path)
    assert message.startswith(f"{path}:3: invalid YAML: ")


def test_not_a_mapping(tmp_path: Path) -> None:
    path = write(tmp_path, "- just\n- a list\n")
    assert error_for(path) == f"{path}:1: a policy must be a mapping of sections"


def test_empty_file(tmp_path: Path) -> None:
    assert error_for(write(tmp_path, "# nothing\n")) == f"{tmp_path / 'policy.yml'}: policy file is empty"


def test_missing_file(tmp_path: Path) -> None:
    assert error_for(tmp_path / "nope.yml") == f"{tmp_path / 'nope.yml'}: policy file not found"


def test_yaml_bomb_is_bounded(tmp_path: Path) -> None:
    lines = ["a0: &a0 [x, x, x, x, x, x, x, x, x, x]"]
    for i in range(1, 9):
        lines.append(f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 10) + "]")
    path = write(tmp_path, "\n".join(lines) + "\n")
    message = error_for(path)
    assert "has more than 100000 values (alias expansion?)" in message


def test_extends_loop(tmp_path: Path) -> None:
    write(tmp_path, "extends: b.yml\n", "a.yml")
    b = write(tmp_path, "extends: a.yml\n", "b.yml")
    assert error_for(b) == f"{tmp_path / 'a.yml'}:1: extends: 'extends' loops back to {tmp_path / 'b.yml'}"


def test_extends_missing_parent(tmp_path: Path) -> None:
    path = write(tmp_path, "extends: nowhere.yml\n")
    assert error_for(path) == (f"{path}:1: extends: parent policy 'nowhere.yml' not found next to this file nor "
                               "among the shipped policies (sandbox, staging, production)")


def test_extends_a_shipped_policy_by_name(tmp_path: Path) -> None:
    path = write(tmp_path, "extends: production\nadvisory_db: {max_age_days: 10}\n")
    policy = load_policy(path)
    assert policy.stage == "production"
    assert policy.advisory_db is not None and policy.advisory_db.max_age_days == 10


def test_errors_in_a_parent_name_the_parent(tmp_path: Path) -> None:
    parent = write(tmp_path, "stage: s\nvulnerabilities: {block_at: huge}\n", "parent.yml")
    child = write(tmp_path, "extends: parent.yml\n")
    assert error_for(child) == (f"{parent}:2: vulnerabilities.block_at: 'huge' is not one of "
                                "'critical', 'high', 'medium', 'low'")


def test_schema_is_valid_json_schema() -> None:
    from jsonschema import Draft202012Validator

    Draft202012Validator.check_schema(POLICY_SCHEMA)
    json.dumps(POLICY_SCHEMA)


def test_target_section(tmp_path: Path) -> None:
    from gate.model import Target

    policy = load_policy(write(tmp_path, "target: {python: '3.11', platform: linux-64}\n"))
    assert policy.target == Target(python="3.11", platform="linux_x86_64")


def test_target_with_unknown_platform(tmp_path: Path) -> None:
    path = write(tmp_path, "target:\n  platform: solaris\n")
    assert error_for(path).startswith(f"{path}:2: target.platform: 'solaris' is not one of 'darwin_arm64', ")


def test_null_switches_off_a_parent_section(tmp_path: Path) -> None:
    write(tmp_path, "packages:\n  deny: [{name: a, reason: r}]\nvulnerabilities: {block_at: high}\n", "base.yml")
    child = write(tmp_path, "extends: base.yml\npackages: null\n")
    policy = load_policy(child)
    assert policy.packages is None
    assert policy.effective == {"vulnerabilities": {"block_at": "high"}}



# Found by benchmarks/fuzz_inputs.py: each was an exception other than PolicyError (exit 70, no location).

def test_alias_to_an_enclosing_node_is_bounded(tmp_path: Path) -> None:
    path = write(tmp_path, "stage: s\nd: &a [*a]\n")
    assert error_for(path) == f"{path}:2: d: nested deeper than 32 levels"


def test_deep_nesting_is_bounded(tmp_path: Path) -> None:
    path = write(tmp_path, "stage: s\nlicenses: " + "[" * 900 + "]" * 900 + "\n")
    assert error_for(path) == f"{path}:2: licenses: nested deeper than 32 levels"


@pytest.mark.parametrize("value", ["!!int 0x" + "f" * 5000, "0x7fffffffffffffffff"])
def test_integer_out_of_range(tmp_path: Path, value: str) -> None:
    # YAML's hexadecimal integers escape int()'s 4,300-digit limit; the schema's message would repr() them
    path = write(tmp_path, f"advisory_db:\n  max_age_days: {value}\n")
    shown = value.removeprefix("!!int ")
    shown = shown if len(shown) <= 40 else shown[:37] + "..."
    assert error_for(path) == f"{path}:2: advisory_db.max_age_days: the integer {shown} is out of range"


def test_registry_ages_are_bounded(tmp_path: Path) -> None:
    # a century at most: a larger one overflowed datetime arithmetic when the rule ran
    path = write(tmp_path, "registry:\n  url: https://pypi.org/simple\n  cache_max_age_hours: 100000000000000\n")
    assert error_for(path) == (f"{path}:3: registry.cache_max_age_hours: 100000000000000 is greater than the "
                               "maximum of 876000")
    path = write(tmp_path, "registry:\n  min_release_age_days: 36501\n")
    assert error_for(path) == f"{path}:2: registry.min_release_age_days: 36501 is greater than the maximum of 36500"
    assert load_policy(write(tmp_path, "registry:\n  min_release_age_days: 36500\n")).registry is not None


@pytest.mark.parametrize(("url", "problem"), [
    ("https://pypi.example:abc/simple", "Port could not be cast to integer value as 'abc'"),
    ("https://pypi.example:99999/simple", "Port out of range 0-65535"),
    ("http://[pypi.example/simple", "Invalid IPv6 URL"),
    ("https:///simple", "no host"),
])
def test_registry_url_must_be_reachable(tmp_path: Path, url: str, problem: str) -> None:
    path = write(tmp_path, f"registry:\n  url: '{url}'\n")
    assert error_for(path) == f"{path}:2: registry.url: {url!r} is not a URL the index can be reached at ({problem})"


def test_a_value_yaml_cannot_construct_is_one_line(tmp_path: Path) -> None:
    path = write(tmp_path, "models:\n  block_unsafe: !!python/object:os.system x\n")
    assert error_for(path) == (f"{path}:2: models.block_unsafe: invalid value 'x': could not determine a constructor "
                               "for the tag 'tag:yaml.org,2002:python/object:os.system'")


def test_control_character_is_one_line_with_its_line(tmp_path: Path) -> None:
    path = tmp_path / "policy.yml"
    path.write_bytes(b"stage: s\nx: \"\x01\"\n")
    assert error_for(path) == (f"{path}:2: invalid YAML: unacceptable character #x0001: control characters are "
                               "not allowed")
