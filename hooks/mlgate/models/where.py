"""Where a piece of model content sits: file, archive member, byte offset."""

from __future__ import annotations

from dataclasses import dataclass

from mlgate.findings import Finding, Rule, Severity


@dataclass(frozen=True)
class Where:
    """`base_offset` is the offset of the first byte handed to a parser, inside `member`
    when there is one (or inside the file), so findings carry real offsets."""

    path: str
    member: str | None = None
    base_offset: int = 0

    def inside(self, member: str) -> Where:
        """A member of an archive nested in this one (`outer.zip!inner/data.pkl`)."""
        name = member if self.member is None else f"{self.member}!{member}"
        return Where(self.path, name, 0)

    def at(self, offset: int) -> Where:
        return Where(self.path, self.member, self.base_offset + offset)

    def finding(
        self, rule: Rule, message: str, offset: int | None = 0, *, severity: Severity | None = None, context: str | None = None
    ) -> Finding:
        """A binary finding: no line/column, the member and absolute offset instead.

        The fingerprint context defaults to rule + member + message (no offset), so a
        re-saved file with the same problem keeps its baseline entry.
        """
        return rule.finding(
            self.path,
            None,
            None,
            message,
            severity=severity,
            offset=None if offset is None else self.base_offset + offset,
            member=self.member,
            context=context if context is not None else f"{self.member or ''}|{message}",
        )
