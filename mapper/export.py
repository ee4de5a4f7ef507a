"""A Mapping (and its analytic costs) as plain JSON-ready data, deterministic key order."""
from __future__ import annotations

from archsim.mapping import Mapping, OpMapping

from .cost import Cost
from .graph import op_costs, total_cost

__all__ = ["op_mapping_json", "mapping_json", "gemm_op"]


def op_mapping_json(m: OpMapping, cost: Cost | None, kind: str = "") -> dict:
    out = {
        "op": m.op, "kind": kind, "unit": m.unit, "dataflow": m.dataflow,
        "spatial": dict(m.spatial),
        "tiling": [{"level": lt.level, "tile": dict(lt.tile), "loop_order": list(lt.loop_order),
                    "double_buffer": lt.double_buffer} for lt in m.tiling],
        "fused_into": m.fused_into,
    }
    dnf = m.attr("does_not_fit")
    if dnf is not None:
        out["does_not_fit"] = str(dnf)
    pim = m.attr("pim")
    if pim is not None:
        out["pim"] = dict(pim)
    if cost is not None:
        out.update(cost.to_json())
    return out


def mapping_json(mapping: Mapping, kinds: dict[str, str] | None = None) -> dict:
    kinds = kinds or {}
    costs = op_costs(mapping)
    total = total_cost(mapping)
    attrs = dict(mapping.attrs)
    out = {
        "hw": mapping.hw,
        "candidates_evaluated": mapping.candidates_evaluated,
        **total.to_json(),
        "fits": "does_not_fit" not in attrs,
        "does_not_fit": str(attrs["does_not_fit"]) if "does_not_fit" in attrs else None,
        "placement": dict(mapping.placement),
        "peak_buffer_bytes": dict(mapping.peak_buffer_bytes),
        "ops": [op_mapping_json(m, costs.get(m.op), kinds.get(m.op, "")) for m in mapping.ops],
    }
    if "mcu" in attrs:
        out["mcu"] = {k: (list(v) if isinstance(v, tuple) else v) for k, v in attrs["mcu"]}
    return out


def gemm_op(m: int, n: int, k: int, dtype: str = "int8", name: str = "gemm"):
    """A single GEMM Y[m,n] = X[m,k]·W[k,n] as an Op (the SCALE-Sim-style layer study)."""
    from archsim.ir import Op, OpKind, Operand, Role, Tensor, dtype_bits
    bits = dtype_bits(dtype)
    x = Tensor(f"{name}.x", (m, k), bits)
    w = Tensor(f"{name}.w", (k, n), bits, Role.WEIGHT)
    y = Tensor(f"{name}.y", (m, n), max(bits, 8))
    return Op(name, OpKind.MATMUL, (("m", m), ("n", n), ("k", k)),
              (Operand(x, ("m", "k")), Operand(w, ("k", "n")), Operand(y, ("m", "n"), True)),
              macs=m * n * k, flops=2 * m * n * k)
