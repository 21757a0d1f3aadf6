"""make release's pure parts: the version of a tree, and when a registry is spoken to in plain HTTP."""

from __future__ import annotations

from pathlib import Path

import personalize_operator
from support import release
from support.registry import config


def test_this_tree_is_released_with_the_operator_version() -> None:
    assert release.version_of(release.REPO) == personalize_operator.__version__


def test_a_tree_before_the_version_attribute_is_released_with_its_pyproject_version(tmp_path: Path) -> None:
    (tmp_path / "operator" / "personalize_operator").mkdir(parents=True)
    (tmp_path / "operator" / "personalize_operator" / "__init__.py").write_text('"""Old."""\n')
    (tmp_path / "pyproject.toml").write_text('[project]\nname = "personalize-operator"\nversion = "0.1.0"\n')
    assert release.version_of(tmp_path) == "0.1.0"


def test_only_loopback_registries_get_plain_http() -> None:
    assert release.is_loopback("127.0.0.1:5000") and release.is_loopback("localhost:5000")
    assert release.is_loopback("[::1]:5000") and release.is_loopback("localhost")
    assert not release.is_loopback("registry.example:443") and not release.is_loopback("10.0.0.5:5000")


def test_the_test_registry_listens_on_loopback_only_and_stores_in_its_own_folder(tmp_path: Path) -> None:
    settings = config(tmp_path / "storage", 5123)
    assert settings["http"]["addr"] == "127.0.0.1:5123"
    assert settings["storage"]["filesystem"]["rootdirectory"] == str(tmp_path / "storage")
