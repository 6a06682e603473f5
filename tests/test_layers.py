"""The layout is the architecture: each package imports only from the packages below it.

errors, names, secrets, types and exit_codes at the bottom; then spec, api, wire; then client
and server side by side (the server never imports the client); cli and testing on top.
"""

from __future__ import annotations

import ast
from pathlib import Path

import odm_dyn

PACKAGE = Path(odm_dyn.__file__).parent
BOTTOM = {"errors", "names", "secrets", "types", "exit_codes"}
BELOW: dict[str, set[str]] = {
    "errors": set(),
    "names": set(),
    "secrets": set(),
    "types": set(),
    "exit_codes": {"errors"},
    "spec": BOTTOM,
    "api": BOTTOM | {"spec"},
    "wire": BOTTOM | {"spec", "api"},
    "client": BOTTOM | {"spec", "api", "wire"},
    "server": BOTTOM | {"spec", "api", "wire"},
    "models": BOTTOM | {"spec", "api"},
    "testing": BOTTOM | {"spec", "api", "wire", "client", "server"},
    "cli": BOTTOM | {"spec", "api", "wire", "client", "server"},
}


# Top-level modules of the public surface (the generated client's module paths among them).
SURFACE = {"__init__", "__main__", "rest", "surface", "exceptions", "api_client", "configuration", "api_response"}


def _layer(path: Path) -> str:
    return path.relative_to(PACKAGE).parts[0].removesuffix(".py")


def _imported_layers(path: Path) -> set[str]:
    """The top-level odm_dyn packages a module imports, at module level or inside functions."""
    own = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    package = own if path.name == "__init__.py" else own[:-1]
    package = package[:-1] if package[-1] == "__init__" else package
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = package[: len(package) - node.level + 1]
                target = base + (node.module.split(".") if node.module else [])
                if len(target) == 1:  # "from .. import x": the names are modules or packages
                    found |= {alias.name for alias in node.names if alias.name in BELOW}
                    continue
            else:
                target = (node.module or "").split(".")
            if target[0] == "odm_dyn" and len(target) > 1:
                found.add(target[1])
        elif isinstance(node, ast.Import):
            for alias in node.names:
                parts = alias.name.split(".")
                if parts[0] == "odm_dyn" and len(parts) > 1:
                    found.add(parts[1])
    return found


def test_every_package_imports_only_from_below() -> None:
    wrong = []
    for path in sorted(PACKAGE.rglob("*.py")):
        layer = _layer(path)
        if layer in SURFACE:
            continue  # the public surface re-exports from every layer
        assert layer in BELOW, f"{path.relative_to(PACKAGE)}: a package the layer table does not know"
        for imported in _imported_layers(path) - {layer}:
            if imported not in BELOW[layer]:
                wrong.append(f"{path.relative_to(PACKAGE)} imports odm_dyn.{imported}")
    assert wrong == []


def test_the_layer_table_is_checked_against_a_real_import() -> None:
    """The checker itself finds an upward import (a test that cannot fail proves nothing)."""
    assert "client" in _imported_layers(PACKAGE / "cli" / "session.py")
    assert "wire" in _imported_layers(PACKAGE / "server" / "app.py")


def test_every_package_docstring_states_its_layer() -> None:
    for package in ("spec", "api", "wire", "client", "server", "testing", "cli"):
        doc = ast.get_docstring(ast.parse((PACKAGE / package / "__init__.py").read_text(encoding="utf-8"))) or ""
        assert "Layer:" in doc, f"odm_dyn/{package}/__init__.py does not say what it may import"
