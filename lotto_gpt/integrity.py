"""Checks that saved state (a model folder, a dataset folder, a training checkpoint) is whole.

A file cut short by a full disk or a killed copy, or garbled by hand, should stop a program
with one clear line naming that file, not a traceback from deep inside safetensors, pyarrow
or json, and never make it build anything over what is already saved. Every check only reads.

    check_model_dir("outputs/cpu")            # ModelFileError
    check_dataset_dir("data/transcript")      # DatasetFileError
    check_checkpoint_dir("out/checkpoint-500")  # CheckpointFileError

All three errors are `CorruptFileError`, an `OSError` whose `path` is the offending file and
whose message starts with it.
"""
from __future__ import annotations

import json
import os
import zipfile

ARROW_EOS = b"\xff\xff\xff\xff\x00\x00\x00\x00"  # the end-of-stream marker of an Arrow IPC stream
MAX_SAFETENSORS_HEADER = 100 * 1024 * 1024  # safetensors' own limit
MODEL_JSON = ("config.json", "generation_config.json", "tokenizer.json", "tokenizer_config.json",
              "special_tokens_map.json", "model.safetensors.index.json")
CHECKPOINT_ZIPS = ("optimizer.pt", "scheduler.pt", "rng_state.pth", "training_args.bin", "scaler.pt")


class CorruptFileError(OSError):
    """A saved file is missing, truncated or garbled. `path` names it; the message starts with it."""

    def __init__(self, path, problem: str):
        self.path = os.fspath(path)
        self.problem = problem
        super().__init__(f"{self.path}: {problem}")

    def __str__(self) -> str:
        return self.args[0]

    def __reduce__(self):
        return type(self), (self.path, self.problem)


class ModelFileError(CorruptFileError):
    """A model folder's file (config, tokenizer, weights) is missing, truncated or garbled."""


class DatasetFileError(CorruptFileError):
    """A saved dataset's file (dataset_dict.json, state.json, an .arrow file) is missing, truncated or garbled."""


class CheckpointFileError(CorruptFileError):
    """A training checkpoint's file is missing, truncated or garbled."""


# ---------------------------------------------------------------- single files

def check_json(path, error=CorruptFileError, kind: type | None = dict):
    """The parsed JSON of `path` (a JSON object unless `kind` says otherwise)."""
    try:
        with open(path, "rb") as fh:
            raw = fh.read()
    except FileNotFoundError:
        raise error(path, "missing") from None
    except OSError as exc:
        raise error(path, f"cannot read it ({exc.strerror or exc})") from None
    try:
        data = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise error(path, f"not valid JSON ({exc}): the file is truncated or garbled") from None
    if kind is not None and not isinstance(data, kind):
        want = "a JSON object" if kind is dict else f"JSON {kind.__name__}"
        raise error(path, f"expected {want}, found JSON {type(data).__name__}: the file is garbled")
    return data


def check_safetensors(path, error=CorruptFileError) -> None:
    """The header parses and the tensors it lists cover the file exactly (nothing cut off)."""
    try:
        size = os.path.getsize(path)
        with open(path, "rb") as fh:
            head = fh.read(8)
            if len(head) < 8:
                raise error(path, f"truncated: {size} bytes, too short for a safetensors header")
            n = int.from_bytes(head, "little")
            if n > MAX_SAFETENSORS_HEADER or 8 + n > size:
                raise error(path, f"truncated or not safetensors: its header claims {n:,} bytes, "
                                  f"the file has {size:,}")
            header = json.loads(fh.read(n).decode("utf-8"))
    except FileNotFoundError:
        raise error(path, "missing") from None
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise error(path, "not a safetensors file (its header is not JSON): the file is garbled") from None
    except OSError as exc:
        if isinstance(exc, CorruptFileError):
            raise
        raise error(path, f"cannot read it ({exc.strerror or exc})") from None
    try:
        end = max((int(v["data_offsets"][1]) for k, v in header.items() if k != "__metadata__"), default=0)
    except (AttributeError, KeyError, TypeError, ValueError, IndexError):
        raise error(path, "not a safetensors file (bad tensor table): the file is garbled") from None
    if 8 + n + end != size:
        raise error(path, f"truncated: its header describes {8 + n + end:,} bytes, the file has {size:,}")


