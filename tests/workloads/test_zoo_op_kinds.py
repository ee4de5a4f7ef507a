"""`archsim.hardware.ops.ZOO_OP_KINDS` (the op kinds `hw lint` requires a unit for) is exactly what
the model zoo produces, over every model and phase."""
from __future__ import annotations

from archsim.hardware.ops import ZOO_OP_KINDS
from archsim.ir import ops_in_order
from archsim.workloads import build_graph, list_models


def test_zoo_op_kinds_match_the_zoo():
    kinds = set()
    for row in list_models():
        for phase in row.phases:
            kinds.update(op.kind.value for op in ops_in_order(build_graph(row.name, phase=phase)))
    assert sorted(kinds) == list(ZOO_OP_KINDS)
