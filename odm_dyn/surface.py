"""The generated client's module paths for the classes of the surface's spec.

``import odm_dyn.api.study_spo_tas_curator_api`` and ``from odm_dyn.models.study import
Study`` work as with the vendor's generated client: the modules are made on import from the
spec the surface names (``odm_dyn.use_spec()``, ``Configuration(spec=...)`` or
``$ODM_DYN_SPEC``, else the bundled one). The finder sits at the end of ``sys.meta_path``, so
the real modules of ``odm_dyn.api`` (the compiled-spec package) always win, and it answers only
names ending in ``_api``. Importing this module is cheap: the spec loads on the first such import.
"""

from __future__ import annotations

import importlib.util
import sys
import types
from typing import Any, cast

from .names import SURFACE_MODULE_MARK

PREFIX = "odm_dyn.api."


class TagModuleFinder:
    """Finds ``odm_dyn.api.<tag>_api`` and makes it from the surface's spec.

    A meta path finder and loader by its methods (the import system calls them by name), not by
    ``importlib.abc``'s base classes: that module imports ``importlib.resources`` and with it
    ``tempfile``, ``shutil``, ``zipfile``... on every ``import odm_dyn``, for nothing.
    """

    def find_spec(self, fullname: str, path: Any = None, target: Any = None) -> Any:
        module = fullname[len(PREFIX) :]
        if not fullname.startswith(PREFIX) or "." in module or not module.endswith("_api"):
            return None
        if not _classes(module):
            return None
        return importlib.util.spec_from_loader(fullname, cast(Any, self))  # a loader by its methods

    def create_module(self, spec: Any) -> types.ModuleType:
        module = types.ModuleType(spec.name, f"The generated client's {spec.name} module, made from the spec.")
        setattr(module, SURFACE_MODULE_MARK, True)
        for name, cls in _classes(spec.name[len(PREFIX) :]).items():
            setattr(module, name, cls)
        return module

    def exec_module(self, module: types.ModuleType) -> None:
        return None


def _classes(module: str) -> dict[str, type]:
    from .client.compat import surface_api_module  # loads the client only when asked

    return surface_api_module(module)


def install() -> None:
    if not any(isinstance(finder, TagModuleFinder) for finder in sys.meta_path):
        sys.meta_path.append(TagModuleFinder())
