"""Tensor parallelism (Megatron-style) over identical devices joined by the description's link.

Each of `devices` chips holds 1/devices of every attention block (its query and KV heads) and of
every MLP (its hidden width; an MoE's experts' width), so each runs the same per-device graph: the
model with heads, KV heads, FFN width divided (KV heads are replicated when fewer than devices;
embeddings and the LM head stay whole on every device, a simplification). After each attention
block and each MLP the partial outputs are summed by an all-reduce over the link, on the critical
path, by the faster of a ring and a tree all-reduce (`allreduce_seconds`: per-call latency,
per-step link latency, bytes over the link). The link's bandwidth is taken as a device's total
over both directions (as NVLink is quoted) and its latency per step as the description gives it
(e.g. LLMCompass's 8.92 µs for A100 NVLink, NCCL's 0.47 µs per NVLink hop for Hopper).

`shard_overrides` gives the per-device model; `add_allreduces` turns the per-device `SimResult` into
the parallel one (all-reduces inserted as ops on the link, every device's energy counted).
"""
from __future__ import annotations

from dataclasses import replace
from math import ceil, log2

from .errors import ArchsimError, ModelError
from .result import OpResult, SimResult

__all__ = ["shard_overrides", "allreduce_seconds", "add_allreduces", "NCCL_BASE_LATENCY_S",
           "ALLREDUCE_ALGORITHMS"]


