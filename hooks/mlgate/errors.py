"""Errors that are the user's to fix, not ours: a bad command line, configuration or baseline.

Each entry point (`mlgate`, the per-hook scripts, the GitHub Action) catches `UsageError`
once, prints its message and exits with the usage status; anything else is a bug.
"""

from __future__ import annotations


class UsageError(Exception):
    """A bad command line, configuration file or baseline: the message says what to fix."""
