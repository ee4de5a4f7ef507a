"""Step times from the simulator: a serving step's latency and energy by its shape, cached and
interpolated on a grid.

A step is what an inference engine runs in one iteration: a prefill of `tokens` new prompt tokens
after `past` cached ones, a decode of `batch` sequences at a mean `context`, or a mix of both
(Sarathi-Serve's hybrid batch). Every grid point is one `archsim.api.simulate` run of that shape on
the chip (or the tensor-parallel group); nothing here models hardware. Between grid points the
values are interpolated piecewise-linearly (decode: over context within a batch row, then over
batch; prefill: over tokens within a past row, then over past) and extrapolated linearly past the
last two points. The table keeps a few off-grid points simulated directly, so its interpolation
error is measured, not assumed (`StepTable.interpolation_error`).

Shapes the simulator has no single graph for are composed from ones it has (approximations, said
where they are used):
- a prefill iteration over several prompts is costed as one sequence of all their tokens after
  their mean past: exact for one prompt, an upper estimate of attention for several; beyond the
  model's positions (GPT-2: 1,024) the grid stops and longer steps are extrapolated linearly;
- a hybrid step (a prefill chunk of P tokens with D decodes) is the prefill of P + D tokens (the
  weights are read once for every token in the step) plus the decodes' attention over their caches,
  decode(D, context) − decode(D, the grid's smallest context).

Grid points are cached on disk (`cache_dir`, default `$ARCHSIM_CACHE_DIR/serve` or
`~/.cache/archsim/serve`) under a digest of the model, the chip, the device count, the dtype and the
simulator's code (`archsim.cosearch.fingerprint`), so a changed simulator never reuses old times.
"""
from __future__ import annotations

import hashlib
import json
import os
import statistics
from bisect import bisect_left
from dataclasses import dataclass, field, replace
from pathlib import Path

__all__ = ["StepTable", "StepPoint", "build_step_table", "ladder", "default_cache_dir"]

SMALLEST_CONTEXT = 16          # the decode grid's first context and the prefill grid's first size


@dataclass(frozen=True, slots=True)
class StepPoint:
    kind: str                  # "prefill" (a = tokens, b = past) | "decode" (a = batch, b = context)
    a: int
    b: int
    latency_s: float
    energy_j: float


@dataclass(frozen=True, slots=True)
class StepTable:
    """Simulated step times of one model on one chip or tensor-parallel group, and what the KV
    cache may hold there."""
    model: str
    hw: str
    devices: int
    dtype: str
    weight_bytes: int                  # per device
    kv_bytes_per_token: int            # per device (a shard of the heads when devices > 1)
    memory_bytes: int                  # per device: the level that holds weights and KV cache
    kv_capacity_tokens: int            # (memory − weights) // KV bytes per token
    link_bytes_per_s: float            # the devices' link (0: none); prefill→decode KV transfer
    link_latency_s: float
    points: tuple[StepPoint, ...]      # the grid, as simulated
    checks: tuple[tuple[StepPoint, float], ...] = ()   # off-grid points: (direct, interpolated s)
    _rows: dict = field(default=None, compare=False, repr=False)

    def __post_init__(self):
        rows: dict = {"prefill": {}, "decode": {}}
        for p in self.points:
            rows[p.kind].setdefault(p.b if p.kind == "prefill" else p.a, []).append(p)
        shaped = {}
        for kind, by_row in rows.items():
            keys = sorted(by_row)
            shaped[kind] = (keys, [_row(sorted(by_row[k], key=lambda p: p.b if kind == "decode" else p.a),
                                        kind) for k in keys])
        object.__setattr__(self, "_rows", {"shaped": shaped, "memo": {}})

    # -- the three step shapes -------------------------------------------------------------
    def prefill(self, tokens: int, past: int = 0) -> tuple[float, float]:
        """(seconds, joules) of a prefill of `tokens` new tokens after `past` cached ones."""
        return self._lookup("prefill", past, tokens)

    def decode(self, batch: int, context: float) -> tuple[float, float]:
        """(seconds, joules) of one decode step of `batch` sequences at mean `context`."""
        return self._lookup("decode", batch, context)

    def hybrid(self, prefill_tokens: int, past: int, batch: int, context: float) -> tuple[float, float]:
        """A Sarathi-Serve step: a prefill chunk and `batch` decodes together (see the module)."""
        if not batch:
            return self.prefill(prefill_tokens, past)
        if not prefill_tokens:
            return self.decode(batch, context)
        s, j = self.prefill(prefill_tokens + batch, past)
        ds, dj = self.decode(batch, context)
        fs, fj = self.decode(batch, SMALLEST_CONTEXT)
        return s + max(0.0, ds - fs), j + max(0.0, dj - fj)

    def _lookup(self, kind: str, row_key: float, x: float) -> tuple[float, float]:
        key = (kind, int(row_key), int(round(x)))
        memo = self._rows["memo"]
        hit = memo.get(key)
        if hit is None:
            keys, rows = self._rows["shaped"][kind]
            if not keys:
                from ..api import ArgumentError
                raise ArgumentError(f"{self.model} on {self.hw}: no {kind} step fits, so none can "
                                    "be timed")
            hit = memo[key] = _interp2(keys, rows, key[1], key[2])
        return hit

    # -- reporting -------------------------------------------------------------------------
    def interpolation_error(self) -> dict:
        """Relative latency error of interpolation against direct simulation at the off-grid
        checks: {'points', 'median', 'max'} (fractions), overall and for 'decode' and 'prefill'."""
        def summary(kinds):
            errors = [abs(interp - p.latency_s) / p.latency_s for p, interp in self.checks
                      if p.latency_s > 0 and p.kind in kinds]
            if not errors:
                return {"points": 0, "median": None, "max": None}
            return {"points": len(errors), "median": statistics.median(errors), "max": max(errors)}
        return {**summary(("decode", "prefill")), "decode": summary(("decode",)),
                "prefill": summary(("prefill",))}

    def as_dict(self) -> dict:
        return {"model": self.model, "hw": self.hw, "devices": self.devices, "dtype": self.dtype,
                "weight_bytes": self.weight_bytes, "kv_bytes_per_token": self.kv_bytes_per_token,
                "memory_bytes": self.memory_bytes, "kv_capacity_tokens": self.kv_capacity_tokens,
                "grid_points": len(self.points), "interpolation_error": self.interpolation_error()}