def shard_overrides(cfg, devices: int) -> dict:
    """Model overrides for one device's shard of `cfg` (a workloads ModelConfig)."""
    if cfg.family != "decoder" or cfg.attention != "softmax":
        raise ModelError(f"{cfg.name}: tensor parallelism is modelled for softmax-attention "
                         f"decoders; this model is a {cfg.family} model")
    heads, kv = cfg.heads, cfg.kv_heads_eff
    widths = {"heads": heads, "ffn": cfg.ffn} | ({"expert_ffn": cfg.expert_ffn_eff}
                                                  if cfg.experts else {})
    bad = [f"{k} {v}" for k, v in widths.items() if v % devices]
    if kv >= devices and kv % devices:
        bad.append(f"kv_heads {kv}")
    if bad:
        raise ModelError(f"{cfg.name}: {', '.join(bad)} not divisible by {devices} devices; "
                         "choose a device count that divides the heads and the MLP width")
    out = {k: v // devices for k, v in widths.items()}
    out.update(kv_heads=max(1, kv // devices), head_dim=cfg.head_dim_eff)
    return out


#: NCCL's fixed latency of one all-reduce call per algorithm, low-latency (LL) protocol, the one it
#: picks for small messages: `baseLat` of NVIDIA/nccl src/graph/tuning.cc (commit 01afd20), where
#: the per-hop NVLink latencies are Ring 0.47 µs and Tree 0.52 µs (the Hopper descriptions' link
#: latency). A description's `latency` is the per-step (per-hop) latency.
NCCL_BASE_LATENCY_S = {"ring": 3.6e-6, "tree": 4.4e-6}
ALLREDUCE_ALGORITHMS = ("ring", "tree")


def allreduce_seconds(nbytes: float, devices: int, link, algorithm: str = "auto") -> tuple[float, float]:
    """(seconds, bytes each device sends and receives) of an all-reduce of `nbytes` over `link`
    (an Interconnect; its bandwidth is taken as a device's total, both directions), by algorithm:
    - ring: 2·(devices−1) steps, each device sends and receives 2·(devices−1)/devices·S;
    - tree (NCCL's double binary tree): 2·⌈log2 devices⌉ steps (reduce up, broadcast down), each
      device sends and receives about 2·S;
    each plus NCCL's per-call latency (`NCCL_BASE_LATENCY_S`) and the link's latency per step.
    `auto` takes the faster, as NCCL's tuner does: the tree for small messages over many
    devices, the ring for large ones."""
    if algorithm == "auto":
        return min((allreduce_seconds(nbytes, devices, link, a) for a in ALLREDUCE_ALGORITHMS),
                   key=lambda r: r[0])
    if algorithm not in ALLREDUCE_ALGORITHMS:
        raise ArchsimError(f"unknown all-reduce algorithm {algorithm!r}; choose ring, tree or auto")
    if devices <= 1:
        return 0.0, 0.0
    if algorithm == "ring":
        steps, moved = 2 * (devices - 1), 2.0 * 2.0 * (devices - 1) / devices * nbytes
    else:
        steps, moved = 2 * ceil(log2(devices)), 2.0 * 2.0 * nbytes
    seconds = NCCL_BASE_LATENCY_S[algorithm] + steps * link.latency_s + moved / link.bandwidth_bytes_per_s
    return seconds, moved


def add_allreduces(result: SimResult, devices: int, link, rows: int, hidden: int,
                   act_bytes: int) -> SimResult:
    """The tensor-parallel result from one device's: after the last op of every attention block
    (`.attn.o`) and MLP (`.mlp.fc2`, `.mlp.down`, an MoE block's last op) an all-reduce of
    `rows` × `hidden` activations runs on `link`, and later ops start later. Energy: every
    device's, plus the link's per byte moved."""
    if not result.fits:
        return replace(result, notes=result.notes + (_note(devices, link, 0, 0.0),))
    ends = _block_ends(result.ops)
    seconds, moved = allreduce_seconds(rows * hidden * act_bytes, devices, link)
    link_j = moved * 8 * link.energy_pj_per_bit * 1e-12
    ops, shift = [], 0.0
    cycles = int(round(seconds * result.freq_hz))
    for op in result.ops:
        ops.append(replace(op, start_s=op.start_s + shift))
        if op.name in ends:       # one closed form at both fidelities: its analytic time is its time
            ops.append(OpResult(name=f"{op.name.rsplit('.', 1)[0]}.allreduce", kind="allreduce",
                                unit=link.name, cycles=cycles, latency_s=seconds,
                                start_s=op.start_s + shift + op.latency_s,
                                energy_j=link_j, macs=0, flops=0,
                                bytes_by_level=((link.name, int(moved)),),
                                bound=f"link:{link.name}", layer=op.layer, analytic_cycles=cycles,
                                exclusive_cycles=cycles))         # on the critical path, alone
            shift += seconds
    energy = [(k, v * devices) for k, v in result.energy_breakdown_j]
    energy.append((f"link:{link.name}", link_j * len(ends) * devices))
    return replace(result, ops=tuple(ops), latency_s=result.latency_s + shift,
                   cycles=result.cycles + int(round(shift * result.freq_hz)),
                   energy_breakdown_j=tuple(energy),
                   notes=result.notes + (_note(devices, link, len(ends), shift),),
                   **_gap_with_allreduces(result, shift, cycles * len(ends)))


def _gap_with_allreduces(result: SimResult, shift_s: float, allreduce_cycles: int) -> dict:
    """The device's analytic-vs-cycle gap and its parts once the all-reduces are on the critical
    path: their time is the same closed form at both fidelities, so the gap in seconds is the
    device's, over an analytic time longer by theirs; the parts still add up exactly, the
    all-reduces' rounding to whole cycles (their `analytic_cycles`) going to `other_s`."""
    if result.analytic_vs_cycle_gap is None:
        return {}
    analytic_s = (sum(op.analytic_cycles for op in result.ops) + allreduce_cycles) / result.freq_hz
    latency_s = result.latency_s + shift_s
    out = {"analytic_vs_cycle_gap": (latency_s - analytic_s) / analytic_s if analytic_s else None}
    if result.gap_attribution:
        rounding = shift_s - allreduce_cycles / result.freq_hz
        out["gap_attribution"] = tuple((k, v + rounding if k == "other_s" else v)
                                       for k, v in result.gap_attribution)
    return out


def _block_ends(ops) -> set[str]:
    """Names of the last op of every attention block and MLP (an MoE block: its last op)."""
    ends = {op.name for op in ops if op.name.endswith((".attn.o", ".mlp.fc2", ".mlp.down"))}
    moe: dict[str, str] = {}
    for op in ops:
        if ".moe." in op.name:
            moe[op.name.split(".moe.")[0]] = op.name
    return ends | set(moe.values())


def _note(devices: int, link, count: int, seconds: float) -> str:
    return (f"tensor parallel over {devices} devices: per-device shard (heads, KV heads, MLP width "
            f"÷ {devices}; embeddings and LM head whole on each), {count} all-reduces on "
            f"{link.name} (each the faster of ring and tree; {seconds * 1e3:.3g} ms on the critical "
            f"path, link latency {link.latency_s * 1e6:.3g} µs per step); energy of all devices")
