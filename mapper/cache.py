"""Results cached by (op shape, dtypes, hardware, placement, search settings): transformer layers
repeat, so each distinct layer shape is mapped once. In memory (bounded, process-local) in front
of the persistent cache on disk (`mapper.persistent_cache`), which later processes share."""
from __future__ import annotations

import hashlib
from collections import OrderedDict

from archsim.hardware import Hardware
from archsim.ir import Op

from . import persistent_cache as P

__all__ = ["op_signature", "cache_get", "cache_put", "cache_clear", "cache_info", "hw_key"]

_CACHE: "OrderedDict[tuple, object]" = OrderedDict()
_MAX = 4096
_STATS = {"hits": 0, "misses": 0, "disk_hits": 0}
_HW_DIGESTS: "OrderedDict[int, tuple[Hardware, str]]" = OrderedDict()


def op_signature(op: Op) -> tuple:
    """Everything about an op the mapper's result depends on, except its name."""
    # `_value_`: the enum's value as `.value` gives it, without the property call (per operand
    # of every op of every estimate)
    operands = tuple([(o.dims, o.tensor.dtype_bits, o.tensor.role._value_, o.is_output)
                      for o in op.operands])
    return (op.kind._value_, op.dims, operands, op.macs, op.flops)


def cache_get(key: tuple):
    """The cached value for `key`: from memory, else from disk (then kept in memory), else None."""
    try:
        value = _CACHE[key]
    except KeyError:
        value = _disk_get(key)
        if value is None:
            _STATS["misses"] += 1
            return None
        _STATS["disk_hits"] += 1
        _remember(key, value)
        return value
    _CACHE.move_to_end(key)
    _STATS["hits"] += 1
    return value


def cache_put(key: tuple, value) -> None:
    _remember(key, value)
    if P.enabled():
        P.disk_put(P.disk_key(key), value)


def _remember(key: tuple, value) -> None:
    _CACHE[key] = value
    if len(_CACHE) > _MAX:
        _CACHE.popitem(last=False)


def _disk_get(key: tuple):
    return P.disk_get(P.disk_key(key)) if P.enabled() else None


def cache_clear() -> None:
    """Empty the in-memory cache (the one on disk stays; see `persistent_cache.disk_clear`)."""
    _CACHE.clear()
    _STATS.update(hits=0, misses=0, disk_hits=0)


def cache_info() -> dict:
    return {"entries": len(_CACHE), **_STATS}


def hw_key(hw: Hardware) -> str:
    """A digest of everything in the hardware description (its repr, stable across processes),
    computed once per description object."""
    hit = _HW_DIGESTS.get(id(hw))
    if hit is not None and hit[0] is hw:
        return hit[1]
    digest = hashlib.sha256(repr(hw).encode()).hexdigest()[:24]
    _HW_DIGESTS[id(hw)] = (hw, digest)
    if len(_HW_DIGESTS) > 64:
        _HW_DIGESTS.popitem(last=False)
    return digest
