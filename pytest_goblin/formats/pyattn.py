"""The attention a script asks for on the config object it hands its model load: `config._attn_implementation =
"eager"` on a name then passed as `from_pretrained(..., config=config)`. Read with `ast` only; nothing is run.

The assignment sets the config's `_attn_implementation` property (transformers 4.51.3 configuration_utils.py:355-368;
5.25.0 :600-610), and a load given that config keeps it: 4.51.3 modeling_utils.py:4193-4204 copies the config and only
an `attn_implementation=` keyword replaces it, then `_autoset_attn_implementation` takes the config's value as the one
requested (:2060, :2083); 5.25.0 checks `config._attn_implementation` when the model is built (modeling_utils.py:1258-1259).
A keyword of the call itself wins, so the assignment is read only where the call passes none."""

from __future__ import annotations

import ast
from collections.abc import Callable
from typing import Any

from .pyscript import Location, Script

CONFIG_ATTENTION_AT = "transformers 4.51.3 modeling_utils.py:4193-4204,2060,2083; 5.25.0 configuration_utils.py:600-610"

Lit = Callable[[ast.expr], tuple[bool, Any, "Location | None"]]


def config_attention(s: Script, tree: ast.Module, taken: Callable[[ast.AST], bool], lit: Lit) -> None:
    """Set `attn_implementation` from the last `X._attn_implementation = <literal>` before the model call that is
    passed `config=X`, where the call sets none itself and the assignment is not under a branch known not to run."""
    call = s.model_call
    if call is None or "attn_implementation" in s.values:
        return
    given = next((k.value for k in call.keywords if k.arg == "config"), None)
    if not isinstance(given, ast.Name):
        return
    found: tuple[ast.Assign, Any, Location] | None = None
    for node in ast.walk(tree):
        if not (isinstance(node, ast.Assign) and len(node.targets) == 1 and node.lineno < call.lineno):
            continue
        target = node.targets[0]
        if not (isinstance(target, ast.Attribute) and target.attr == "_attn_implementation" and isinstance(target.value, ast.Name)):
            continue
        if target.value.id != given.id or not taken(node):
            continue
        ok, value, loc = lit(node.value)
        if ok and isinstance(value, str) and loc is not None and (found is None or node.lineno > found[0].lineno):
            found = (node, value, loc)
    if found is None:
        return
    node, value, loc = found
    s.values["attn_implementation"] = value
    s.where["attn_implementation"] = loc
    s.notes.append(
        f"attention: `{ast.unparse(node.targets[0])} = {value!r}` (line {node.lineno}) sets the config that from_pretrained(...,"
        f" config={given.id}) loads with at line {call.lineno}; the load keeps it ({CONFIG_ATTENTION_AT})"
    )
