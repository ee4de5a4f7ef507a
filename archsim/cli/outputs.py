"""Shared by `archsim simulate` and `archsim compare`: list flags, output flags and writing the
requested files. Imports `reports` only inside functions (the CLI must start fast)."""
from __future__ import annotations

import re
import sys
from pathlib import Path

__all__ = ["DEFAULT_DIR", "add_output_flags", "output_path", "add_hw_set_flag", "check_output_flags", "hw_overrides",
           "int_list", "write_outputs", "stem", "run_tag", "unwritable", "add_model_set_flag",
           "model_overrides"]

DEFAULT_DIR = Path("archsim-out")


def output_path(text: str) -> str:
    """argparse type of an output flag: a non-empty path ('' used to mean "not given": the files went
    to ./archsim-out/ or nowhere, silently)."""
    import argparse
    if not str(text).strip():
        raise argparse.ArgumentTypeError("an empty path; give a file path like out/result.json, or '-' for stdout")
    return text


def add_output_flags(p, csv: bool = True) -> None:
    out = p.add_argument_group("output (without any of these, files go to ./archsim-out/)")
    out.add_argument("--json", metavar="PATH", type=output_path, help="write JSON to PATH ('-' = stdout)")
    out.add_argument("--html", metavar="PATH", type=output_path, help="write a self-contained HTML report to PATH")
    if csv:
        out.add_argument("--csv", metavar="PATH", type=output_path, help="write CSV to PATH")
    out.add_argument("--quiet", action="store_true",
                     help="no progress bar and no summary (errors still go to stderr)")
    out.add_argument("--timing", action="store_true",
                     help="record sim_wall_s in the JSON (makes the JSON differ run to run)")
    out.add_argument("--force", action="store_true",
                     help="let default-named files in ./archsim-out/ overwrite an earlier run's "
                          "(without it a new name is taken: NAME-2.json, ...)")


def int_list(text: str | None, flag: str) -> list[int] | None:
    """'128,1024,4096' → [128, 1024, 4096]; None stays None."""
    from archsim.api import ArgumentError
    if text is None:
        return None
    values = []
    for part in str(text).split(","):
        part = part.strip()
        if not (part.isascii() and part.isdigit()) or len(part) > 30 or int(part) <= 0:
            raise ArgumentError(f"{flag}: expected positive integers separated by commas "
                                f"(got {shown(text)})")
        values.append(int(part))
    return values


def add_cache_flag(p) -> None:
    p.add_argument("--no-cache", action="store_true",
                   help="search every op's mapping afresh: neither read nor write the persistent "
                        "mapping cache (same as ARCHSIM_NO_CACHE=1; its folder is "
                        "$ARCHSIM_CACHE_DIR, default ~/.cache/archsim)")


def shown(text, limit: int = 80) -> str:
    """`text` quoted for an error line: control characters and escape sequences made visible
    (never sent raw to a terminal), cut to `limit` characters."""
    from archsim.errors import printable
    return printable(repr(str(text)) if len(str(text)) <= limit else repr(str(text)[:limit]) + "…")


def add_hw_set_flag(p) -> None:
    p.add_argument("--hw-set", action="append", metavar="KEY=VALUE", default=None,
                   help="override one field of the hardware description (repeatable), e.g. "
                        "--hw-set memory.gbuf.size=4MiB --hw-set compute.pe_array.shape=[64,64] "
                        "--hw-set dram.channels=16 (see docs/hardware-schema.md)")


def add_model_set_flag(p) -> None:
    p.add_argument("--model-set", "--set", dest="model_set", action="append", metavar="KEY=VALUE", default=None,
                   help="override one hyperparameter of the model (repeatable), e.g. "
                        "--model-set layers=6 --model-set hidden=192 --model-set attention=linear "
                        "(keys: layers, hidden, heads, kv_heads, head_dim, ffn, mlp_ratio, patch, "
                        "image, rank_ratio, experts, top_k, attention, ...; a co-search design "
                        "prints its own)")


def hw_overrides(items: list[str] | None) -> dict | None:
    """['memory.gbuf.size=4MiB', 'compute.pe.shape=[64,64]'] → {'memory.gbuf.size': '4MiB', ...}.
    Values are YAML (numbers and lists parse; unit strings stay strings for the hardware loader)."""
    return _key_values(items, "--hw-set", "memory.gbuf.size=4MiB", "e.g. 16, 4MiB, [64,64]")


