"""Storage dtypes per tensor class: weights, activations and KV cache."""
from __future__ import annotations

from dataclasses import dataclass

from archsim.errors import ModelError, did_you_mean
from archsim.ir import DTYPE_BITS

__all__ = ["Dtypes", "resolve_dtypes", "DEFAULT_DTYPE", "USER_DTYPES"]

DEFAULT_DTYPE = "bf16"
#: dtype names a user may pick ("2bit" is an alias of the packed 2-bit / ternary format)
USER_DTYPES = tuple(DTYPE_BITS) + ("2bit",)
_ALIASES = {"2bit": "int2", "2-bit": "int2", "float32": "fp32", "float16": "fp16",
            "bfloat16": "bf16"}
_CLASSES = ("weights", "activations", "kv")


@dataclass(frozen=True, slots=True)
class Dtypes:
    """Dtype names per tensor class. `explicit_weights` is False when the user did not choose a
    weight dtype, so a model's own default (ternary for MatMul-free) may apply."""
    weights: str = DEFAULT_DTYPE
    activations: str = DEFAULT_DTYPE
    kv: str = DEFAULT_DTYPE
    explicit_weights: bool = False

    @property
    def weight_bits(self) -> int:
        return DTYPE_BITS[self.weights]

    @property
    def activation_bits(self) -> int:
        return DTYPE_BITS[self.activations]

    @property
    def kv_bits(self) -> int:
        return DTYPE_BITS[self.kv]

    def as_meta(self) -> dict[str, str]:
        return {"weights": self.weights, "activations": self.activations, "kv": self.kv}


def _name(value, where: str) -> str:
    text = str(value).strip().lower()
    text = _ALIASES.get(text, text)
    if text not in DTYPE_BITS:
        hint = did_you_mean(text, USER_DTYPES) or "choose one of " + ", ".join(USER_DTYPES)
        raise ModelError(f"{where}: unknown dtype {value!r}; {hint}")
    return text


def resolve_dtypes(dtypes: dict | str | Dtypes | None) -> Dtypes:
    """None -> bf16 everywhere; a name -> that dtype everywhere; a dict -> per class, the rest bf16.
    A string "weights=int4,activations=int8,kv=fp16" is accepted too (the CLI's --dtype)."""
    if dtypes is None:
        return Dtypes()
    if isinstance(dtypes, Dtypes):
        return dtypes
    if isinstance(dtypes, str) and "=" in dtypes:
        parts = {}
        for item in dtypes.split(","):
            key, _, value = item.partition("=")
            if key.strip() in parts:
                raise ModelError(f"dtypes: {key.strip()} is given twice (got {dtypes!r}); give each "
                                 "of weights, activations, kv at most once")
            parts[key.strip()] = value.strip()
        dtypes = parts
    if isinstance(dtypes, str):
        name = _name(dtypes, "dtype")
        return Dtypes(name, name, name, explicit_weights=True)
    if not isinstance(dtypes, dict):
        raise ModelError(f"dtypes: expected a dtype name or a mapping (got {dtypes!r})")
    for key in dtypes:
        if key not in _CLASSES:
            hint = did_you_mean(key, _CLASSES) or "use weights, activations, kv"
            raise ModelError(f"dtypes: unknown tensor class {key!r}; {hint}")
    return Dtypes(
        weights=_name(dtypes.get("weights", DEFAULT_DTYPE), "dtypes.weights"),
        activations=_name(dtypes.get("activations", DEFAULT_DTYPE), "dtypes.activations"),
        kv=_name(dtypes.get("kv", DEFAULT_DTYPE), "dtypes.kv"),
        explicit_weights="weights" in dtypes,
    )
