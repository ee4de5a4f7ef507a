"""Workloads: the model zoo, phase lowering (prefill / decode / encode), HF config.json and ONNX
import, all producing an `archsim.ir.OpGraph`."""
from __future__ import annotations

from .build import ModelRow, build_graph, list_models, model_config
from .config import ModelConfig, OVERRIDE_KEYS
from .dtypes import Dtypes, resolve_dtypes

__all__ = ["build_graph", "list_models", "model_config", "ModelConfig", "ModelRow", "Dtypes",
           "resolve_dtypes", "OVERRIDE_KEYS"]
