"""Tiny random-weight Hugging Face models exported to ONNX at test time (no downloads).

Each `CorpusModel` builds a `transformers` model from a config (`from_config`, random weights),
wraps it so the exporter sees one tensor in and one tensor out, and knows its example input. The
reference numbers (parameters, MACs) come from the PyTorch module itself: `parameters()` and a
forward pass under `torch.utils.flop_counter.FlopCounterMode` (2 FLOPs per MAC).
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

SEQ = 8           # tokens of a text model's example input
VOCAB = 100
TEXT = dict(hidden_size=32, num_hidden_layers=2, num_attention_heads=4, intermediate_size=64,
            vocab_size=VOCAB, max_position_embeddings=64)
DECODER = dict(TEXT, num_key_value_heads=2, pad_token_id=0, bos_token_id=1, eos_token_id=2)
VISION = dict(hidden_size=32, num_hidden_layers=2, num_attention_heads=4, intermediate_size=64,
              image_size=32, patch_size=8, num_channels=3)


@dataclass(frozen=True)
class CorpusModel:
    name: str
    model_type: str
    config: dict
    input: str                     # "ids", "pixels" or "mels"
    part: str = ""                 # "encoder": export model.get_encoder() (T5, Whisper)
    without_pooler: bool = False   # built without its pooler: the exported graph (last hidden
                                   # state) ends before it, so the reference must too
    hf_config: bool = False        # archsim reads this model_type's config.json too
    fold_constants: bool = True    # the TorchScript exporter's do_constant_folding

    def build(self):
        import torch
        from transformers import AutoConfig, AutoModel
        cfg = AutoConfig.for_model(self.model_type, **self.config)
        cfg._attn_implementation = "eager"
        model = AutoModel.from_config(cfg, **({"add_pooling_layer": False} if self.without_pooler else {}))
        if self.part == "encoder":
            model = model.get_encoder()
        # a fresh model's biases are zeros and its norm scales ones; exporters share equal-valued
        # tensors (the dynamo exporter merges them into one initializer), which a trained model's
        # never are: draw every parameter so each stays its own tensor
        generator = torch.Generator().manual_seed(0)
        with torch.no_grad():
            for p in model.parameters():
                p.copy_(torch.randn(p.shape, generator=generator) * 0.02)
        return cfg, model.eval()

    def example(self, cfg):
        import torch
        if self.input == "ids":
            return torch.randint(3, VOCAB, (1, SEQ))
        if self.input == "pixels":
            return torch.randn(1, cfg.num_channels, cfg.image_size, cfg.image_size)
        return torch.randn(1, cfg.num_mel_bins, 2 * cfg.max_source_positions)


def wrapped(model, kind: str):
    """One tensor in (input_ids, pixel_values or input_features), the last hidden state out."""
    import torch
    key = {"ids": "input_ids", "pixels": "pixel_values", "mels": "input_features"}[kind]

    class Wrapped(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.model = model

        def forward(self, x):
            return self.model(**{key: x}).last_hidden_state

    return Wrapped().eval()


CORPUS = (
    CorpusModel("bert", "bert", TEXT, "ids", hf_config=True, without_pooler=True),
    CorpusModel("roberta", "roberta", dict(TEXT, pad_token_id=1, max_position_embeddings=66), "ids",
                hf_config=True, without_pooler=True),
    CorpusModel("gpt2", "gpt2", dict(n_embd=32, n_layer=2, n_head=4, vocab_size=VOCAB, n_positions=64),
                "ids", hf_config=True),
    CorpusModel("gpt_neox", "gpt_neox", dict(TEXT, rotary_pct=0.5), "ids", hf_config=True),
    CorpusModel("llama", "llama", DECODER, "ids", hf_config=True),
    CorpusModel("mistral", "mistral", dict(DECODER, sliding_window=None), "ids", hf_config=True),
    CorpusModel("qwen2", "qwen2", DECODER, "ids", hf_config=True),
    CorpusModel("phi3", "phi3", DECODER, "ids", hf_config=True),
    CorpusModel("t5", "t5", dict(d_model=32, d_kv=8, d_ff=64, num_layers=2, num_heads=4, vocab_size=VOCAB),
                "ids", part="encoder"),
    CorpusModel("vit", "vit", VISION, "pixels", hf_config=True, without_pooler=True),
    CorpusModel("deit", "deit", VISION, "pixels", hf_config=True, without_pooler=True),
    CorpusModel("swin", "swin", dict(image_size=32, patch_size=4, num_channels=3, embed_dim=16,
                                     depths=[1, 1], num_heads=[2, 4], window_size=4), "pixels",
                fold_constants=False),
    CorpusModel("whisper", "whisper", dict(d_model=32, encoder_layers=2, encoder_attention_heads=4,
                                           decoder_layers=1, decoder_attention_heads=4,
                                           encoder_ffn_dim=64, decoder_ffn_dim=64, num_mel_bins=16,
                                           max_source_positions=16, vocab_size=VOCAB, pad_token_id=0,
                                           bos_token_id=1, eos_token_id=2, decoder_start_token_id=1),
                "mels", part="encoder"),
)
BY_NAME = {m.name: m for m in CORPUS}


@dataclass(frozen=True)
class Exported:
    name: str
    path: Path
    params: int              # sum of the module's parameters
    macs: int                # FlopCounterMode FLOPs / 2 on the example input
    input_shape: tuple[int, ...]
    hf_config: dict          # the model's config.to_dict() (for the config.json equivalence)


def export(entry: CorpusModel, folder: Path, dynamo: bool = False) -> Exported:
    import torch
    from torch.utils.flop_counter import FlopCounterMode
    cfg, model = entry.build()
    module = wrapped(model, entry.input)
    x = entry.example(cfg)
    with FlopCounterMode(display=False) as counter, torch.no_grad():
        module(x)
    path = folder / f"{entry.name}{'_dynamo' if dynamo else ''}.onnx"
    kwargs = (dict(dynamo=True, opset_version=18) if dynamo else
              dict(dynamo=False, opset_version=17, do_constant_folding=entry.fold_constants))
    axes = {0: "batch", 1: "seq"} if entry.input == "ids" else {0: "batch"}
    if dynamo:
        kwargs["dynamic_shapes"] = ({i: torch.export.Dim(n, min=1 if n == "batch" else 2, max=64)
                                     for i, n in axes.items()},)
    else:
        kwargs["dynamic_axes"] = {"x": axes}
    torch.onnx.export(module, (x,), str(path), input_names=["x"], output_names=["y"], **kwargs)
    return Exported(entry.name, path, sum(p.numel() for p in model.parameters()),
                    counter.get_total_flops() // 2, tuple(x.shape), cfg.to_dict())
