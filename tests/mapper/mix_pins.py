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
    return {"phase": phase, "context": tokens} if phase == "decode" else {"phase": phase, "seq": tokens}


def capture() -> dict:
    """The pins of every MIX estimate, each mapped from empty caches (no disk cache either)."""
    import os

    import archsim.mapper.cache as C
    import importlib
    from archsim import api
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

    old = os.environ.get("ARCHSIM_NO_CACHE")
    os.environ["ARCHSIM_NO_CACHE"] = "1"
    M.search_space = recording
    out = {}
    try:
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
        if old is None:
            os.environ.pop("ARCHSIM_NO_CACHE", None)
        else:
            os.environ["ARCHSIM_NO_CACHE"] = old
    return out


if __name__ == "__main__":
    print(json.dumps(capture(), indent=1, sort_keys=True))
