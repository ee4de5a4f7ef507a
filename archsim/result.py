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
#: keys (seconds). The op's gap is its exclusive time (`OpResult.exclusive_cycles`: its share of the
#: makespan along the critical path, `archsim.engine.exclusive`) − its analytic time.
#: Added into it, every run: the closed form's pipeline-fill allowance, min(compute, load) / 8,
#: which the cycle run replaces by its tile stream's real fill (`analytic_fill_s`, negative), and
#: that real fill and drain (`pipeline_fill_s`, measured on the critical path: the op's path ticks
#: while its stream's bottleneck side was idle — the first tile's load before the first compute,
#: the last compute after the last load, the stalls between; `engine.exclusive`; with
#: `attribute_gap` measured on the serialised run without DRAM effects).
#: With `attribute_gap=True` (`engine.attribution`, six or seven more event-loop runs): what
#: overlapping ops, which the analytic form runs back to back, changed the op's exclusive time
#: against a re-run with the ops serialised (`op_overlap_s`); and, on that re-run, the shares of
#: the op's gap of DRAM refresh, read/write turnaround, row activation (bank conflicts, row misses)
#: and access latency (CL, CWL: per dependent access in the cycle run, per stream in the closed
#: form), cumulatively in that order, of the SRAM ports (`sram_port_stall_s`) and of the NoC
#: (`noc_s`): what removing each saves the op's exclusive time minus what it saves its analytic
#: time, the part the closed form misses (negative: over-counts).
#: `other_s`: the rest (the closed forms' error; without `attribute_gap` also the effects it names,
#: above all the op's overlap with its neighbours: an op hidden under another shows −its analytic
#: time there, the op whose path ticks hid it +as much).
#: Shown, not added (symptoms read off the task times): the port stalls of its tasks on the critical
#: path (`port_wait_s`: often a wait for a lane a DRAM-paced load holds, so not the ports' share),
#: the time its compute unit sat idle between the op's own chunks waiting for their loads
#: (`load_wait_s`), and its waits, ready, behind another op's transfer on a NoC link
#: (`noc_stall_s`) or another op's commands on a PIM channel's command bus (`pim_issue_s`): the
#: critical path gives those ticks to the op whose work held the resource, work its analytic time
#: counts too.
GAP_EFFECTS = ("op_overlap_s", "sram_port_stall_s", "port_wait_s", "load_wait_s", "noc_stall_s",
               "pim_issue_s", "noc_s", "dram_refresh_s", "dram_turnaround_s", "dram_row_activation_s",
               "dram_access_latency_s", "pipeline_fill_s", "analytic_fill_s", "other_s")
#: Effects whose seconds add up, with `other_s`, to an op's exclusive − analytic time
ADDITIVE_GAP_EFFECTS = ("op_overlap_s", "sram_port_stall_s", "noc_s", "dram_refresh_s",
                        "dram_turnaround_s", "dram_row_activation_s", "dram_access_latency_s",
                        "pipeline_fill_s", "analytic_fill_s")
#: Run-level parts of the analytic-vs-cycle gap (`SimResult.gap_attribution`, seconds): the per-op
#: effects summed over ops; `op_overlap_s` also holds makespan − Σ op exclusive times, zero for one
#: chip's run (exclusive times split the makespan), kept for results whose ops' times do not split
#: it. These parts add up to cycle − analytic latency exactly.
RUN_GAP_PARTS = ADDITIVE_GAP_EFFECTS + ("other_s",)


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
    # the op's share of the run's cycles: at cycle fidelity its time on the critical path
    # (`engine.exclusive`: the ops' shares sum to the run's cycles where their spans, `cycles`,
    # overlap), at analytic fidelity its cycles; -1: not known (`cycles` stands for it)
    exclusive_cycles: int = -1


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
    dram_model: str = ""                              # "controller" | "burst"; "" if no DRAM task ran
    # cycle fidelity: True when the gap's parts were measured (`attribute_gap`: the ops' overlap,
    # DRAM, port and NoC shares); False: each op's `other_s` also holds its overlap with its
    # neighbours (an op hidden under another shows − its analytic time there)
    attribute_gap: bool = False

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
