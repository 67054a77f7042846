"""Every action the code records has a registered name and sentence for the audit page.

The actions are read from the source, not from a list kept by hand: every call of
`sharehub.events.services.record` is found, and its action argument followed to the strings it can be —
a literal, either side of a conditional, a local variable given literals, a parameter of the function
around it (then every call of that function is followed in turn), or a column of a module-level table of
tuples. A call whose action the scan cannot follow fails the test by its place in the code, so a new way of
passing actions cannot slip past it unseen.
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from sharehub.events import describe

SOURCE = Path(__file__).resolve().parents[2] / "sharehub"


@dataclass
class Module:
    path: Path
    tree: ast.Module
    functions: dict[str, ast.FunctionDef] = field(default_factory=dict)
    tables: dict[str, ast.expr] = field(default_factory=dict)  # module-level NAME = {...} / (...) / [...]
    parents: dict[ast.AST, ast.AST] = field(default_factory=dict)

    def where(self, node: ast.AST) -> str:
        shown = self.path.relative_to(SOURCE.parent) if self.path.is_relative_to(SOURCE.parent) else self.path.name
        return f"{shown}:{node.lineno}"


def _load(path: Path) -> Module:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    module = Module(path, tree)
    for node in ast.walk(tree):
        for child in ast.iter_child_nodes(node):
            module.parents[child] = node
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            module.functions.setdefault(node.name, node)
    for node in tree.body:
        if isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name):
            module.tables[node.targets[0].id] = node.value
    return module


def _imports_record(module: Module) -> bool:
    return any(
        isinstance(node, ast.ImportFrom)
        and node.module == "sharehub.events.services"
        and any(alias.name == "record" and alias.asname in (None, "record") for alias in node.names)
        for node in ast.walk(module.tree)
    )


def _enclosing_function(module: Module, node: ast.AST):
    while node in module.parents:
        node = module.parents[node]
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            return node
    return None


def _argument(call: ast.Call, function: ast.FunctionDef, name: str) -> ast.expr | None:
    """The expression a call passes for the parameter `name` of `function` (or its default)."""
    params = [a.arg for a in function.args.posonlyargs + function.args.args]
    for keyword in call.keywords:
        if keyword.arg == name:
            return keyword.value
    if name in params:
        index = params.index(name)
        if index < len(call.args) and not any(isinstance(a, ast.Starred) for a in call.args[: index + 1]):
            return call.args[index]
        defaults = function.args.defaults
        offset = len(params) - len(defaults)
        if index >= offset:
            return defaults[index - offset]
    for kwonly, default in zip(function.args.kwonlyargs, function.args.kw_defaults, strict=True):
        if kwonly.arg == name and default is not None:
            return default
    return None


class Unresolved(Exception):
    pass


def _strings(module: Module, expr: ast.expr, scope, depth: int = 0) -> set[str]:
    """The action names `expr` can be."""
    if depth > 8:
        raise Unresolved(module.where(expr))
    if isinstance(expr, ast.Constant) and isinstance(expr.value, str):
        return {expr.value}
    if isinstance(expr, ast.IfExp):
        return _strings(module, expr.body, scope, depth + 1) | _strings(module, expr.orelse, scope, depth + 1)
    if isinstance(expr, ast.Name) and scope is not None:
        params = {a.arg for a in scope.args.posonlyargs + scope.args.args + scope.args.kwonlyargs}
        if expr.id in params:
            return _from_callers(module, scope, expr.id, depth + 1)
        found = _from_assignments(module, scope, expr.id, depth + 1)
        if found:
            return found
    raise Unresolved(module.where(expr))


def _from_assignments(module: Module, scope, name: str, depth: int) -> set[str]:
    """Literals assigned to a local, directly or by unpacking a row of a module-level table."""
    found: set[str] = set()
    for node in ast.walk(scope):
        if not isinstance(node, ast.Assign):
            continue
        for target in node.targets:
            if isinstance(target, ast.Name) and target.id == name:
                found |= _strings(module, node.value, scope, depth)
            elif isinstance(target, ast.Tuple) and isinstance(node.value, ast.Subscript):
                names = [t.id if isinstance(t, ast.Name) else None for t in target.elts]
                table = node.value.value
                if name in names and isinstance(table, ast.Name) and table.id in module.tables:
                    column = names.index(name)
                    rows = module.tables[table.id]
                    values = rows.values if isinstance(rows, ast.Dict) else getattr(rows, "elts", [])
                    for row in values:
                        if not isinstance(row, ast.Tuple) or column >= len(row.elts):
                            raise Unresolved(module.where(row))
                        found |= _strings(module, row.elts[column], None, depth)
    return found


def _from_callers(module: Module, function, parameter: str, depth: int) -> set[str]:
    """Follow a parameter to every call of its function in the same module."""
    found: set[str] = set()
    calls = [
        node
        for node in ast.walk(module.tree)
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == function.name
    ]
    if not calls:
        raise Unresolved(f"{module.where(function)} ({function.name} is never called in its module)")
    for call in calls:
        passed = _argument(call, function, parameter)
        if passed is None:
            raise Unresolved(module.where(call))
        found |= _strings(module, passed, _enclosing_function(module, call), depth)
    return found


def recorded_actions() -> tuple[dict[str, list[str]], list[str]]:
    """{action: [places]} for every action the code records, and the places the scan could not follow."""
    actions: dict[str, list[str]] = {}
    unresolved: list[str] = []
    for path in sorted(SOURCE.rglob("*.py")):
        if "migrations" in path.parts:
            continue
        module = _load(path)
        if not _imports_record(module):
            continue
        for node in ast.walk(module.tree):
            if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "record"):
                continue
            action = (
                node.args[1]
                if len(node.args) > 1
                else next((k.value for k in node.keywords if k.arg == "action"), None)
            )
            try:
                if action is None:
                    raise Unresolved(module.where(node))
                names = _strings(module, action, _enclosing_function(module, node))
            except Unresolved as error:
                unresolved.append(str(error))
                continue
            for name in names:
                actions.setdefault(name, []).append(module.where(node))
    return actions, unresolved


def test_the_scan_follows_every_record_call():
    actions, unresolved = recorded_actions()
    assert not unresolved, f"record() calls whose action the scan cannot follow: {unresolved}"
    # the scan sees the ways actions are passed today: literals, conditionals, wrappers, a table
    for expected in (
        "resource.created",  # a literal
        "inbound.turned_off",  # one side of a conditional
        "access.requested",  # through the wrapper _log_step
        "resource.archived",  # a column of the _TRANSITIONS table
        "dataset.correction_due",  # through two wrappers (_remind → _deadline_step)
        "dataset.records_changed",  # through _announce
        "dataset.consent_recorded",  # through exchange.consents._event
        "auth.login_failed",
    ):
        assert expected in actions, expected
    assert len(actions) >= 70


def test_every_recorded_action_has_a_name_and_a_sentence():
    actions, _unresolved = recorded_actions()
    missing = {name: places for name, places in sorted(actions.items()) if not describe.is_registered(name)}
    assert not missing, (
        "actions recorded without a name for the audit page (register them in the app's audit.py): "
        + "; ".join(f"{name} at {', '.join(places)}" for name, places in missing.items())
    )


@pytest.mark.parametrize("language", ["en", "zh-hans"])
def test_every_registered_action_has_a_name_and_a_sentence_in_both_languages(language):
    from django.utils import translation

    chinese = re.compile(r"[\u4e00-\u9fff]")
    with translation.override(language):
        for action in describe.registered_actions():
            text = describe._actions[action]
            sentence = str(text.sentence({}) if callable(text.sentence) else text.sentence)
            assert str(text.name).strip() and sentence.strip(), action
            if language == "zh-hans":  # translated, not the English original
                assert chinese.search(str(text.name)) and chinese.search(sentence), action


def test_the_scan_fails_on_a_call_it_cannot_follow(tmp_path):
    """The safety net itself: an action computed in a way the scan does not know is reported, not skipped."""
    source = tmp_path / "mod.py"
    source.write_text(
        "from sharehub.events.services import record\ndef act(actor, kind):\n    record(actor, 'thing.' + kind)\n"
    )
    module = _load(source)
    call = next(n for n in ast.walk(module.tree) if isinstance(n, ast.Call) and getattr(n.func, "id", "") == "record")
    with pytest.raises(Unresolved):
        _strings(module, call.args[1], _enclosing_function(module, call))
