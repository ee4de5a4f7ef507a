"""Whole-graph passes: fusion, placement of weights / activations / KV cache, buffer planning
(liveness and a TFLite-Micro-style arena), MCUFormer memory techniques, PIM-GPT partitioning."""
