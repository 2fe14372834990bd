"""The sticky pull-request comment: one comment, found by a hidden marker and its author, created or updated.

Plain REST over urllib (no extra dependency): list the PR's issue comments page by page, PATCH
the one that starts with MARKER and was written by this token's account, else POST a new one.
The token is the one secret goblin holds, so the client refuses anything that could move it:
no redirects (urllib would copy `Authorization` to another host), `https` unless the API is on
a loopback address, a validated `owner/name` and PR number in the URL path, bounded pages,
bounded response bodies, an overall deadline per request, and errors that quote neither the token
nor unescaped API text.
"""

from __future__ import annotations

import ipaddress
import json
import os
import re
import time
import urllib.error
import urllib.parse
import urllib.request
from typing import Any

from .redact import MASK, redact
from .reporting.escape import md_code, one_line
from .reporting.markdown import truncate

MARKER = "<!-- pytest-goblin:sticky -->"
MAX_BODY = 65000  # GitHub rejects comment bodies above 65536 characters
MAX_PAGES = 30  # 3,000 comments: beyond that the PR is not one a sticky comment helps
MAX_RESPONSE_BYTES = 8 * 1024 * 1024
MAX_ERROR_BYTES = 4096
DEFAULT_AUTHOR = "github-actions[bot]"  # the account behind a workflow's GITHUB_TOKEN
_REPO = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9_.-]{0,99})/[A-Za-z0-9_.-]{1,100}")


class CommentError(Exception):
    """The GitHub API refused or failed; `forbidden` marks a 403 (a fork's read-only token)."""

    def __init__(self, message: str, *, status: int | None = None):
        super().__init__(message)
        self.status = status

    @property
    def forbidden(self) -> bool:
        return self.status == 403


_RUN_ID = re.compile(r"[0-9]{1,20}")
_SHA = re.compile(r"[0-9a-fA-F]{7,64}")


def provenance(repo: str, *, run_id: str | None, head_sha: str | None, head_repo: str | None, server: str | None = None) -> tuple[str, str | None]:
    """(the lines that say which run produced the report, and whether it is advisory; that run's URL).

    The comment job renders an artifact: a fork's pull request can rewrite the workflow that
    uploaded it, so its verdicts are the fork's claims. Values are validated here (CommentError)."""
    for flag, value, pattern in (("--run-id", run_id, _RUN_ID), ("--head-sha", head_sha, _SHA), ("--head-repo", head_repo, _REPO)):
        if value is not None and (not pattern.fullmatch(value) or ".." in value):
            raise CommentError(
                f"{flag} {one_line(value)!r}: expected {'a run number' if flag == '--run-id' else 'a commit SHA' if flag == '--head-sha' else 'OWNER/NAME'}"
            )
    base = (server or "https://github.com").rstrip("/")
    url = f"{base}/{repo}/actions/runs/{run_id}" if run_id else None
    run = f"[workflow run {run_id}]({urllib.parse.quote(url, safe=':/')})" if url else "a workflow run"
    head = (f" at head {md_code(head_sha[:12])}" if head_sha else "") + (f" of {md_code(head_repo)}" if head_repo else "")
    lines = [
        f"<sub>Rendered by goblin from the report artifact of {run}{head}. Rule titles, advice and sources are this goblin's knowledge base; every other string is shown as text.</sub>"
    ]
    if head_repo is None or head_repo.lower() != repo.lower():
        lines += [
            "",
            "> [!NOTE]",
            "> **Advisory.** The pull request controls the run that produced this report (a fork can rewrite its workflow), "
            "so the verdicts and numbers below are the report's own claims, not a check. Gate merges on checks the base repository runs.",
        ]
    return "\n".join(lines), url


def body_for(markdown: str, *, run_url: str | None = None, header: str = "") -> str:
    """The comment body: the marker first, then `header` (where the report came from), the summary
    cut outside any code block or `<details>` so the notice stays visible, and the run link kept
    after any cut."""
    link = f"\n\n<sub>[workflow run]({urllib.parse.quote(run_url, safe=':/?=&#%')})</sub>" if run_url else ""
    head = f"{header}\n\n" if header else ""
    notice = "…the summary was cut to fit a comment; the job summary and the JSON report have all of it."
    budget = MAX_BODY - len(MARKER) - len(link.encode("utf-8")) - len(head.encode("utf-8")) - 8
    text = truncate(markdown.rstrip(), budget, notice)  # rendered from a masked session (cmd_comment)
    return f"{MARKER}\n{head}{text}{link}\n"


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, req: Any, fp: Any, code: int, msg: str, headers: Any, newurl: str) -> None:
        raise urllib.error.HTTPError(req.full_url, code, "redirect refused (the token is never sent to another URL)", headers, None)


def _loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


