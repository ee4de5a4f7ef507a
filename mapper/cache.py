"""Results cached by (op shape, dtypes, hardware, placement, search settings): transformer layers
repeat, so each distinct layer shape is mapped once. In-memory, bounded, process-local."""
from __future__ import annotations

from collections import OrderedDict

from archsim.hardware import Hardware
from archsim.ir import Op

__all__ = ["op_signature", "cache_get", "cache_put", "cache_clear", "cache_info"]

_CACHE: "OrderedDict[tuple, object]" = OrderedDict()
_MAX = 4096
_STATS = {"hits": 0, "misses": 0}


def op_signature(op: Op) -> tuple:
    """Everything about an op the mapper's result depends on, except its name."""
    operands = tuple((o.dims, o.tensor.dtype_bits, o.tensor.role.value, o.is_output)
                     for o in op.operands)
    return (op.kind.value, op.dims, operands, op.macs, op.flops)


def cache_get(key: tuple):
    try:
        value = _CACHE[key]
    except KeyError:
        _STATS["misses"] += 1
        return None
    _CACHE.move_to_end(key)
    _STATS["hits"] += 1
    return value


def cache_put(key: tuple, value) -> None:
    _CACHE[key] = value
    if len(_CACHE) > _MAX:
        _CACHE.popitem(last=False)


def cache_clear() -> None:
    _CACHE.clear()
    _STATS.update(hits=0, misses=0)


def cache_info() -> dict:
    return {"entries": len(_CACHE), **_STATS}


def hw_key(hw: Hardware) -> int:
    return hash(hw)
