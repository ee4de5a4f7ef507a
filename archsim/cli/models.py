"""`archsim models`: the model zoo with family, parameter counts and phases."""
from __future__ import annotations

import argparse
import json


def add_parser(sub) -> argparse.ArgumentParser:
    p = sub.add_parser("models", help="list the model zoo (family, params, phases)",
                       description="List every zoo model. Any model may also be given as a path to a "
                                   "Hugging Face config.json or an .onnx file.")
    p.add_argument("--json", action="store_true", help="print JSON instead of a table")
    return p


def run(args) -> int:
    from archsim.workloads import list_models
    rows = list_models()
    if args.json:
        print(json.dumps([{"name": r.name, "family": r.family, "params": r.params,
                           "active_params": r.active_params, "phases": list(r.phases)} for r in rows],
                         indent=2, sort_keys=True))
        return 0
    table = [("name", "family", "params", "active", "phases")]
    table += [(r.name, r.family, _human(r.params), _human(r.active_params), ",".join(r.phases)) for r in rows]
    widths = [max(len(row[c]) for row in table) for c in range(5)]
    for row in table:
        print("  ".join(cell.rjust(w) if c in (2, 3) else cell.ljust(w)
                        for c, (cell, w) in enumerate(zip(row, widths))).rstrip())
    print("\nmcuformer takes a point of its search space, e.g. "
          "mcuformer:embed=192,depth=12,heads=3,mlp=3.5,rank=0.6,patch=20")
    return 0


def _human(n: int) -> str:
    for unit, scale in (("B", 1e9), ("M", 1e6), ("K", 1e3)):
        if n >= scale:
            return f"{n / scale:.2f}{unit}"
    return str(n)
