"""The CI run a record was made in, read from the variables GitHub Actions and GitLab CI set.

Passed in as a mapping (not read from ``os.environ`` here) so tests and replays are pure. Only
public facts are taken: repository, commit, ref, run URL and actor; never a token."""

from __future__ import annotations

from collections.abc import Mapping


def ci_context(environ: Mapping[str, str]) -> dict[str, str]:
    """``{"system", "repository", "commit", "ref", "run_url", "actor"}`` for the CI we are in, or ``{}``."""
    if environ.get("GITHUB_ACTIONS") == "true" or environ.get("GITHUB_RUN_ID"):
        server = environ.get("GITHUB_SERVER_URL", "https://github.com").rstrip("/")
        repository = environ.get("GITHUB_REPOSITORY", "")
        run_id = environ.get("GITHUB_RUN_ID", "")
        context = {
            "system": "github",
            "repository": repository,
            "commit": environ.get("GITHUB_SHA", ""),
            "ref": environ.get("GITHUB_REF", ""),
            "run_url": f"{server}/{repository}/actions/runs/{run_id}" if repository and run_id else "",
            "actor": environ.get("GITHUB_ACTOR", ""),
        }
    elif environ.get("GITLAB_CI") == "true" or environ.get("CI_PIPELINE_URL"):
        context = {
            "system": "gitlab",
            "repository": environ.get("CI_PROJECT_PATH", ""),
            "commit": environ.get("CI_COMMIT_SHA", ""),
            "ref": environ.get("CI_COMMIT_REF_NAME", ""),
            "run_url": environ.get("CI_PIPELINE_URL", ""),
            "actor": environ.get("GITLAB_USER_LOGIN", ""),
        }
    else:
        return {}
    return {key: value for key, value in context.items() if value}
