"""The code's shape, checked: imports run one way (import-linter's contract in
pyproject.toml, also run by scripts/test) and no module imports another's private name."""

import ast
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("cencomm", "core", "demo", "groups", "messaging", "operations")


def modules():
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            if "migrations" not in path.parts:
                yield path, ast.parse(path.read_text(), filename=str(path))


def test_imports_run_one_way():
    lint = Path(sys.executable).with_name("lint-imports")
    result = subprocess.run(
        [str(lint), "--no-cache"], cwd=ROOT, capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-2000:]
    assert "1 kept, 0 broken" in result.stdout


def test_no_module_imports_another_modules_private_name():
    found = [
        f"{path.relative_to(ROOT)}:{node.lineno} {alias.name}"
        for path, tree in modules()
        for node in ast.walk(tree)
        if isinstance(node, ast.ImportFrom)
        for alias in node.names
        if alias.name.startswith("_") and not alias.name.startswith("__")
    ]
    assert found == []


LONGEST_FUNCTION = 60


def _explained(lines: list[str], node) -> bool:
    """A long function says why in a comment on the line before it (or its decorators)."""
    first = min([node.lineno, *(d.lineno for d in node.decorator_list)])
    return first >= 2 and "long:" in lines[first - 2]


def test_no_function_is_longer_than_sixty_lines_unless_it_says_why():
    long = []
    for path, tree in modules():
        lines = path.read_text().splitlines()
        for node in ast.walk(tree):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                length = node.end_lineno - node.lineno + 1
                if length > LONGEST_FUNCTION and not _explained(lines, node):
                    long.append(f"{path.relative_to(ROOT)}:{node.lineno} {node.name} ({length})")
    assert long == []
