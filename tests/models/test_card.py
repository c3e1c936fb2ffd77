"""Model cards from the Hugging Face files beside a model."""

from __future__ import annotations

from pathlib import Path

from gate.model import ModelCard
from gate.models.card import front_matter, read_card


def test_card_from_config_and_readme(tmp_path: Path) -> None:
    (tmp_path / "config.json").write_text('{"architectures": ["LlamaForCausalLM"], "model_type": "llama"}')
    (tmp_path / "README.md").write_text("---\nlicense: [mit, apache-2.0]\npipeline_tag: text-generation\n"
                                        "tags: [a]\n---\n# Llama\n")
    assert read_card(tmp_path / "model.safetensors") == ModelCard(
        architecture="LlamaForCausalLM", model_type="llama", task="text-generation", license="mit OR apache-2.0",
        sources=("config.json", "README.md"))


def test_no_card_and_malformed_files(tmp_path: Path) -> None:
    assert read_card(tmp_path / "model.bin") is None
    (tmp_path / "config.json").write_text("{not json")
    (tmp_path / "README.md").write_text("---\nlicense: [unclosed\n---\n")
    assert read_card(tmp_path / "model.bin") is None
    (tmp_path / "config.json").write_text("x" * (2 << 20))  # too large: not read
    assert read_card(tmp_path / "model.bin") is None


def test_front_matter_needs_the_leading_fence() -> None:
    assert front_matter("# title\n---\nlicense: mit\n---\n") == {}
    assert front_matter("---\nlicense: mit\n---\nbody") == {"license": "mit"}
    assert front_matter("---\nlicense: mit\n") == {}


def test_front_matter_values_yaml_cannot_construct_add_nothing() -> None:
    # found by benchmarks/fuzz_inputs.py: ValueError escaped (exit 70) instead of "a malformed file adds nothing"
    assert front_matter("---\ng: !!timestamp 2001-2-0\n---\n") == {}
    assert front_matter("---\nlicense: " + "1" * 5000 + "\n---\n") == {}
    assert front_matter("---\nlicense: " + "[" * 5000 + "]" * 5000 + "\n---\n") == {}