def model_overrides(items: list[str] | None) -> dict | None:
    """['layers=6', 'mlp_ratio=3.5'] → {'layers': 6, 'mlp_ratio': 3.5} (values are YAML); the
    model's own checks (`workloads`) say which keys exist."""
    return _key_values(items, "--model-set", "layers=6", "e.g. 6, 3.5, linear")


def _key_values(items, flag: str, example: str, values: str) -> dict | None:
    import yaml
    from archsim.api import ArgumentError
    if not items:
        return None
    out: dict = {}
    for item in items:
        key, sep, text = str(item).partition("=")
        key, text = key.strip(), text.strip()
        if not sep or not key or not text:
            raise ArgumentError(f"{flag} {item}: expected KEY=VALUE, e.g. {example}")
        if key in out:
            raise ArgumentError(f"{flag} {item}: {key} is set more than once")
        try:
            out[key] = yaml.safe_load(text)
        except yaml.YAMLError as exc:
            problem = str(getattr(exc, "problem", "") or "not valid YAML")
            raise ArgumentError(f"{flag} {item}: cannot read the value ({problem}); {values}") from None
        except ValueError:                 # an int of > 4,300 digits, a date such as 2001-13-45
            raise ArgumentError(f"{flag} {key}=…: cannot read the value ({len(text):,} characters, not a "
                                f"number or date Python can hold); {values}") from None
        if out[key] is None:
            raise ArgumentError(f"{flag} {item}: the value is empty (YAML null)")
    return out


_FILE_SUFFIXES = (".json", ".onnx", ".yaml", ".yml")


def stem(text: str) -> str:
    """A file-name-safe form of a model or hardware name (a path or file name keeps only its stem:
    `configs/qwen2-0.5b.json` and `qwen2-0.5b.json` both give `qwen2-0.5b`)."""
    name = str(text)
    if "/" in name or "\\" in name or name.lower().endswith(_FILE_SUFFIXES):
        name = Path(name.replace("\\", "/")).name
        if name.lower().endswith(_FILE_SUFFIXES):
            name = name[: name.rfind(".")]
    return re.sub(r"[^A-Za-z0-9._-]+", "-", name).strip("-") or "result"


#: flags that say where and how to write, or name the model/chips (already in the name)
_NOT_IN_TAG = {"json", "html", "csv", "quiet", "timing", "force", "traceback", "model", "hw", "system",
               "command", "no_cache", "phase"}
#: short, readable labels for the common workload flags; others appear as `flag-value`
_LABELS = {"batch": "b", "seq": "s", "context": "ctx", "devices": "dev", "prefill_chunk": "chunk",
           "seed": "seed", "budget": "budget", "baseline": "base"}
_VALUE_ONLY = {"dtype", "fidelity", "strategy", "stack"}
_MAX_TAG = 60


def run_tag(args) -> str:
    """`_b8_ctx1024_int8_cycle`: every run flag whose value differs from its default, so runs
    that differ in any parameter get different default file names. Hardware overrides and
    anything too long for a file name become a short hash of their values."""
    import hashlib
    import json
    parser = getattr(args, "_parser", None)
    parts, hashed = [], {}
    for dest, value in sorted(vars(args).items()):
        if dest.startswith("_") or dest in _NOT_IN_TAG or value is None:
            continue
        default = parser.get_default(dest) if parser is not None else None
        if value == default or value is False:
            continue
        if dest in ("hw_set", "model_set"):
            hashed[dest] = value
            continue
        text = ",".join(map(str, value)) if isinstance(value, (list, tuple)) else str(value)
        if dest in _VALUE_ONLY:
            parts.append(text)
        else:
            parts.append(f"{_LABELS.get(dest, dest.replace('_', '-') + '-')}{text}")
    tag = re.sub(r"[^A-Za-z0-9_.,=-]+", "-", "_".join(parts)).strip("-_")
    tag = tag.replace(",", "-").replace("=", "-")
    if len(tag) > _MAX_TAG:
        hashed["flags"], tag = parts, ""
    if hashed:
        digest = hashlib.sha256(json.dumps(hashed, sort_keys=True, default=str).encode()).hexdigest()[:8]
        label = {frozenset({"hw_set"}): "hw-", frozenset({"model_set"}): "model-"}.get(frozenset(hashed), "")
        tag = f"{tag}_{label}{digest}".lstrip("_")
    return f"_{tag}" if tag else ""


