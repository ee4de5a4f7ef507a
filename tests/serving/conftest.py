"""One small step table, simulated once per session: GPT-2 small on PIM-GPT (its steps simulate
in about a second each), decode batches up to 4 and contexts up to 256."""
from __future__ import annotations

import pytest


@pytest.fixture(scope="session")
def steps_cache(tmp_path_factory):
    """The step-time cache of this session (`$ARCHSIM_CACHE_DIR/serve` for the CLI tests)."""
    path = tmp_path_factory.mktemp("cache") / "serve"
    path.mkdir()
    return path


@pytest.fixture(scope="session")
def pim_table(steps_cache):
    from archsim.serving import build_step_table
    return build_step_table("gpt2-small", "pim-gpt", max_batch=4, max_prefill_tokens=256,
                            max_context=256, checks=2, cache_dir=steps_cache)