def check_zip(path, error=CorruptFileError) -> None:
    """A torch.save file (a zip archive) that is complete and whose CRCs match."""
    try:
        with zipfile.ZipFile(path) as zf:
            bad = zf.testzip()
    except FileNotFoundError:
        raise error(path, "missing") from None
    except (zipfile.BadZipFile, EOFError, ValueError, OSError) as exc:
        raise error(path, f"truncated or garbled ({exc})") from None
    if bad is not None:
        raise error(path, f"garbled: the CRC of its member {bad} does not match")


def check_arrow_stream(path, error=CorruptFileError) -> int:
    """An Arrow IPC stream (as `datasets` saves it) read to its end-of-stream marker; its row count."""
    import pyarrow as pa

    try:
        size = os.path.getsize(path)
        with open(path, "rb") as fh:
            fh.seek(max(0, size - len(ARROW_EOS)))
            tail = fh.read()
    except FileNotFoundError:
        raise error(path, "missing") from None
    except OSError as exc:
        raise error(path, f"cannot read it ({exc.strerror or exc})") from None
    if tail != ARROW_EOS:
        raise error(path, f"truncated: {size:,} bytes and no Arrow end-of-stream marker")
    try:
        with pa.memory_map(os.fspath(path)) as source:
            return sum(batch.num_rows for batch in pa.ipc.open_stream(source))
    except (pa.ArrowException, OSError, ValueError) as exc:
        raise error(path, f"truncated or garbled Arrow data ({exc})") from None


# ---------------------------------------------------------------- folders

def check_model_dir(path, error=ModelFileError) -> None:
    """Every JSON file of a model folder parses, every safetensors file is whole (shards included)."""
    path = os.fspath(path)
    for name in MODEL_JSON:
        file = os.path.join(path, name)
        if name == "config.json" or os.path.exists(file):
            check_json(file, error)
    index = os.path.join(path, "model.safetensors.index.json")
    shards = set()
    if os.path.exists(index):
        weight_map = check_json(index, error).get("weight_map")
        if not isinstance(weight_map, dict):
            raise error(index, "no weight_map: the file is garbled")
        shards = {str(v) for v in weight_map.values()}
        for shard in sorted(shards):
            if not os.path.exists(os.path.join(path, shard)):
                raise error(os.path.join(path, shard), f"missing (listed in {index})")
    for name in sorted(os.listdir(path)):
        if name.endswith(".safetensors"):
            check_safetensors(os.path.join(path, name), error)


def check_dataset_dir(path) -> bool:
    """Whether `path` holds a saved DatasetDict, every file of it whole.

    False when there is nothing there yet (no folder, or an empty one: build it). A folder
    that holds files but no `dataset_dict.json` is an error, not a place to build over.
    """
    path = os.fspath(path)
    index = os.path.join(path, "dataset_dict.json")
    if not os.path.exists(index):
        if not os.path.isdir(path) or not os.listdir(path):
            return False
        raise DatasetFileError(index, "missing, but the folder holds other files "
                               f"({', '.join(sorted(os.listdir(path))[:5])}); not building a new dataset over them")
    splits = check_json(index, DatasetFileError).get("splits")
    if not (isinstance(splits, list) and splits and all(isinstance(s, str) for s in splits)):
        raise DatasetFileError(index, 'expected {"splits": ["train", ...]}: the file is garbled')
    for split in splits:
        folder = os.path.join(path, split)
        state = check_json(os.path.join(folder, "state.json"), DatasetFileError)
        files = state.get("_data_files")
        if not (isinstance(files, list) and files and all(isinstance(f, dict) and isinstance(f.get("filename"), str)
                                                          for f in files)):
            raise DatasetFileError(os.path.join(folder, "state.json"), "no _data_files list: the file is garbled")
        check_json(os.path.join(folder, "dataset_info.json"), DatasetFileError)
        for f in files:
            check_arrow_stream(os.path.join(folder, f["filename"]), DatasetFileError)
    return True


def check_checkpoint_dir(path) -> None:
    """A Trainer checkpoint folder: its state, weights and optimizer files are all whole."""
    path = os.fspath(path)
    if not os.path.isdir(path):
        raise CheckpointFileError(path, "no checkpoint folder there")
    check_json(os.path.join(path, "trainer_state.json"), CheckpointFileError)
    names = os.listdir(path)
    if not any(n.endswith(".safetensors") for n in names):
        raise CheckpointFileError(os.path.join(path, "model.safetensors"), "missing: the checkpoint has no weights")
    check_model_dir(path, CheckpointFileError)
    for name in sorted(names):
        if name in CHECKPOINT_ZIPS or (name.startswith("rng_state") and name.endswith(".pth")):
            check_zip(os.path.join(path, name), CheckpointFileError)