def _free_stem(base: str, kinds) -> str:
    """`base`, or `base-2`, `base-3`, … : the first name none of whose files exists yet."""
    candidate, n = base, 1
    while any((DEFAULT_DIR / f"{candidate}.{kind}").exists() for kind in kinds):
        n += 1
        candidate = f"{base}-{n}"
    return candidate


def _write(path: Path, text: str) -> None:
    from archsim.api import ArgumentError
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise ArgumentError(f"cannot write {path}: {exc.strerror or exc}") from None


def check_output_flags(args) -> None:
    """Reject output flags that cannot all be honoured, before any work is done."""
    from archsim.api import ArgumentError
    flags = {"json": args.json, "html": args.html, "csv": getattr(args, "csv", None)}
    to_stdout = [f"--{kind}" for kind, target in flags.items() if target == "-"]
    if len(to_stdout) > 1:
        raise ArgumentError(f"only one output can go to stdout (got {' and '.join(to_stdout)} -)")
    files = [(kind, target) for kind, target in flags.items() if target and target != "-"]
    for i, (kind, target) in enumerate(files):
        problem = unwritable(target)
        if problem:
            raise ArgumentError(f"--{kind} {target}: {problem}")
        same = [f"--{k}" for k, t in files[:i] if Path(t).resolve() == Path(target).resolve()]
        if same:
            raise ArgumentError(f"--{kind} {target}: {same[0]} writes the same file; give each output its own path")


def unwritable(target: str) -> str | None:
    """Why a file cannot be written at `target` (checked before hours of work), or None. A missing
    folder is fine: it is created; a file or a read-only folder in the way is not."""
    import os
    path = Path(target)
    if target.endswith(("/", os.sep)) or path.is_dir():
        return "is a directory; give a file path like out/result.json"
    parent = path.parent
    while not parent.exists() and parent != parent.parent:
        parent = parent.parent
    if not parent.is_dir():
        return f"{parent} is a file, not a directory"
    if not os.access(parent, os.W_OK | os.X_OK):
        return f"cannot create files in {parent} (permission denied)"
    if path.exists() and not os.access(path, os.W_OK):
        return "the file is read-only"
    return None


def write_outputs(obj, args, default_stem: str, roof=None) -> list[str]:
    """Write what the flags ask for; with no output flag, JSON + HTML + CSV into ./archsim-out/,
    named after the model, chip, phase and every flag that differs from its default (`run_tag`);
    an earlier run's files are never overwritten without --force (a free name `-2`, `-3`, … is
    taken). Returns the paths written ('-' for stdout)."""
    targets = {"json": args.json, "html": args.html, "csv": getattr(args, "csv", None)}
    if not any(targets.values()):
        kinds = [kind for kind in targets if kind != "csv" or hasattr(args, "csv")]
        name = default_stem + run_tag(args)
        if not getattr(args, "force", False):
            name = _free_stem(name, kinds)
        targets = {kind: str(DEFAULT_DIR / f"{name}.{kind}") for kind in kinds}
    check_output_flags(args)
    written = []
    for kind, target in targets.items():
        if not target:
            continue
        if kind == "json":
            from archsim.reports import json_report
            text = json_report.dumps(obj, timing=args.timing)
        elif kind == "html":                  # plotly is imported only when a page is written
            from archsim.reports import html
            text = html.render_html(obj, roof)
        else:
            from archsim.reports import csv_report
            text = csv_report.render_csv(obj)
        if target == "-":
            sys.stdout.write(text)
            sys.stdout.flush()
        else:
            _write(Path(target), text)
        written.append(target)
    return written


def emit(obj, args, default_stem: str, roof=None) -> int:
    """A command's ending: the summary table (on stderr when a report goes to stdout, so the
    report stays parseable; nothing with --quiet), then the files the flags ask for
    (`write_outputs`), each named on stderr. Returns the exit code 0."""
    from archsim.reports.table import render_text
    if not args.quiet:
        stream = sys.stderr if "-" in (args.json, args.html, getattr(args, "csv", None)) else sys.stdout
        stream.write(render_text(obj))
    for path in write_outputs(obj, args, default_stem, roof=roof):
        if path != "-" and not args.quiet:
            print(f"wrote {path}", file=sys.stderr)
    return 0
