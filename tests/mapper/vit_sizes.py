"""Byte counts of ViT-style models written out by hand from their published shapes, for the MCU
golden numbers (independent of `workloads`: only the shapes and the rules below).

A ViT (Dosovitskiy et al. 2021; DeiT, Touvron et al. 2021) cuts a C × image² input into
(image / patch)² patches, adds one class token and a learned position per token, and runs `depth`
pre-norm blocks: LayerNorm (gain + bias), Q, K, V (d → heads × head_dim, with bias), the output
projection (heads × head_dim → d, with bias), LayerNorm, fc1 (d → mlp) and fc2 (mlp → d), both with
bias, then a final LayerNorm and a d → classes head. MCUFormer (Liang et al. 2023) factorises each
block linear k → n into k → r → n with r = round(rank × min(k, n)) when that has fewer weights,
the bias staying on the second factor."""
from __future__ import annotations


def tokens(image: int, patch: int) -> int:
    return (image // patch) ** 2 + 1                       # patches + the class token


def linear_params(k: int, n: int, rank: float = 1.0) -> int:
    r = round(rank * min(k, n))
    if rank < 1.0 and r * (k + n) < k * n:
        return k * r + r * n + n
    return k * n + n


def vit_params(image, patch, d, depth, heads, head_dim, mlp, classes, rank=1.0, channels=3,
               cls_token=True) -> int:
    hd = heads * head_dim
    block = (2 * d + 3 * linear_params(d, hd, rank) + linear_params(hd, d, rank)
             + 2 * d + linear_params(d, mlp, rank) + linear_params(mlp, d, rank))
    return (channels * patch * patch * d + d                # patch embedding (a conv) + bias
            + (d if cls_token else 0) + tokens(image, patch) * d   # class token, positions
            + depth * block + 2 * d + d * classes + classes)


# DeiT-tiny: 224² RGB, 16-px patches, width 192, 12 blocks of 3 heads × 64, MLP 768, 1000 classes.
DEIT_TINY = dict(image=224, patch=16, d=192, depth=12, heads=3, head_dim=64, mlp=768, classes=1000)
#: timm's deit_tiny_patch16_224 parameter count, an independent check of the formula above
DEIT_TINY_PUBLISHED_PARAMS = 5_717_416


def mcuformer(patch: int) -> dict:
    """The zoo's MCUFormer points used by the tests: DeiT-tiny supernet at 240² input, width 168,
    12 blocks of 3 heads × 64, MLP 3.5 × 168 = 588, rank ratio 0.4."""
    return dict(image=240, patch=patch, d=168, depth=12, heads=3, head_dim=64, mlp=588,
                classes=1000, rank=0.4)
