"""AlexNet's five convolution layers (Krizhevsky et al. 2012; grouped conv2/4/5 as on two GPUs) as an
OpGraph, the workload of Eyeriss's measured chip power (JSSC 2017: 278 mW, batch 4, 16-bit)."""
from __future__ import annotations

from archsim.ir import OpKind

#: (name, in channels per group, out channels, kernel, stride, output size, groups)
CONV = (("conv1", 3, 96, 11, 4, 55, 1), ("conv2", 48, 256, 5, 1, 27, 2), ("conv3", 256, 384, 3, 1, 13, 1),
        ("conv4", 192, 384, 3, 1, 13, 2), ("conv5", 192, 256, 3, 1, 13, 2))


def alexnet_conv_graph(batch: int = 4, dtype: str = "int16"):
    from archsim.workloads.dtypes import resolve_dtypes
    from archsim.workloads.lowering import Lowering
    from archsim.ir import new_graph
    graph = new_graph(model="alexnet-conv", family="cnn", phase="encode", batch=batch, seq=1, context=0)
    lw = Lowering(graph, resolve_dtypes(f"weights={dtype},activations={dtype}"))
    size_in, ch_in = 227, 3
    x = lw.activation("image", (batch, ch_in, size_in, size_in))
    for name, cin, out, k, stride, size, groups in CONV:
        w = lw.weight(f"{name}.w", (out, cin, k, k), usage="conv")
        macs = batch * size * size * out * cin * k * k
        y = lw.activation(name, (batch, out, size, size))
        y = lw.emit(name, OpKind.CONV2D, (("b", batch), ("o", out), ("y", size), ("x", size), ("c", cin * groups),
                                          ("i", k), ("j", k)),
                    ((x, ("b", "c", "y", "x")), (w, ("o", "c", "i", "j"))), (y, ("b", "o", "y", "x")),
                    macs, 2 * macs, (("kernel", (k, k)), ("stride", (stride, stride)), ("groups", groups)))
        x = y
    return graph
