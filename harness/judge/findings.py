"""A finding: one disagreement, with everything needed to act on it, and the rule table."""

from __future__ import annotations

from dataclasses import dataclass

RULES = {
    "A1": "concrete/runtime agreement",
    "A2": "no silent loss",
    "A3": "one metadata copy",
    "A4": "sys.path hygiene",
    "A5": "flat differential",
    "A6": "console scripts resolve",
    "A7": "no stale bytecode",
    "A8": "merge conflicts reported",
    "plan": "plan invariant",
    "premise": "premise guard",
    "import": "real import",
    "expect-module": "expected module",
    "expect-file": "expected file",
    "expect-prefix-file": "expected prefix file",
    "expect-console-script": "expected console script",
    "expect-metadata": "expected metadata",
    "expect-collision": "expected collision",
    "expect-fallback": "expected fallback",
    "expect-flat": "declared flat difference",
    "expect-budget": "link budget",
}


@dataclass(frozen=True)
class Finding:
    """One disagreement, with everything needed to act on it."""

    rule: str
    subject: str  # the module, path or distribution the finding is about
    message: str
    concrete: str | None = None
    runtime: str | None = None
    wheels: tuple[str, ...] = ()
    case: str = ""
    interpreter: str = ""
    engine: str = ""

    def render(self) -> str:
        where = " ".join(x for x in (self.case, self.interpreter, self.engine) if x)
        head = f"[{self.rule} {RULES.get(self.rule, '')}] " + (f"{where}: " if where else "")
        lines = [f"{head}{self.subject}: {self.message}"]
        if self.concrete is not None:
            lines.append(f"    concrete: {self.concrete}")
        if self.runtime is not None:
            lines.append(f"    runtime:  {self.runtime}")
        if self.wheels:
            lines.append(f"    wheels:   {', '.join(self.wheels)}")
        return "\n".join(lines)
