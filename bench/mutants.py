"""The mutants of bench/mutate.py: cosmic-ray's operators used as a library.

One mutant per occurrence of an operator in a module, none inside a type annotation (never
evaluated here: ``from __future__ import annotations``) nor a parameter-list marker. A
mutant's id is its file, operator and the text of its line with the occurrence on that line,
so it survives edits elsewhere in the file.
"""

from __future__ import annotations

import ast
import hashlib
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent

# Realistic slips, not every operator cosmic-ray has: `x < y` for `x <= y`, a dropped or added
# `not`, and/or swapped, a constant off by one, a loop that never runs, an exception type that
# no longer matches. Replacements such as `+` -> `<<` or `==` -> `is` are left out.
OPERATORS = (
    "core/ReplaceComparisonOperator_Eq_NotEq",
    "core/ReplaceComparisonOperator_NotEq_Eq",
    "core/ReplaceComparisonOperator_Lt_LtE",
    "core/ReplaceComparisonOperator_LtE_Lt",
    "core/ReplaceComparisonOperator_Gt_GtE",
    "core/ReplaceComparisonOperator_GtE_Gt",
    "core/ReplaceComparisonOperator_Is_IsNot",
    "core/ReplaceComparisonOperator_IsNot_Is",
    "core/ReplaceBinaryOperator_Add_Sub",
    "core/ReplaceBinaryOperator_Sub_Add",
    "core/ReplaceBinaryOperator_Mul_Div",
    "core/ReplaceBinaryOperator_Div_Mul",
    "core/ReplaceBinaryOperator_FloorDiv_Mul",
    "core/ReplaceUnaryOperator_Delete_Not",
    "core/ReplaceUnaryOperator_USub_UAdd",
    "core/AddNot",
    "core/ReplaceTrueWithFalse",
    "core/ReplaceFalseWithTrue",
    "core/ReplaceAndWithOr",
    "core/ReplaceOrWithAnd",
    "core/ReplaceBreakWithContinue",
    "core/ReplaceContinueWithBreak",
    "core/ExceptionReplacer",
    "core/NumberReplacer",
    "core/ZeroIterationForLoop",
    "core/RemoveDecorator",
)


@dataclass
class Mutant:
    id: str
    group: str
    path: str
    line: int
    operator: str
    occurrence: int
    diff: str
    outcome: str = "pending"  # killed | timeout | survived | not covered | incompetent
    killed_by: str = ""
    first_outcome: str = ""
    seconds: float = 0.0
    tests: int = 0
    history: list[str] = field(default_factory=list)
    commit: str = ""  # the commit the result was measured at ("" before this was recorded)


# --- mutants ---------------------------------------------------------------------------------


def _annotation_spans(source: str) -> list[tuple[tuple[int, int], tuple[int, int]]]:
    spans = []
    for node in ast.walk(ast.parse(source)):
        notes: list[ast.expr | None] = []
        if isinstance(node, ast.arg):
            notes.append(node.annotation)
        elif isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            notes.append(node.returns)
        elif isinstance(node, ast.AnnAssign):
            notes.append(node.annotation)
        for note in notes:
            if note is not None and note.end_lineno is not None and note.end_col_offset is not None:
                spans.append(
                    ((note.lineno, note.col_offset), (note.end_lineno, note.end_col_offset))
                )
    return spans


def _in_spans(
    pos: tuple[int, int], spans: Iterable[tuple[tuple[int, int], tuple[int, int]]]
) -> bool:
    return any(start <= pos < end for start, end in spans)


def enumerate_mutants(group: str, path: Path) -> list[Mutant]:
    """Every mutant of ``path`` for the operators in :data:`OPERATORS` (diffs made later).

    A mutant's id is its file, operator and the text of its line with the occurrence on that
    line, so it survives edits elsewhere in the file (results and notes stay attached).
    """
    from cosmic_ray.ast import ast_nodes, get_ast_from_path
    from cosmic_ray.plugins import get_operator

    rel = path.relative_to(ROOT).as_posix()
    source = path.read_text()
    text = source.splitlines()
    spans = _annotation_spans(source)
    nodes = list(ast_nodes(get_ast_from_path(path)))
    mutants = []
    for name in OPERATORS:
        operator = get_operator(name)()
        positions = [(node, pos) for node in nodes for pos in operator.mutation_positions(node)]
        on_line: dict[str, int] = defaultdict(int)
        for occurrence, (node, (start, _end)) in enumerate(positions):
            line = text[start[0] - 1].strip()
            nth = on_line[line]
            on_line[line] += 1
            if _in_spans(start, spans) or _in_signature(node):
                continue
            digest = hashlib.sha1(f"{rel}\n{name}\n{line}\n{nth}".encode()).hexdigest()[:12]
            mutants.append(
                Mutant(
                    id=f"{rel}:{name.removeprefix('core/')}:{digest}",
                    group=group,
                    path=rel,
                    line=start[0],
                    operator=name.removeprefix("core/"),
                    occurrence=occurrence,
                    diff="",
                )
            )
    return mutants


def _in_signature(node: Any) -> bool:
    """A ``*`` or ``/`` marker in a parameter list: not an arithmetic operator."""
    parent = getattr(node, "parent", None)
    return getattr(parent, "type", "") in ("parameters", "typedargslist", "lambdef", "varargslist")


def mutated_source(mutant: Mutant, source: str) -> str | None:
    """The module's text with ``mutant`` applied (None: cosmic-ray cannot apply it)."""
    from cosmic_ray.mutating import mutate_code
    from cosmic_ray.plugins import get_operator

    operator = get_operator(f"core/{mutant.operator}")()
    try:
        mutated: str | None = mutate_code(source, operator, mutant.occurrence)
    except AttributeError:  # cosmic-ray 8.7 cannot rewrite some `except (A, B)` forms
        return None
    if mutated is None or mutated == source:
        return None
    mutant.diff = _diff(source, mutated, mutant.path)
    return mutated


def _diff(before: str, after: str, rel: str) -> str:
    import difflib

    lines = difflib.unified_diff(
        before.splitlines(), after.splitlines(), f"a/{rel}", f"b/{rel}", n=0, lineterm=""
    )
    return "\n".join(x for x in lines if not x.startswith(("---", "+++")))
