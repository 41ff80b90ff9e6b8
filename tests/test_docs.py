"""The generated docs are current, and every constraint family carries its math."""

from __future__ import annotations

import pytest

from optimize import docs
from optimize.model import CONSTRAINT_FAMILIES
from optimize.model.finance import objective


@pytest.mark.parametrize("family", [*CONSTRAINT_FAMILIES, objective], ids=lambda f: f.__name__)
def test_every_family_has_math_in_its_docstring(family):
    assert docs.math_block(family), f"{family.__name__} has no '.. math::' block"
    assert docs.prose(family), f"{family.__name__} has no description"


@pytest.mark.parametrize("name", sorted(docs.GENERATED))
def test_generated_docs_are_current(name):
    on_disk = (docs.DOCS / name).read_text(encoding="utf-8")
    assert on_disk == docs.GENERATED[name](), (
        f"docs/{name} is stale: run `python -m optimize.docs`")


def test_math_block_detects_a_missing_block():
    def rule():
        """A rule without math."""

    assert docs.math_block(rule) is None
