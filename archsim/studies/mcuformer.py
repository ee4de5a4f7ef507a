"""MCUFormer (Liang et al., NeurIPS 2023, arXiv 2310.16898): does a DeiT-tiny-like ViT fit the SRAM
and flash of STM32F746 / F427 / H743, with and without each of MCUFormer's memory techniques
(operator integration, patch-embedding decomposition, token overwriting)?

archsim's numbers come from the mapper's MCU pass (`mapper.mcu_report`: the techniques as buffer
transformations of the zoo graph, then the TFLite-Micro greedy arena planner; flash = weight bytes):
rows of basis `mapper`, carrying the reports — the question is memory fit, which the planner
answers; `archsim.simulate` has no switch for the techniques.
Beside them, this module's own closed-form estimate is reported as an independent cross-check: a
liveness walk over one encoder layer's stages (plus patch embedding), int8 activations,
layer-by-layer execution, where each technique changes what must be live at once:
- none: the whole image and the patch tokens live together; QKV, all heads' N×N scores and the
  residual live together; the MLP's N×rD hidden tensor lives with its input and output;
- operator integration: QKᵀ → softmax → AV fused per head, so one head's N×N scores at a time;
- patch-embedding decomposition: the patch-embedding conv consumes the image one patch row at a
  time (p × W × 3 live instead of H × W × 3);
- token overwriting: token-wise ops (linear, GELU, norm) write each token's output over its input, so
  the MLP hidden is one token's rD and linear outputs reuse their input buffer.
Chip capacities come from the hardware configs (on-chip SRAM levels, the flash level).
"""
from __future__ import annotations

from dataclasses import dataclass

from . import pipeline
from .study import arithmetic, finish, info, match, measured

__all__ = ["TITLE", "SOURCE", "ASSUMPTIONS", "VitShape", "TECHNIQUES", "peak_sram_bytes", "run"]

TITLE = "MCUFormer: DeiT-tiny-like ViTs on STM32 microcontrollers, with and without memory techniques"
SOURCE = ("Liang et al., MCUFormer, NeurIPS 2023 (arXiv 2310.16898): abstract (73.62% with 320 KB "
          "on STM32F746); search space from liangyn22/MCUFormer supernet-T*.yaml")
BOARDS = ("stm32f746", "stm32f427", "stm32h743")
#: the F746 as people run it: the DISCO board's 16 MB QSPI flash and 8 MB SDRAM are memory levels the
#: mapper places weights (and, when the SRAM cannot hold them, activations) in
BOARD = "stm32f746-disco"
TECHNIQUES = ("operator integration", "patch-embedding decomposition", "token overwriting")


