"""Which device runs which op: a placement policy by op group, written as text a user can pin.

    attention on pim                 # attention (QKᵀ, softmax, PV, KV append/read) on `pim`, the rest
                                     # on the other device of a two-device system
    fc on host, attention on pim     # clauses, comma-separated; `rest on D` sets the leftover device
    all on host                      # every op on one device
    search                           # every assignment of groups to devices tried (run.py)

Groups (`GROUPS`): `attention`, `fc` (weight GEMMs/GEMVs: linear layers, LM head, MoE router),
`vector` (everything else: norms, activations, RoPE, residual adds, embedding), `all`. Ops no
clause names go to the `rest` device, else — when every clause names the same device of a
two-device system — to the other device, else to the first device listed.
"""
from __future__ import annotations

from archsim.errors import ArchsimError, did_you_mean

__all__ = ["GROUPS", "PolicyError", "parse_policy", "group_of", "place", "policy_text", "SEARCH"]

ATTENTION_KINDS = frozenset({"attn_qk", "attn_av", "attention", "softmax", "kv_append", "kv_read"})
FC_KINDS = frozenset({"matmul", "lm_head", "moe_router"})
GROUPS = ("attention", "fc", "vector")
SEARCH = "search"


class PolicyError(ValueError, ArchsimError):
    """A placement policy that does not parse or names an unknown group or device."""


def group_of(kind: str) -> str:
    """The placement group of an op kind (`archsim.ir.OpKind` value)."""
    if kind in ATTENTION_KINDS:
        return "attention"
    if kind in FC_KINDS:
        return "fc"
    return "vector"


def parse_policy(policy: str, devices: tuple[str, ...]) -> dict[str, str]:
    """{group: device} for every group in `GROUPS`; PolicyError names what is wrong."""
    if not devices:
        raise PolicyError("a placement needs at least one device")
    policy = (policy or "").strip()
    if not policy:
        return {g: devices[0] for g in GROUPS}
    if policy == SEARCH:
        raise PolicyError("'search' is not a fixed placement; it is resolved by simulate_system")
    out: dict[str, str] = {}
    rest = None
    for clause in (c.strip() for c in policy.replace(";", ",").split(",")):
        words = clause.split()
        if len(words) != 3 or words[1] != "on":
            raise PolicyError(f"placement clause {clause!r} must read 'GROUP on DEVICE' (groups: "
                              f"{', '.join(GROUPS + ('all', 'rest'))}; e.g. 'attention on pim')")
        group, device = words[0], words[2]
        if device not in devices:
            hint = did_you_mean(device, devices) or f"devices: {', '.join(devices)}"
            raise PolicyError(f"placement names unknown device {device!r}; {hint}")
        if group == "all":
            out.update({g: device for g in GROUPS if g not in out})
        elif group == "rest":
            rest = device
        elif group in GROUPS:
            if group in out:
                raise PolicyError(f"placement names group {group!r} twice")
            out[group] = device
        else:
            hint = did_you_mean(group, GROUPS + ("all", "rest")) or \
                f"groups: {', '.join(GROUPS + ('all', 'rest'))}"
            raise PolicyError(f"placement names unknown op group {group!r}; {hint}")
    if rest is None:
        named = set(out.values())
        rest = (next(d for d in devices if d not in named)
                if len(devices) == 2 and len(named) == 1 else devices[0])
    return {g: out.get(g, rest) for g in GROUPS}


def place(kinds: dict[str, str], assignment: dict[str, str]) -> dict[str, str]:
    """{op name: device} from {op name: op kind} and {group: device}."""
    return {name: assignment[group_of(kind)] for name, kind in kinds.items()}


def policy_text(assignment: dict[str, str]) -> str:
    """The canonical text of a {group: device} assignment ('all on X' when one device)."""
    devices = set(assignment.values())
    if len(devices) == 1:
        return f"all on {next(iter(devices))}"
    return ", ".join(f"{g} on {assignment[g]}" for g in GROUPS)
