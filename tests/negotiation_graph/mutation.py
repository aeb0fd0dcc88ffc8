"""A small AST mutator for policy checks: every read of a decision's `.allowed` inside a chosen
function is either removed (replaced by True: the check always passes) or inverted (`not ...`),
and each named call (e.g. `check_accept`) can be deleted. A mutant is applied by swapping the
function's code object in place, so every caller (the compiled graph, other modules that imported
the function by name) runs the mutant until it is restored."""

from __future__ import annotations

import ast
import importlib
import inspect
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from types import CodeType


@dataclass(frozen=True)
class Mutant:
    module: str
    function: str
    line: int
    col: int
    operator: str  # "remove" | "invert" | "delete-call"
    source: str  # the mutated expression as written, for the report

    @property
    def id(self) -> str:
        return f"{self.module.rsplit('.', 1)[-1]}.{self.function}:{self.line}:{self.operator}:{self.source}"


def _function_node(tree: ast.Module, name: str) -> ast.FunctionDef:
    return next(n for n in tree.body if isinstance(n, ast.FunctionDef) and n.name == name)


def _sites(fn: ast.FunctionDef, calls: tuple[str, ...]) -> Iterator[tuple[ast.AST, str]]:
    for node in ast.walk(fn):
        if isinstance(node, ast.Attribute) and node.attr == "allowed" and isinstance(node.ctx, ast.Load):
            yield node, "remove"
            yield node, "invert"
        elif (
            isinstance(node, ast.Expr)
            and isinstance(node.value, ast.Call)
            and isinstance(node.value.func, ast.Name)
            and node.value.func.id in calls
        ):
            yield node, "delete-call"


def mutants(module: str, function: str, calls: tuple[str, ...] = ()) -> list[Mutant]:
    source = inspect.getsource(importlib.import_module(module))
    fn = _function_node(ast.parse(source), function)
    return [
        Mutant(module, function, node.lineno, node.col_offset, op, ast.unparse(node))
        for node, op in _sites(fn, calls)
    ]


class _Apply(ast.NodeTransformer):
    def __init__(self, mutant: Mutant):
        self.mutant = mutant

    def _is_site(self, node: ast.AST) -> bool:
        return getattr(node, "lineno", None) == self.mutant.line and getattr(node, "col_offset", None) == self.mutant.col

    def visit_Attribute(self, node: ast.Attribute):
        self.generic_visit(node)
        if self._is_site(node) and node.attr == "allowed":
            if self.mutant.operator == "remove":
                return ast.copy_location(ast.Constant(True), node)
            return ast.copy_location(ast.UnaryOp(ast.Not(), node), node)
        return node

    def visit_Expr(self, node: ast.Expr):
        self.generic_visit(node)
        if self._is_site(node) and self.mutant.operator == "delete-call":
            return ast.copy_location(ast.Pass(), node)
        return node


def _code_named(code: CodeType, name: str) -> CodeType:
    return next(c for c in code.co_consts if isinstance(c, CodeType) and c.co_name == name)


@contextmanager
def applied(mutant: Mutant) -> Iterator[None]:
    module = importlib.import_module(mutant.module)
    tree = ast.parse(inspect.getsource(module))
    fn = _function_node(tree, mutant.function)
    _Apply(mutant).visit(fn)
    ast.fix_missing_locations(tree)
    code = compile(tree, inspect.getsourcefile(module), "exec")
    target: Callable = getattr(module, mutant.function)
    original = target.__code__
    target.__code__ = _code_named(code, mutant.function)
    try:
        yield
    finally:
        target.__code__ = original


def killed_by(mutant: Mutant, killers: list[Callable[[], object]]) -> str | None:
    """The name of the first killer that fails under `mutant` (None: the mutant survived)."""
    with applied(mutant):
        for killer in killers:
            try:
                killer()
            except Exception:  # noqa: BLE001 - any failure (assertion, crash, protocol error) kills
                return getattr(killer, "__name__", repr(killer))
    return None