@dataclass(frozen=True, slots=True)
class VitShape:
    name: str
    image: int = 240
    patch: int = 16
    dim: int = 192
    depth: int = 12
    heads: int = 3
    mlp_ratio: float = 4.0
    rank_ratio: float = 1.0          # low-rank factorisation of the linear layers (1 = full rank)
    classes: int = 1000

    @property
    def tokens(self) -> int:
        return (self.image // self.patch) ** 2 + 1


INT8 = (("weights", "int8"), ("activations", "int8"), ("kv", "int8"))

#: Chosen a priori (the searched architectures are not public): DeiT-tiny at MCUFormer's 240 crop,
#: and the search space's smallest point (embed 168, depth 12, 3 heads, MLP 3.5, rank 0.4, patch 32),
#: each as (zoo spec, the same shape for the liveness walk).
SHAPES = (
    ("mcuformer:embed=192,depth=12,heads=3,mlp=4,rank=1,patch=16",
     VitShape("DeiT-tiny @240, patch 16")),
    ("mcuformer:embed=168,depth=12,heads=3,mlp=3.5,rank=0.4,patch=32",
     VitShape("MCUFormer space, smallest point", patch=32, dim=168, mlp_ratio=3.5,
              rank_ratio=0.4)),
)

ASSUMPTIONS = (
    "The searched per-board architectures are not public [NF]; two DeiT-tiny-like points are used "
    "for every board: DeiT-tiny at 240×240 with 16×16 patches, and the search space's smallest "
    "point (embed 168, 12 layers, 3 heads, MLP 3.5, rank ratio 0.4, 32×32 patches).",
    "Flash = int8 weight bytes of the zoo graph (workloads `mcuformer:` specs, heads 64 wide as in "
    "AutoFormer). int8 weights and activations; peak SRAM counts activations only (code, stack and runtime "
    "buffers are not modelled); a board's SRAM regions are separate pools (contiguous address "
    "ranges from its memory map: one 320 KB region on the F746, SRAM 192 KB + CCM 64 KB on the F427, "
    "AXI SRAM 512 KB + DTCM 128 KB on the H743), each with its own arena; no buffer straddles two.",
    "Technique semantics as implemented by mapper/passes/mcu.py (and, for the cross-check, this "
    "module's docstring): readings of the paper's abstract, its engine code was never released.",
    "Only the abstract's claim is checked (a DeiT-tiny-class model fits 320 KB on STM32F746 with "
    "all techniques); the paper searched a different model per board, so the F427 and H743 rows "
    "and the no-technique rows are reported, not checked.",
    "Latency and energy per image on stm32f746-disco come from `simulate` (analytic fidelity; "
    "mapper with all three techniques): weights fill the internal flash first and the rest run in "
    "place from the QSPI flash (54 MB/s, the core stalls on it), activations in the SRAM arena; "
    "energy includes the MCU's run-mode power (ST's typical run current per MHz × clock, "
    "stm32f746.yaml) and the SDRAM's background power (the board powers it).",
)


def peak_sram_bytes(s: VitShape, techniques=()) -> int:
    """Peak live activation bytes (int8) over patch embedding, attention and MLP stages."""
    t = set(techniques)
    unknown = t - set(TECHNIQUES)
    if unknown:
        raise ValueError(f"unknown technique(s) {sorted(unknown)}; choose from {TECHNIQUES}")
    n, d, h = s.tokens, s.dim, s.heads
    hidden = int(s.mlp_ratio * d)
    image = s.image * s.image * 3
    image_live = s.patch * s.image * 3 if "patch-embedding decomposition" in t else image
    patch_embed = image_live + n * d
    scores = (1 if "operator integration" in t else h) * n * n
    overwrite = "token overwriting" in t
    # x (residual) + QKV + scores, then + the attention output (written over Q when overwriting)
    attention = n * d + 3 * n * d + scores + (0 if overwrite else n * d)
    # x (residual) + normed input + hidden + output (token-wise in place when overwriting)
    mlp = n * d + n * d + (hidden if overwrite else n * hidden + n * d)
    return max(patch_embed, attention, mlp)


#: this module's technique names → the mapper's (mapper.passes.mcu)
MAPPER_NAMES = {"operator integration": "operator_integration",
                "patch-embedding decomposition": "patch_decomposition",
                "token overwriting": "token_overwriting"}


def _variants():
    yield "none", ()
    for tech in TECHNIQUES:
        yield f"+{tech}", (tech,)
    yield "all three", TECHNIQUES


def _sram_fits(report) -> bool:
    return report.sram_fits


def _fit_text(report) -> str:
    return "fits" if report.sram_fits else "does not fit"


def _fits_text(result) -> str:
    return "fits" if result.fits else "does not fit"


def run():
    mcu_report = pipeline.need("archsim.mapper", "mcu_report")
    rows, flash_short, spread = [], [], []
    for spec, shape in SHAPES:
        g = pipeline.graph(spec, phase="encode", dtypes=INT8)
        for board in BOARDS:
            hw = pipeline.hardware(board)
            for label, techs in _variants():
                rep = mcu_report(g, hw, tuple(MAPPER_NAMES[t] for t in techs))
                closed = peak_sram_bytes(shape, techs)
                spread.append(closed / rep.peak_sram_bytes)
                metric = f"{shape.name} on {board}, {label}: SRAM fit"
                pools = "" if len(rep.pools) < 2 else " (" + ", ".join(
                    f"{name} {peak / 1024:.0f}/{cap / 1024:.0f}" for name, cap, peak in rep.pools) + ")"
                note = (f"planner peak {rep.peak_sram_bytes / 1024:.0f} KiB of "
                        f"{rep.sram_bytes / 1024:.0f} KiB{pools}; closed form {closed / 1024:.0f} KiB")
                if board == "stm32f746" and techs == TECHNIQUES and shape is SHAPES[0][1]:
                    rows.append(match(metric, True, measured(_sram_fits, rep, basis="mapper"),
                                      note=note + "; abstract: fits 320 KB"))
                else:
                    rows.append(info(metric, measured(_fit_text, rep, basis="mapper"), note=note))
            if not rep.flash_fits:
                flash_short.append(f"{shape.name} on {board}")
            rows.append(info(f"{shape.name} on {board}: flash",
                             measured(lambda r: r.flash_bytes / 1024, rep, basis="mapper"), unit="KiB",
                             note=f"{'fits' if rep.flash_fits else 'does not fit'} "
                                  f"{rep.flash_capacity_bytes / 1024:.0f} KiB flash"))
    rows += _board_rows()
    rows.append(info("closed-form peak ÷ planner peak, range over all rows",
                     arithmetic(f"{min(spread):.2f}–{max(spread):.2f}",
                                "an independent liveness estimate written in this study, held "
                                "against the mapper's planner as a cross-check"),
                     note="independent liveness estimate vs mapper's TFLite-Micro greedy arena"))
    gaps = []
    if flash_short:
        gaps.append("int8 weights exceed flash for " + "; ".join(flash_short) + ". The paper "
                    "states SRAM only (320 KB); its searched models' parameter counts are not "
                    "public, so flash fit is reported, not checked, and nothing is fitted to it.")
    gaps.append(f"Latency and energy per image on {BOARD} are reported, not checked: the paper's "
                "abstract gives accuracy and memory only, and its per-board latency was not found "
                "(hardware-facts §2.1 [NF]); nothing is fitted to them.")
    return finish("mcuformer", TITLE, SOURCE, rows, ASSUMPTIONS, gaps)


def _board_rows():
    """Latency and energy per image of each shape on the DISCO board, from simulate results."""
    out = []
    hw = pipeline.hardware(BOARD)
    for spec, shape in SHAPES:
        r = pipeline.simulate_model(spec, hw, phase="encode", dtypes=INT8)
        name = f"{shape.name} on {BOARD}"
        use = {lv.level: lv for lv in r.levels}
        where = ", ".join(f"{n} {use[n].reads_bytes / 1024:.0f} KiB" for n in ("flash", "qspi_flash", "sdram")
                          if use[n].reads_bytes)
        out.append(info(f"{name}: whole model fits (weights, arena)", measured(_fits_text, r),
                        note=r.does_not_fit or f"off-chip reads per image: {where}"))
        if not r.fits:
            continue
        energy = dict(r.energy_breakdown_j)
        top = sorted(energy.items(), key=lambda kv: -kv[1])[:3]
        total = sum(energy.values())
        out.append(info(f"{name}: latency per image", measured(lambda x: x.latency_s * 1e3, r), unit="ms",
                        note=f"{r.cycles:,} cycles at {hw.freq_hz / 1e6:g} MHz; QSPI stall "
                             f"{use['qspi_flash'].reads_bytes / hw.level('qspi_flash').bandwidth_bytes_per_s * 1e3:.1f} ms"))
        out.append(info(f"{name}: energy per image",
                        measured(lambda x: sum(v for _, v in x.energy_breakdown_j) * 1e3, r), unit="mJ",
                        note=", ".join(f"{k} {v / total:.0%}" for k, v in top)))
    return out
