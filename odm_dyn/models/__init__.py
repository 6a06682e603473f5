"""Model classes of the bundled spec, importable as the generated client's are.

``odm_dyn.models.TaskInfo`` and ``from odm_dyn.models.task_info import TaskInfo`` both work:
the modules under this package are made on import from the spec's ``components/schemas``.
"""

from __future__ import annotations

import importlib.abc
import importlib.util
import sys
import types
from typing import Any

from ..api.model import Model
from ..names import snake_case


def _bundled_models() -> dict[str, type[Model]]:
    from ..api.load import load_api

    return load_api().models


def __getattr__(name: str) -> Any:
    models = _bundled_models()
    if name in models:
        return models[name]
    raise AttributeError(f"the bundled spec has no schema {name!r}")


def __dir__() -> list[str]:
    return sorted(_bundled_models())


class _ModelModuleFinder(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    """Finds ``odm_dyn.models.<snake_case schema name>`` and makes it from the spec."""

    prefix = __name__ + "."

    def find_spec(self, fullname: str, path: Any = None, target: Any = None) -> Any:
        if not fullname.startswith(self.prefix) or "." in fullname[len(self.prefix) :]:
            return None
        if not self._classes(fullname):
            return None
        return importlib.util.spec_from_loader(fullname, self)

    def create_module(self, spec: Any) -> types.ModuleType:
        module = types.ModuleType(spec.name)
        for cls in self._classes(spec.name):
            setattr(module, cls.__name__, cls)
        return module

    def exec_module(self, module: types.ModuleType) -> None:
        return None

    def _classes(self, fullname: str) -> list[type[Model]]:
        wanted = fullname[len(self.prefix) :]
        return [cls for name, cls in _bundled_models().items() if snake_case(name) == wanted]


if not any(isinstance(finder, _ModelModuleFinder) for finder in sys.meta_path):
    sys.meta_path.append(_ModelModuleFinder())