def _row(points: list[StepPoint], kind: str):
    xs = [p.b if kind == "decode" else p.a for p in points]
    return xs, [p.latency_s for p in points], [p.energy_j for p in points]


def _interp1(xs, ys, x: float) -> float:
    if len(xs) == 1:
        return ys[0]
    i = min(max(bisect_left(xs, x), 1), len(xs) - 1)
    x0, x1 = xs[i - 1], xs[i]
    return ys[i - 1] + (ys[i] - ys[i - 1]) * (x - x0) / (x1 - x0)


def _interp2(keys, rows, key: float, x: float) -> tuple[float, float]:
    def at(i):
        xs, s, j = rows[i]
        return _interp1(xs, s, x), _interp1(xs, j, x)
    if len(keys) == 1:
        s, j = at(0)
    else:
        i = min(max(bisect_left(keys, key), 1), len(keys) - 1)
        (s0, j0), (s1, j1) = at(i - 1), at(i)
        w = (key - keys[i - 1]) / (keys[i] - keys[i - 1])
        s, j = s0 + (s1 - s0) * w, j0 + (j1 - j0) * w
    # linear extrapolation may dip below the smallest simulated step; never below zero
    return max(s, 0.0), max(j, 0.0)


def ladder(low: int, high: int, factor: int = 4) -> tuple[int, ...]:
    """low, low·factor, … below high, then high: the grid along one axis."""
    out, v = [], low
    while v < high:
        out.append(v)
        v *= factor
    out.append(high)
    return tuple(sorted(set(out)))


def default_cache_dir() -> Path:
    base = os.environ.get("ARCHSIM_CACHE_DIR")
    return (Path(base) if base else Path.home() / ".cache" / "archsim") / "serve"


def _digest(model, hardware, devices: int, dtype) -> str:
    from ..cosearch.fingerprint import simulator_fingerprint
    h = hashlib.sha256()
    h.update(simulator_fingerprint().encode())
    h.update(repr(replace(hardware, file="")).encode())
    h.update(f"\0{devices}\0{dtype}\0{model}".encode())
    if isinstance(model, (str, os.PathLike)) and Path(model).is_file():
        h.update(Path(model).read_bytes())
    return h.hexdigest()[:16]


def _kv_level(hardware):
    """The memory level the KV cache lives in: the largest level allowed to hold it."""
    allowed = [lv for lv in hardware.levels if not lv.holds or "kv_cache" in lv.holds]
    return max(allowed or hardware.levels, key=lambda lv: lv.size_bytes)


