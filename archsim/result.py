"""What a simulation returns. Frozen values; `reports` turns them into tables, JSON, CSV and HTML."""
from __future__ import annotations

from dataclasses import dataclass, field

__all__ = ["OpResult", "LevelUse", "Timeline", "PowerUse", "PowerTimeline", "SimResult", "SCHEMA_VERSION",
           "GAP_EFFECTS", "ADDITIVE_GAP_EFFECTS", "RUN_GAP_PARTS", "STATIC_COMPONENTS",
           "ACTIVE_COMPONENTS", "sum_gap_attribution"]

#: Energy components drawn as power × time whether or not the chip computes (idle/static power and
#: leakage, DRAM background); `ACTIVE_COMPONENTS` are drawn while it runs (GPU active floor, MCU
#: run-mode power above static). Everything else is per-action (dynamic) energy.
STATIC_COMPONENTS = ("static", "dram_background")
ACTIVE_COMPONENTS = ("active",)

SCHEMA_VERSION = 1

#: Named effects of the cycle engine that the analytic closed form leaves out, as `OpResult.gap_effects`
#: keys (seconds): the time the op's tasks stalled on on-chip SRAM ports (summed over its tasks); the
#: time its compute unit sat idle between the op's own chunks waiting for their loads (a symptom: it
#: holds DRAM and port waits, so it is shown, not added); the time its NoC transfers waited for a link
#: another op's transfer held (`archsim.engine.noc`); the time its PIM all-bank MAC commands waited
#: for their channel's command bus another op's commands held (`engine.attribution.pim_issue_waits`);
#: the shares of the op's gap of DRAM refresh, read/write turnaround and row activation (bank
#: conflicts, row misses): what removing each saves the op's cycle span minus what it saves its
#: analytic time, the part the closed form misses (negative: over-counts) (`engine.attribution`:
#: counterfactual runs, cumulatively in that order; with `attribute_gap=True` only: three more
#: event-loop runs; with it `sram_port_stall_s` is the ports' share of the gap the same way, one
#: run more); the closed form's pipeline-fill allowance, min(compute, load) / 8, which the cycle
#: run replaces by its tile stream's real fill (`analytic_fill_s`, negative, every run); and
#: `other_s`, the rest of the op's span − its analytic time (queueing behind other ops' transfers,
#: the closed forms' own error).
GAP_EFFECTS = ("sram_port_stall_s", "load_wait_s", "noc_stall_s", "pim_issue_s", "dram_refresh_s",
               "dram_turnaround_s", "dram_row_activation_s", "analytic_fill_s", "other_s")
#: Effects whose seconds add up, with `other_s`, to an op's span − analytic time
ADDITIVE_GAP_EFFECTS = ("sram_port_stall_s", "noc_stall_s", "pim_issue_s", "dram_refresh_s",
                        "dram_turnaround_s", "dram_row_activation_s", "analytic_fill_s")
#: Run-level parts of the analytic-vs-cycle gap (`SimResult.gap_attribution`, seconds): the per-op
#: effects summed over ops, and `op_overlap_s` = makespan − Σ op spans: negative where the cycle run
#: overlaps ops the analytic sum serialises (a PIM op's rows beside the next op's loads), positive
#: where ops wait for each other; these parts add up to cycle − analytic latency exactly.
RUN_GAP_PARTS = ("op_overlap_s",) + ADDITIVE_GAP_EFFECTS + ("other_s",)


@dataclass(frozen=True, slots=True)
class OpResult:
    name: str
    kind: str
    unit: str
    cycles: int
    latency_s: float
    start_s: float
    energy_j: float
    macs: int
    flops: int
    bytes_by_level: tuple[tuple[str, int], ...]   # level → bytes moved in/out of it for this op
    bound: str                                     # "compute" | "memory:<level>" | "latency"
    analytic_cycles: int = 0
    layer: int = -1
    # cycle fidelity: seconds of the analytic-vs-cycle gap by named effect (GAP_EFFECTS); a plain
    # dict other engine parts add their effects to
    gap_effects: dict[str, float] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class LevelUse:
    level: str
    capacity_bytes: int
    peak_buffer_bytes: int
    reads_bytes: int
    writes_bytes: int


@dataclass(frozen=True, slots=True)
class Timeline:
    """Buffer occupancy of one level over time, downsampled: parallel tuples. At cycle fidelity the
    bytes the engine's tasks hold (chunks filled and drained, activations held while ops run);
    `planned_bytes` is the mapper's static reservation for the level (0 = none), drawn beside it.
    `engine` is False for a level only the plan occupies (analytic fidelity, or a level no task
    holds): its timeline is then the planned bytes from start to end."""
    level: str
    time_s: tuple[float, ...]
    occupancy_bytes: tuple[int, ...]
    planned_bytes: int = 0
    engine: bool = True


