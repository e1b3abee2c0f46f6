"""Rules of the vocabularies (validate/vocabulary.py): pooled groups, aliases and synonyms."""

from __future__ import annotations

from pathlib import Path

import pytest
from fixture_review import (
    edit,
    errors,
    find,
    make_root,
)

from neuroimmune_review.validate import (
    WARNING,
    validate_root,
)


@pytest.fixture
def root(tmp_path: Path) -> Path:
    return make_root(tmp_path)


INTERVENTIONS = "data/interventions.csv"
POOLED = '"SSRIs, pooled: fluoxetine, sertraline",pooled_group,SSRI,fluoxetine; sertraline,'


def test_pooled_group_members_must_exist(root):
    edit(root, INTERVENTIONS, "SSRI,fluoxetine; sertraline,", "SSRI,fluoxetine; sertralin,")
    find(errors(root), INTERVENTIONS, 8, "members", "'sertralin'", "did you mean 'sertraline'")


def test_pooled_group_members_must_be_drugs(root):
    edit(root, INTERVENTIONS, "SSRI,fluoxetine; sertraline,", "SSRI,fluoxetine; SSRIs,")
    find(errors(root), INTERVENTIONS, 8, "members", "'SSRIs' (kind drug_class)", "kind 'drug'")


def test_pooled_group_needs_two_members(root):
    edit(root, INTERVENTIONS, "SSRI,fluoxetine; sertraline,", "SSRI,fluoxetine,")
    find(errors(root), INTERVENTIONS, 8, "members", "1 member", "at least two")


def test_pooled_group_class_must_match_its_members(root):
    edit(root, INTERVENTIONS, POOLED, POOLED.replace(",SSRI,", ",TCA,"))
    find(
        errors(root), INTERVENTIONS, 8, "members", "drug_class 'TCA'", "expected drug_class 'SSRI'"
    )


def test_pooled_group_of_mixed_classes_has_no_class(root):
    edit(root, INTERVENTIONS, "SSRI,fluoxetine; sertraline,", "SSRI,fluoxetine; imipramine,")
    problem = find(errors(root), INTERVENTIONS, 8, "members", "do not share one class")
    assert "expected drug_class empty" in problem.message
    edit(root, INTERVENTIONS, ",SSRI,fluoxetine; imipramine,", ",,fluoxetine; imipramine,")
    assert not [p for p in errors(root) if p.field == "members"]


def test_members_only_for_pooled_groups(root):
    edit(
        root, INTERVENTIONS, "imipramine,drug,TCA,,", "imipramine,drug,TCA,fluoxetine; sertraline,"
    )
    find(errors(root), INTERVENTIONS, 4, "members", "kind 'drug'", "only for kind 'pooled_group'")


def test_synonym_naming_another_entry_is_an_error(root):
    edit(root, INTERVENTIONS, "inhibitor,,Prozac", "inhibitor,,Prozac; imipramine")
    find(errors(root), INTERVENTIONS, 2, "synonyms", "'imipramine'", "the name of another entry")


def test_alias_shared_by_two_entries_is_a_warning(root):
    edit(root, "data/mediators.csv", "IL6; interleukin 6", "IL6; interleukin 6; TNFα")
    problems = validate_root(root)
    assert not [p for p in problems if p.field == "aliases" and p.severity != WARNING]
    warning = next(p for p in problems if p.field == "aliases")
    assert warning.line == 2 and "'TNFα' also of 'TNF-α'" in warning.message
