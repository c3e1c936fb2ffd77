from __future__ import annotations

import pytest

from gate.model import Target
from gate.targets import parse_target


@pytest.mark.parametrize(("text", "target"), [
    ("python=3.11,platform=linux_x86_64", Target(python="3.11", platform="linux_x86_64")),
    ("platform=osx-arm64", Target(platform="macosx_arm64")),
    (" python = 3.12.4 ", Target(python="3.12.4")),
    ("", Target()),
])
def test_parse_target(text: str, target: Target) -> None:
    assert parse_target(text) == target


@pytest.mark.parametrize(("text", "message"), [
    ("python=2.7", "python='2.7' is not a CPython version like 3.11 or 3.11.7"),
    ("platform=solaris", "platform 'solaris' is not one of linux_x86_64, linux_aarch64, macosx_x86_64, "
                         "macosx_arm64, win_amd64, win_arm64"),
    ("arch=x86", "unknown key 'arch' (python, platform)"),
    ("python", "'python' is not KEY=VALUE"),
])
def test_bad_targets(text: str, message: str) -> None:
    with pytest.raises(ValueError) as caught:
        parse_target(text)
    assert str(caught.value) == message


@pytest.mark.parametrize(("tag", "platform"), [
    ("manylinux_2_17_x86_64", "linux_x86_64"), ("manylinux2014_aarch64", "linux_aarch64"),
    ("musllinux_1_2_x86_64", "linux_x86_64"), ("macosx_11_0_arm64", "macosx_arm64"),
    ("macosx_10_9_universal2", None), ("win_amd64", "win_amd64"), ("win32", None), ("any", None),
    ("linux_ppc64le", None),
])
def test_platform_of_wheel_tag(tag: str, platform: str | None) -> None:
    from gate.targets import platform_of_wheel_tag

    assert platform_of_wheel_tag(tag) == platform
