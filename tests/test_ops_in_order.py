"""`ops_in_order` is networkx's lexicographic topological sort keyed by insertion index; when ops
were added after their producers it takes the insertion order directly (the same order, proved
in the code's comment) — checked here against networkx on random DAGs, inserted in topological
order and shuffled."""
import random

import networkx as nx
import pytest

from archsim.ir import ops_in_order


class _Op:
    def __init__(self, name):
        self.name = name


@pytest.mark.parametrize("shuffled", [False, True])
def test_same_order_as_networkx_on_random_dags(shuffled):
    rng = random.Random(20 + shuffled)
    for _ in range(200):
        n = rng.randint(1, 30)
        names = [f"n{i}" for i in range(n)]
        g = nx.DiGraph()
        for name in rng.sample(names, n) if shuffled else names:
            g.add_node(name, op=_Op(name))
        for i in range(n):
            for j in range(i + 1, n):
                if rng.random() < 0.2:
                    g.add_edge(names[i], names[j])
        index = {x: i for i, x in enumerate(g.nodes)}
        want = list(nx.lexicographical_topological_sort(g, key=lambda x: index[x]))
        assert [o.name for o in ops_in_order(g)] == want