@dataclass(frozen=True, slots=True)
class PowerUse:
    """Power of one energy component: average over the run, peak over the run's power profile, and
    the component's maximum (its part at full rate: `archsim.energy.power.part_max_w`)."""
    component: str
    avg_w: float
    peak_w: float
    max_w: float


@dataclass(frozen=True, slots=True)
class PowerTimeline:
    """Chip power over time, downsampled keeping each bin's peak: parallel tuples."""
    time_s: tuple[float, ...]
    power_w: tuple[float, ...]


@dataclass(frozen=True, slots=True)
class SimResult:
    model: str
    hw: str
    hw_kind: str
    phase: str
    batch: int
    seq: int
    context: int
    fidelity: str                                     # "cycle" | "analytic"
    cycles: int
    freq_hz: float
    latency_s: float
    energy_breakdown_j: tuple[tuple[str, float], ...]  # component → joules; sums to energy_j
    levels: tuple[LevelUse, ...]
    ops: tuple[OpResult, ...]
    fits: bool = True
    does_not_fit: str = ""                            # the reason, when fits is False
    tokens: int = 1                                   # tokens (decode/prefill) or inferences produced
    analytic_vs_cycle_gap: float | None = None        # (cycle - analytic) / analytic
    dram_row_hit_rate: float | None = None
    utilization: tuple[tuple[str, float], ...] = ()   # resource → busy fraction
    timelines: tuple[Timeline, ...] = ()
    sim_wall_s: float = 0.0
    dtype: str = ""
    notes: tuple[str, ...] = ()
    devices: int = 1                                  # chips the workload runs on (tensor parallel)
    power: tuple[PowerUse, ...] = ()                  # per component, in energy_breakdown_j's order
    power_budget_w: float = 0.0                       # the chip's power limit, else its TDP (0: none given)
    power_timeline: PowerTimeline | None = None
    throttle: float = 1.0                             # latency growth from the power limit (1 = none)
    actions: tuple[tuple[str, float], ...] = ()       # action → count (the Accelergy-style activity)
    # cycle fidelity: the analytic-vs-cycle gap (seconds) by RUN_GAP_PARTS; they add up to it
    gap_attribution: tuple[tuple[str, float], ...] = ()
    dram_model: str = ""                              # cycle fidelity: "burst" | "controller"

    @property
    def energy_j(self) -> float:
        return sum(v for _, v in self.energy_breakdown_j)

    @property
    def throughput_per_s(self) -> float:
        return self.tokens / self.latency_s if self.latency_s > 0 else 0.0

    @property
    def avg_power_w(self) -> float:
        return self.energy_j / self.latency_s if self.latency_s > 0 else 0.0

    @property
    def peak_power_w(self) -> float:
        """Peak of the chip's power profile (the average when no profile was recorded)."""
        if self.power_timeline is not None and self.power_timeline.power_w:
            return max(max(self.power_timeline.power_w), self.avg_power_w)
        return self.avg_power_w

    def energy_share(self) -> dict[str, float]:
        """Fractions of the energy that are static (idle/leakage, DRAM background), active floor and
        dynamic (per action); they sum to 1 (all 0 for a zero-energy result)."""
        total = self.energy_j
        if total <= 0:
            return {"static": 0.0, "active": 0.0, "dynamic": 0.0}
        b: dict[str, float] = {}
        for k, v in self.energy_breakdown_j:          # a system's 'device:component' counts too
            part = k.rsplit(":", 1)[-1] if not k.startswith("link:") else k
            b[part] = b.get(part, 0.0) + v
        st = sum(b.get(c, 0.0) for c in STATIC_COMPONENTS) / total
        ac = sum(b.get(c, 0.0) for c in ACTIVE_COMPONENTS) / total
        return {"static": st, "active": ac, "dynamic": 1.0 - st - ac}


def sum_gap_attribution(parts) -> tuple[tuple[str, float], ...]:
    """The gap parts (`SimResult.gap_attribution`) of runs that follow one another (chunks of a
    prefill), each part summed: they add up to the runs' summed cycle − analytic latency as each
    run's did to its own. Empty if no run has parts (analytic fidelity)."""
    parts = [dict(p) for p in parts if p]
    if not parts:
        return ()
    keys = list(RUN_GAP_PARTS) + [k for p in parts for k in p if k not in RUN_GAP_PARTS]
    return tuple((k, sum(p.get(k, 0.0) for p in parts)) for k in dict.fromkeys(keys))
