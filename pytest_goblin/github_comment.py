"""The sticky pull-request comment: one comment, found by a hidden marker, created or updated.

Plain REST over urllib (no extra dependency): list the PR's issue comments page by page, PATCH
the one carrying MARKER, else POST a new one. No other comment is ever touched.
"""

from __future__ import annotations

import json
import os
import urllib.error
import urllib.request
from typing import Any

from .redact import redact

MARKER = "<!-- pytest-goblin:sticky -->"
MAX_BODY = 65000  # GitHub rejects comment bodies above 65536 characters


class CommentError(Exception):
    """The GitHub API refused or failed; `forbidden` marks a 403 (a fork's read-only token)."""

    def __init__(self, message: str, *, status: int | None = None):
        super().__init__(message)
        self.status = status

    @property
    def forbidden(self) -> bool:
        return self.status == 403


def body_for(markdown: str, *, run_url: str | None = None) -> str:
    text = redact(markdown).rstrip()
    if run_url:
        text += f"\n\n<sub>[workflow run]({run_url})</sub>"
    if len(text) > MAX_BODY:
        cut = text[: MAX_BODY - 200].rsplit("\n", 1)[0]
        text = cut + "\n\n…the summary was cut to fit a comment; the job summary has all of it."
    return f"{MARKER}\n{text}\n"


class GitHub:
    def __init__(self, token: str, api_url: str | None = None, timeout_s: float = 30.0):
        if not token:
            raise CommentError("no token: set GITHUB_TOKEN (the workflow's token needs `pull-requests: write`)")
        self.token = token
        self.api_url = (api_url or os.environ.get("GITHUB_API_URL") or "https://api.github.com").rstrip("/")
        self.timeout_s = timeout_s

    def _request(self, method: str, path: str, payload: dict[str, Any] | None = None) -> Any:
        data = json.dumps(payload).encode() if payload is not None else None
        req = urllib.request.Request(
            f"{self.api_url}{path}",
            data=data,
            method=method,
            headers={
                "Authorization": f"Bearer {self.token}",
                "Accept": "application/vnd.github+json",
                "X-GitHub-Api-Version": "2022-11-28",
                "User-Agent": "pytest-goblin",
                **({"Content-Type": "application/json"} if data else {}),
            },
        )
        try:
            with urllib.request.urlopen(req, timeout=self.timeout_s) as resp:
                raw = resp.read()
        except urllib.error.HTTPError as exc:
            detail = exc.read().decode("utf-8", "replace")[:300]
            raise CommentError(f"GitHub API {method} {path}: HTTP {exc.code}: {detail}", status=exc.code) from None
        except (urllib.error.URLError, TimeoutError) as exc:
            raise CommentError(f"GitHub API {method} {path}: {exc}") from None
        return json.loads(raw) if raw else None

    def find_sticky(self, repo: str, pr: int) -> dict[str, Any] | None:
        page = 1
        while True:
            comments = self._request("GET", f"/repos/{repo}/issues/{pr}/comments?per_page=100&page={page}")
            for c in comments or []:
                if MARKER in (c.get("body") or ""):
                    return dict(c)
            if not comments or len(comments) < 100:
                return None
            page += 1

    def upsert(self, repo: str, pr: int, body: str) -> tuple[str, dict[str, Any]]:
        """("created" | "updated", the comment)."""
        existing = self.find_sticky(repo, pr)
        if existing is not None:
            return "updated", self._request("PATCH", f"/repos/{repo}/issues/comments/{existing['id']}", {"body": body})
        return "created", self._request("POST", f"/repos/{repo}/issues/{pr}/comments", {"body": body})
