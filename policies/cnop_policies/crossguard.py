"""The CrossGuard rules, loaded from the pack itself (policies/crossguard/rules.py).

The pack must stay self-contained for Pulumi's policy virtualenv, so the rules
live there; this module gives the repository's code and tests the same rules
under a package name.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

RULES_FILE = Path(__file__).resolve().parents[1] / "crossguard" / "rules.py"
_spec = importlib.util.spec_from_file_location("cnop_crossguard_rules", RULES_FILE)
assert _spec is not None
assert _spec.loader is not None
rules = importlib.util.module_from_spec(_spec)
sys.modules[_spec.name] = rules
_spec.loader.exec_module(rules)
