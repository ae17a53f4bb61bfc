"""Build the synthetic lotto sessions as a Hugging Face `DatasetDict` and save it to disk.

    python data_scripts/build_dataset.py                                  # data/transcript: 100k/500/500
    python data_scripts/build_dataset.py --format seed --max_money 20000 --small_share 1.0
    python data_scripts/build_dataset.py --output_dir data/transcript --overwrite
    python data_scripts/build_dataset.py --push_to_hub --hub_dataset_id you/lotto-sessions

The data is a pure function of the flags (sizes, seed and the sampling options): the same
flags give the same rows and the same `datasets` fingerprints, whatever `--num_proc`.

An existing, non-empty `--output_dir` is never touched unless `--overwrite` is given; even
then the new dataset is written to a temporary folder next to it and swapped in only after
it was saved completely, so a failed or interrupted build leaves the old one intact.
"""
from __future__ import annotations

import json
import os
import shutil
import sys
import tempfile
import time
from dataclasses import dataclass, field

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from transformers import HfArgumentParser  # noqa: E402

from lotto_gpt.data import BUILD_INFO, DATA_VERSION, DataConfig, build_dataset_dict, build_info, config_problems  # noqa: E402


@dataclass
class BuildArguments:
    output_dir: str | None = field(
        default=None, metadata={"help": "folder to save the DatasetDict in (None: data/<format>)"}
    )
    train_size: int = field(default=100_000, metadata={"help": "sessions in the train split"})
    validation_size: int = field(default=500, metadata={"help": "sessions in the validation split"})
    test_size: int = field(default=500, metadata={"help": "sessions in the test split (0: no test split)"})
    seed: int = field(
        default=0, metadata={"help": "data seed: row i of split s is drawn from Random(f'{seed}/{s}/{i}')"}
    )
    num_proc: int = field(
        default=2, metadata={"help": "worker processes (splits under 1,000 rows use one); never changes the data"}
    )
    overwrite: bool = field(
        default=False,
        metadata={"help": "replace a non-empty output_dir (the new data is built aside and swapped in on success)"},
    )
    push_to_hub: bool = field(default=False, metadata={"help": "also upload the dataset to the Hub"})
    hub_dataset_id: str | None = field(
        default=None, metadata={"help": "Hub dataset repo 'owner/name' (required with --push_to_hub)"}
    )
    hub_private: bool = field(default=False, metadata={"help": "create the Hub repo as private"})


def make_parser() -> HfArgumentParser:
    parser = HfArgumentParser(
        (DataConfig, BuildArguments),
        description="Build the synthetic lotto console sessions as a Hugging Face DatasetDict "
        "(train/validation/test) and save it with save_to_disk.",
        epilog="Money flags are in won and must be multiples of 1,000 within 1,000..100,000; "
        "share flags are fractions in 0..1. The seed format holds no bad inputs "
        "(bad_input_share and variant_share are ignored there).",
    )
    return parser


def validate(parser, cfg: DataConfig, args: BuildArguments) -> None:
    """Usage errors (exit code 2, argparse's message), never a traceback."""
    problems = config_problems(cfg)
    for name in ("train_size", "validation_size", "test_size"):
        if getattr(args, name) < 0:
            problems.append(f"--{name} must be >= 0 (got {getattr(args, name)})")
    if args.train_size < 1:
        problems.append("--train_size must be at least 1")
    if args.num_proc < 1:
        problems.append(f"--num_proc must be >= 1 (got {args.num_proc})")
    if args.push_to_hub and not args.hub_dataset_id:
        problems.append("--push_to_hub needs --hub_dataset_id owner/name")
    output_dir = args.output_dir or os.path.join("data", cfg.format)
    if os.path.exists(output_dir) and not os.path.isdir(output_dir):
        problems.append(f"--output_dir {output_dir} exists and is not a folder")
    elif _non_empty(output_dir) and not args.overwrite:
        problems.append(
            f"--output_dir {output_dir} already holds data; refusing to overwrite it "
            "(pass --overwrite to replace it, or choose another --output_dir)"
        )
    if problems:
        parser.error("; ".join(problems))


def _non_empty(path: str) -> bool:
    return os.path.isdir(path) and bool(os.listdir(path))


def sizes_of(args: BuildArguments) -> dict[str, int]:
    sizes = {"train": args.train_size, "validation": args.validation_size, "test": args.test_size}
    return {split: n for split, n in sizes.items() if n > 0}


def save_safely(dataset_dict, output_dir: str, info: dict) -> None:
    """Save into a fresh folder next to `output_dir`, then swap it in; the old data goes last."""
    output_dir = os.path.abspath(output_dir)
    parent, name = os.path.split(output_dir)
    os.makedirs(parent, exist_ok=True)
    staging = tempfile.mkdtemp(prefix=f".{name}.building-", dir=parent)
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(staging, 0o777 & ~umask)  # mkdtemp makes it private; the dataset folder should not be
    try:
        dataset_dict.save_to_disk(staging)
        with open(os.path.join(staging, BUILD_INFO), "w") as f:
            json.dump(info, f, indent=2)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    old = None
    if os.path.exists(output_dir):
        old = tempfile.mkdtemp(prefix=f".{name}.old-", dir=parent)
        os.rmdir(old)
        os.rename(output_dir, old)
    try:
        os.rename(staging, output_dir)
    except BaseException:
        if old is not None:
            os.rename(old, output_dir)  # put the old data back
        shutil.rmtree(staging, ignore_errors=True)
        raise
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


def build(cfg: DataConfig, args: BuildArguments):
    return build_dataset_dict(sizes_of(args), args.seed, cfg, args.num_proc)


def main(argv=None) -> str:
    parser = make_parser()
    cfg, args, unknown = parser.parse_args_into_dataclasses(
        sys.argv[1:] if argv is None else list(argv), return_remaining_strings=True
    )
    if unknown:
        parser.error(f"unrecognized arguments: {' '.join(unknown)}")
    validate(parser, cfg, args)
    output_dir = args.output_dir or os.path.join("data", cfg.format)

    started = time.monotonic()
    dataset_dict = build(cfg, args)
    built = time.monotonic() - started
    info = build_info(dataset_dict, args.seed, cfg, build_seconds=round(built, 2), num_proc=args.num_proc)
    save_safely(dataset_dict, output_dir, info)
    print(f"built {built:.1f} s, saved {time.monotonic() - started:.1f} s: "
          + ", ".join(f"{split} {len(ds):,}" for split, ds in dataset_dict.items()) + f" -> {output_dir}")

    if args.push_to_hub:
        dataset_dict.push_to_hub(
            args.hub_dataset_id, private=args.hub_private,
            commit_message=f"lotto sessions: seed {args.seed}, format {cfg.format}, data v{DATA_VERSION}",
        )
        print(f"pushed to https://huggingface.co/datasets/{args.hub_dataset_id}")
    return output_dir


if __name__ == "__main__":
    main()
