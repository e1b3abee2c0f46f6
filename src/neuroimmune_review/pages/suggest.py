"""Where readers suggest a study: the repository's issue form, if the repository is known.

Its own module because the stale check before every build runs this query (it reads the
environment, so it declares no files): importing it must not import the charts (``about``
imports render and Altair, 0.4 s of every build).
"""

from __future__ import annotations

from .. import paths, provenance

# The issue form readers use to propose the work behind a number (.github/ISSUE_TEMPLATE).
SUGGEST_FORM = "suggest-a-study.yml"


@provenance.tracked
def suggest_form_url() -> str:
    """The repository's "Suggest a study" issue form ("" when the repository is not known).

    The repository is CITATION.cff's ``repository-code``, else the GitHub repository the site
    is built in (GITHUB_SERVER_URL and GITHUB_REPOSITORY); never guessed.
    """
    import os

    import yaml

    url = ""
    try:
        citation = yaml.safe_load((paths.find_root() / "CITATION.cff").read_text(encoding="utf-8"))
        url = str((citation or {}).get("repository-code") or "").strip()
    except (OSError, yaml.YAMLError):
        pass
    if not url and os.environ.get("GITHUB_REPOSITORY"):
        server = os.environ.get("GITHUB_SERVER_URL", "https://github.com").rstrip("/")
        url = f"{server}/{os.environ['GITHUB_REPOSITORY']}"
    url = url.rstrip("/")
    return f"{url}/issues/new?template={SUGGEST_FORM}" if url.startswith("https://") else ""
