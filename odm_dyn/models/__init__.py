"""Model classes of the surface's spec, importable as the generated client's are.

``odm_dyn.models.TaskInfo`` and ``from odm_dyn.models.task_info import TaskInfo`` both work,
and with the vendor's spec as the surface's (``odm_dyn.use_spec(path)``,
``Configuration(spec=path)`` or ``$ODM_DYN_SPEC``) ``from odm_dyn.models.study import Study``
too: the modules under this package are made on import from the spec's ``components/schemas``,
named as the generated client names them (``generator_module`` of the class name; the
snake_case of the schema name is found too). Names the chosen spec lacks come from the bundled one.
"""

from __future__ import annotations

import importlib.abc
import importlib.util
import sys
import types
from typing import Any

from ..api.load import surface_apis
from ..api.model import Model
from ..names import SURFACE_MODULE_MARK, generator_module, snake_case


def _models() -> dict[str, type[Model]]:
    found: dict[str, type[Model]] = {}
    for api in reversed(surface_apis()):  # the chosen spec's classes win over the bundled ones
        found.update(api.models)
    return found


def __getattr__(name: str) -> Any:
    models = _models()
    if name in models:
        return models[name]
    for model in models.values():
        if model.__name__ == name:
            return model
    raise AttributeError(f"the spec has no schema {name!r}")


def __dir__() -> list[str]:
    return sorted(_models())


class _ModelModuleFinder(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    """Finds ``odm_dyn.models.<module>`` and makes it from the spec."""

    prefix = __name__ + "."

    def find_spec(self, fullname: str, path: Any = None, target: Any = None) -> Any:
        if not fullname.startswith(self.prefix) or "." in fullname[len(self.prefix) :]:
            return None
        if not self._classes(fullname):
            return None
        return importlib.util.spec_from_loader(fullname, self)

    def create_module(self, spec: Any) -> types.ModuleType:
        module = types.ModuleType(spec.name)
        setattr(module, SURFACE_MODULE_MARK, True)
        for cls in self._classes(spec.name):
            setattr(module, cls.__name__, cls)
        return module

    def exec_module(self, module: types.ModuleType) -> None:
        return None

    def _classes(self, fullname: str) -> list[type[Model]]:
        wanted = fullname[len(self.prefix) :]
        for api in surface_apis():
            found = [
                cls
                for name, cls in api.models.items()
                if generator_module(cls.__name__) == wanted or snake_case(name) == wanted
            ]
            if found:
                return found
        return []


if not any(isinstance(finder, _ModelModuleFinder) for finder in sys.meta_path):
    sys.meta_path.append(_ModelModuleFinder())