def build_step_table(model, hw, *, devices: int = 1, dtype=None, max_batch: int = 64,
                     max_prefill_tokens: int = 2048, max_context: int = 4096, checks: int = 4,
                     cache_dir=None, progress=None) -> StepTable:
    """Simulate the grid of step shapes a serving run needs (decode batches up to `max_batch` at
    contexts up to `max_context`, prefills of up to `max_prefill_tokens` after up to
    `max_context` cached tokens), plus `checks` off-grid points for the interpolation error.
    Points come from the disk cache when the same simulator has run them before."""
    from .. import api
    hardware = api.arguments.resolve_hardware(hw)
    devices = api.arguments.check_devices(devices, hardware)
    if dtype is None:                  # the chip's own default, as `simulate` uses for every step
        dtype = hardware.default_dtype or None
    name = str(model)
    weight_bytes, kv_per_token, positions = api.kv_footprint(model, dtype=dtype, devices=devices)
    level = _kv_level(hardware)
    capacity = max(0, (level.size_bytes - weight_bytes) // max(kv_per_token, 1))
    cache_path = Path(cache_dir) if cache_dir else default_cache_dir()
    digest = _digest(model, hardware, devices, dtype)
    cache_file = cache_path / f"{Path(name).stem}-{hardware.name}-{digest}.json"
    try:
        cache = json.loads(cache_file.read_text()) if cache_file.exists() else {}
    except (OSError, ValueError):
        cache = {}
    todo_before = len(cache)

    def point(kind: str, a: int, b: int) -> StepPoint | None:
        key = f"{kind}:{a}:{b}"
        if key not in cache:
            if progress is not None:
                progress(kind, a, b)
            if kind == "prefill":
                r = api.simulate(model, hardware, phase="prefill", seq=a, past=b, dtype=dtype,
                                 devices=devices)
            else:
                r = api.simulate(model, hardware, phase="decode", batch=a, context=b, dtype=dtype,
                                 devices=devices)
            cache[key] = [bool(r.fits), r.latency_s, r.energy_j]
        fits, s, j = cache[key]
        return StepPoint(kind, a, b, s, j) if fits else None

    max_context = max(max_context, SMALLEST_CONTEXT * 2)
    if positions:                  # longer shapes are extrapolated from the last two points
        max_context = min(max_context, positions)
        max_prefill_tokens = min(max_prefill_tokens, positions)
    points = []
    for batch in ladder(1, max(1, max_batch)):
        top = min(max_context, capacity // batch)
        if top < SMALLEST_CONTEXT:
            break
        for context in sorted({SMALLEST_CONTEXT, top}):    # a decode is linear in context
            p = point("decode", batch, context)
            if p is not None:
                points.append(p)
    for past in sorted({0, min(max_context, capacity) // 2}):
        limit = positions or max_context + max_prefill_tokens
        most = min(max_prefill_tokens, capacity - past, limit - past)
        # factor 2: a prefill turns from memory- to compute-bound between 256 and 1,024 tokens
        # on a GPU, and factor-4 cells missed that bend by up to 14%
        for tokens in ladder(SMALLEST_CONTEXT, max(SMALLEST_CONTEXT, most), factor=2):
            p = point("prefill", tokens, past)
            if p is not None:
                points.append(p)
    table = StepTable(model=name, hw=hardware.name, devices=devices,
                      dtype=str(dtype or ""), weight_bytes=int(weight_bytes),
                      kv_bytes_per_token=int(kv_per_token), memory_bytes=int(level.size_bytes),
                      kv_capacity_tokens=int(capacity),
                      link_bytes_per_s=hardware.interconnect[0].bandwidth_bytes_per_s
                      if hardware.interconnect else 0.0,
                      link_latency_s=hardware.interconnect[0].latency_s if hardware.interconnect else 0.0,
                      points=tuple(points))
    found = []
    for kind, a, b in _off_grid(table, checks):
        direct = point(kind, a, b)
        if direct is not None:
            found.append((direct, table._lookup(kind, b if kind == "prefill" else a,
                                                 a if kind == "prefill" else b)[0]))
    if len(cache) != todo_before:
        try:
            cache_path.mkdir(parents=True, exist_ok=True)
            tmp = cache_file.with_suffix(f".{os.getpid()}.tmp")
            tmp.write_text(json.dumps(cache, sort_keys=True))
            tmp.replace(cache_file)
        except OSError:
            pass                       # an unwritable cache only costs time next run
    return replace(table, checks=tuple(found))


def _off_grid(table: StepTable, count: int) -> list[tuple[str, int, int]]:
    """Shapes between grid points (the midpoints of grid cells), alternating decode and prefill."""
    cells = {"decode": [], "prefill": []}
    for kind in cells:
        keys, rows = table._rows["shaped"][kind]
        for i in range(len(keys) - 1):
            xs = [x for x in rows[i][0] if x in set(rows[i + 1][0])] or rows[i][0]
            for k in range(len(xs) - 1):
                mid_key = int(round((keys[i] * keys[i + 1]) ** 0.5)) if keys[i] else keys[i + 1] // 2
                cells[kind].append((mid_key, (xs[k] + xs[k + 1]) // 2))
    out = []
    for i in range(max(len(v) for v in cells.values()) if any(cells.values()) else 0):
        for kind in ("decode", "prefill"):
            if i < len(cells[kind]):
                key, x = cells[kind][i]
                out.append((kind, x, key) if kind == "prefill" else (kind, key, x))
    return out[:count]
