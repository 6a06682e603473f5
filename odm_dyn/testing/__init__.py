"""Contract testing: exchanges held to the spec, a recorder, a report, and the pytest plugin.

    from odm_dyn.testing import validate_exchange
    assert validate_exchange(odm_dyn.TASKS_SPEC, requests_response) == []

Layer: the top, beside ``cli``; may import every package below it (``client``, ``server``,
``wire``, ``api``, ``spec``) and is imported by none of them.
"""

from __future__ import annotations

from .validate import ExchangeViolation, validate_exchange

__all__ = ["ExchangeViolation", "validate_exchange"]
