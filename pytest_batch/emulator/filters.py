"""The `$filter` subset Batch documents (odata-filters-in-batch): compile once, test documents.

Placeholder grammar until the full parser lands: `prop eq 'value'` joined by `and`.
"""

from __future__ import annotations

from typing import Any, Callable, Mapping


def compile_filter(text: str) -> Callable[[Mapping[str, Any]], bool]:
    clauses = []
    for part in text.split(" and "):
        name, op, value = (part.strip().split(" ", 2) + ["", ""])[:3]
        if op != "eq" or not value.startswith("'") or not value.endswith("'"):
            raise ValueError(f"unsupported filter clause {part.strip()!r}")
        clauses.append((name, value[1:-1]))

    def predicate(doc: Mapping[str, Any]) -> bool:
        return all(str(doc.get(name)) == value for name, value in clauses)

    return predicate