class GitHub:
    def __init__(self, token: str, api_url: str | None = None, timeout_s: float = 30.0, *, author: str | None = None):
        if not token:
            raise CommentError("no token: set GITHUB_TOKEN (the workflow's token needs `pull-requests: write`)")
        self.token = token
        self.api_url = (api_url or os.environ.get("GITHUB_API_URL") or "https://api.github.com").rstrip("/")
        parts = urllib.parse.urlsplit(self.api_url)
        if parts.scheme not in ("https", "http") or not parts.hostname:
            raise CommentError(f"--api-url {one_line(self.api_url)!r}: expected an https:// URL")
        if parts.scheme == "http" and not _loopback(parts.hostname):
            raise CommentError(f"--api-url {one_line(self.api_url)!r}: plain http would send the token in clear; use https (http is allowed on loopback only)")
        if parts.query or parts.fragment or parts.username:
            raise CommentError("--api-url: no query, fragment or credentials allowed in the API root")
        self.timeout_s = timeout_s
        self.author = author
        self._opener = urllib.request.build_opener(_NoRedirect)

    def _clean(self, text: str) -> str:
        return one_line(redact(text.replace(self.token, MASK)))

    def _read(self, resp: Any, limit: int, deadline: float) -> bytes:
        """At most `limit` bytes, one socket read at a time so a dripping body meets the deadline."""
        chunks: list[bytes] = []
        total = 0
        while True:
            if time.monotonic() > deadline:
                raise TimeoutError("the response did not finish within the deadline")
            chunk = resp.read1(65536) if hasattr(resp, "read1") else resp.read(65536)
            if not chunk:
                return b"".join(chunks)
            chunks.append(chunk)
            total += len(chunk)
            if total > limit:
                raise CommentError(f"the response is larger than {limit} bytes")

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
        deadline = time.monotonic() + self.timeout_s
        try:
            with self._opener.open(req, timeout=self.timeout_s) as resp:
                raw = self._read(resp, MAX_RESPONSE_BYTES, deadline)
        except urllib.error.HTTPError as exc:
            try:
                detail = self._read(exc.fp, MAX_ERROR_BYTES, deadline).decode("utf-8", "replace") if exc.fp is not None else str(exc.msg)
            except (CommentError, OSError, TimeoutError):
                detail = "(body not read: too large or too slow)"
            if 300 <= exc.code < 400:
                detail = "redirect refused (the token is never sent to another URL); use the final API URL"
            raise CommentError(f"GitHub API {method} {path}: HTTP {exc.code}: {self._clean(detail[:300])}", status=exc.code) from None
        except (urllib.error.URLError, OSError, TimeoutError) as exc:
            raise CommentError(f"GitHub API {method} {path}: {self._clean(str(exc))}") from None
        if not raw:
            return None
        try:
            return json.loads(raw)
        except ValueError:
            raise CommentError(f"GitHub API {method} {path}: the response is not JSON") from None

    def _login(self) -> str:
        """This token's account: GET /user for a personal token, else the Actions bot."""
        if self.author:
            return self.author
        try:
            me = self._request("GET", "/user")
        except CommentError:
            me = None
        login = me.get("login") if isinstance(me, dict) else None
        self.author = login if isinstance(login, str) and login else DEFAULT_AUTHOR
        return self.author

    def find_sticky(self, repo: str, pr: int) -> dict[str, Any] | None:
        """The comment that starts with MARKER and was written by this token's account: a human
        who quotes the marker, or anyone else who posts it first, never gets their comment rewritten."""
        login = self._login()
        for page in range(1, MAX_PAGES + 1):
            comments = self._request("GET", f"/repos/{repo}/issues/{pr}/comments?per_page=100&page={page}")
            if comments is None:
                return None
            if not isinstance(comments, list):
                raise CommentError(f"GitHub API GET /repos/{repo}/issues/{pr}/comments: expected a list of comments")
            for c in comments:
                if not isinstance(c, dict):
                    continue
                user = c.get("user")
                body = c.get("body")
                author = user.get("login") if isinstance(user, dict) else None
                if isinstance(body, str) and body.startswith(MARKER) and author == login and isinstance(c.get("id"), int):
                    return dict(c)
            if len(comments) < 100:
                return None
        return None  # past MAX_PAGES: post a new comment rather than page for ever

    def upsert(self, repo: str, pr: int, body: str) -> tuple[str, dict[str, Any]]:
        """("created" | "updated", the comment)."""
        if not _REPO.fullmatch(repo) or ".." in repo:
            raise CommentError(f"--repo {one_line(repo)!r}: expected OWNER/NAME")
        if isinstance(pr, bool) or not isinstance(pr, int) or pr < 1:
            raise CommentError(f"--pr {pr!r}: expected a pull-request number (1 or more)")
        existing = self.find_sticky(repo, pr)
        if existing is not None:
            done = self._request("PATCH", f"/repos/{repo}/issues/comments/{existing['id']}", {"body": body})
            return "updated", done if isinstance(done, dict) else dict(existing)
        done = self._request("POST", f"/repos/{repo}/issues/{pr}/comments", {"body": body})
        return "created", done if isinstance(done, dict) else {}
