"""Every mapping search of the cold estimate mix (`benchmarks/simulate.py`'s MIX), serialised:
per estimate, each (op, unit) search's strategy outcome (best genome, evaluations, best key) and
each op's chosen mapping, plus the estimate's latency and energy. A faster search bookkeeping must
reproduce this file exactly (`tests/mapper/test_mix_pins.py`).

    PYTHONPATH=. python tests/mapper/mix_pins.py > tests/mapper/data/mix_pins.json   # re-record
"""
from __future__ import annotations

import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PINS_PATH = ROOT / "tests" / "mapper" / "data" / "mix_pins.json"


def _kw(phase, tokens):
    if tokens is None:
        return {"phase": phase}
    return {"phase": phase, "context" if phase == "decode" else "seq": tokens}


def capture() -> dict:
    """The pins of every MIX estimate, each mapped from empty caches (no disk cache either)."""
    import archsim.mapper.cache as C
    import importlib
    from archsim import api
    from archsim.mapper.persistent_cache import bypassed
    sys.path.insert(0, str(ROOT))
    from benchmarks.simulate import MIX
    M = importlib.import_module("archsim.mapper.map_op")   # the module, not the function

    searches: list = []
    original = M.search_space

    def recording(space, strategy="auto", *a, **kw):
        res, arrays = original(space, strategy, *a, **kw)
        searches.append({"op": space.op.name, "unit": space.unit.name, "size": space.size,
                         "strategy": strategy, "genome": list(res.best_genome or ()),
                         "evaluated": res.evaluated, "key": [repr(x) for x in res.best_key]})
        return res, arrays

    M.search_space = recording
    out = {}
    try:
        with bypassed():
            for model, chip, phase, tokens in MIX:
                C.cache_clear()
                searches.clear()
                r = api.simulate(model, chip, **_kw(phase, tokens))
                out[" ".join(str(x) for x in (model, chip, phase, tokens) if x is not None)] = {
                    "latency_s": repr(r.latency_s), "energy_j": repr(r.energy_j),
                    "searches": list(searches),
                    "ops": [[o.name, o.unit, o.cycles] for o in r.ops]}
    finally:
        M.search_space = original
        C.cache_clear()
    return out


def dumps(pins: dict) -> str:
    """The pins as JSON, one search (or op list) per line: a re-recording diffs line by line."""
    lines = ["{"]
    for e, (estimate, pin) in enumerate(sorted(pins.items())):
        lines.append(f" {json.dumps(estimate)}: {{")
        lines.append(f'  "energy_j": {json.dumps(pin["energy_j"])},')
        lines.append(f'  "latency_s": {json.dumps(pin["latency_s"])},')
        lines.append(f'  "ops": {json.dumps(pin["ops"])},')
        lines.append('  "searches": [')
        n = len(pin["searches"])
        lines += [f"   {json.dumps(s, sort_keys=True)}{',' if i < n - 1 else ''}"
                  for i, s in enumerate(pin["searches"])]
        lines.append("  ]")
        lines.append(" }" + ("," if e < len(pins) - 1 else ""))
    lines.append("}")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    print(dumps(capture()), end="")
