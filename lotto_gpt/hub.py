"""Share a trained model on the Hugging Face Hub: exactly the folder that goes up, then the upload.

    folder = prepare_push_folder("outputs/cpu", "/tmp/push")      # look before you push
    push("outputs/cpu", "owner/lotto-gpt")                        # or: lotto-gpt push --model ... --repo_id ...

The folder holds only what a user needs, from an allowlist: the safetensors weights, the
config and generation config, the tokenizer files, the judge metric (`metrics/lotto_judge/`,
loadable with `evaluate.load(<folder>/metrics/lotto_judge)`), `README.md` (the model card:
`model_card.md` rendered with `huggingface_hub.ModelCard`, with model-index metadata from the
latest `eval_results.json`) and that `eval_results.json`. Never checkpoints, optimizer states,
`training_args.bin` or any other pickle: a folder with pickle weights only is refused.
"""
from __future__ import annotations

import json
import os
import shutil
import struct
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TEMPLATE = "model_card.md"
METRIC = Path("metrics") / "lotto_judge"

MODEL_FILES = (
    "config.json", "generation_config.json", "model.safetensors", "model.safetensors.index.json",
    "tokenizer.json", "tokenizer_config.json", "special_tokens_map.json", "added_tokens.json",
    "chat_template.jinja", "vocab.json", "merges.txt",
)
EXTRA_FILES = ("train_summary.json", "training_curve.png", "selection.json")  # selection: train.py --parallel_seeds
PICKLE_SUFFIXES = (".bin", ".pt", ".pth", ".ckpt", ".pkl", ".pickle", ".pyc")

BLOG_OK_RATE, BLOG_SESSIONS = 0.460, 5000
SUITE_MONEY = {"small": 20, "large": 100}  # most tickets per suite (eval.py SUITES)
FAILURE_KEYS = (
    "ticket_count_parse_error", "ticket_lines_format_error", "result_labels_parse_error",
    "ticket_count_mismatch", "ticket_numbers_invalid", "match_stats_mismatch", "roi_mismatch",
    "input_handling_mismatch", "test_fail",
)
DATASET_TYPE = "synthetic-lotto-sessions"
DATASET_NAME = "Synthetic lotto console sessions (eval.py suite)"


def _find(relative: Path | str, given=None) -> Path:
    """A repository file: the given path, next to the package (a source checkout), or under the cwd."""
    candidates = [Path(given)] if given else [ROOT / relative, Path.cwd() / relative]
    for path in candidates:
        if path.exists():
            return path
    raise FileNotFoundError(f"{relative} not found (looked in {', '.join(map(str, candidates))}); "
                            "run from a lotto-gpt source checkout")


# ---------------------------------------------------------------- what the model folder holds

def _weight_files(model_dir: Path) -> list[str]:
    names = {p.name for p in model_dir.iterdir() if p.is_file()}
    if "model.safetensors.index.json" in names:
        index = json.loads((model_dir / "model.safetensors.index.json").read_text())
        return sorted(set(index["weight_map"].values())) + ["model.safetensors.index.json"]
    if "model.safetensors" in names:
        return ["model.safetensors"]
    pickles = sorted(n for n in names if n.endswith(PICKLE_SUFFIXES) and n != "training_args.bin")
    if pickles:
        raise ValueError(f"{model_dir} holds only pickle weights ({', '.join(pickles)}); only safetensors are "
                         "pushed. Re-save the model with save_pretrained() (safetensors by default).")
    raise FileNotFoundError(f"{model_dir} has no model.safetensors: not a trained model folder")


def count_parameters(model_dir: Path) -> int:
    """Parameters from the safetensors headers (no torch needed); tied weights are stored once."""
    total = 0
    for name in _weight_files(model_dir):
        if not name.endswith(".safetensors"):
            continue
        with open(model_dir / name, "rb") as fh:
            (size,) = struct.unpack("<Q", fh.read(8))
            header = json.loads(fh.read(size))
        for key, info in header.items():
            if key != "__metadata__":
                n = 1
                for d in info["shape"]:
                    n *= d
                total += n
    return total


def find_eval_results(model_dir: Path) -> Path | None:
    """The newest eval_results.json inside the model folder, or None. Checkpoints and the per-seed runs
    of `train.py --parallel_seeds` (`seed-S/`, whose `selection/` evals only chose the model) are left out."""
    found = [p for p in Path(model_dir).rglob("eval_results.json")
             if not any(part.startswith(("checkpoint-", "seed-")) for part in p.relative_to(model_dir).parts)]
    return max(found, key=lambda p: p.stat().st_mtime) if found else None


def _load_eval_results(model_dir: Path, eval_results) -> tuple[dict | None, Path | None]:
    if eval_results is None:
        path = find_eval_results(model_dir)
    elif isinstance(eval_results, dict):
        return eval_results, None
    else:
        path = Path(eval_results)
        if path.is_dir():
            path = path / "eval_results.json"
        if not path.is_file():
            raise FileNotFoundError(f"no eval results at {path}")
    if path is None:
        return None, None
    return json.loads(path.read_text(encoding="utf-8")), path


# ---------------------------------------------------------------- the card

def _pct(x) -> str:
    return "n/a" if x is None else f"{100 * x:.1f}%"


def _suite_rows(results: dict) -> list[dict]:
    rows = []
    cfg = results.get("config") or {}
    for name, res in (results.get("suites") or {}).items():
        s = res["summary"]
        tickets = cfg.get("max_tickets") or SUITE_MONEY.get(name)
        fid = res.get("fidelity") or {}
        p = fid.get("number_chi2_p")
        rows.append({
            "name": name,
            "money_range": f"1,000..{tickets * 1000:,} won" if tickets else "",
            "n_total": s["n_total"],
            "ok_rate": _pct(s.get("ok_rate")),
            "exact_console_rate": _pct(s.get("exact_console_rate")),
            "format_ok_rate": _pct(s.get("format_ok_rate")),
            "bad_input_accuracy": _pct(s.get("bad_input_accuracy")),
            "uniform": "n/a" if "numbers_uniform" not in fid else
                       ("yes" if fid["numbers_uniform"] else "no") + (f" (p={p:.3g})" if p is not None else ""),
            "ranks": "n/a" if "rank_test_ok" not in fid else ("yes" if fid["rank_test_ok"] else "no"),
            "bad_share": _pct(cfg["bad_input_share"]) if cfg.get("bad_input_share") and results.get("format") != "seed" else None,
            "summary": {k: s.get(k, 0) for k in FAILURE_KEYS},
            "raw": s,
            "config": cfg,
        })
    return rows


def eval_results_entries(results: dict | None, model_name: str):
    """huggingface_hub EvalResult entries (model-index) for each suite of an eval_results.json."""
    from huggingface_hub import EvalResult

    if not results:
        return None
    entries = []
    cfg = results.get("config") or {}
    metrics = [
        ("accuracy", "Fully correct session rate", "ok_rate"),
        ("exact_match", "Exact console output rate", "exact_console_rate"),
        ("accuracy", "Format correct rate", "format_ok_rate"),
        ("accuracy", "Bad input handling accuracy", "bad_input_accuracy"),
    ]
    for name, res in (results.get("suites") or {}).items():
        s = res["summary"]
        for metric_type, metric_name, key in metrics:
            value = s.get(key)
            if value is None:
                continue
            entries.append(EvalResult(
                task_type="text-generation", task_name="Lotto console program",
                dataset_type=DATASET_TYPE, dataset_name=DATASET_NAME, dataset_config=name, dataset_split="test",
                dataset_args={"num_sessions": s["n_total"], "seed": cfg.get("seed", 0),
                              "bad_input_share": cfg.get("bad_input_share")},
                metric_type=metric_type, metric_name=metric_name, metric_value=round(float(value), 4),
            ))
    return entries or None


def render_card(model_dir, repo_id: str | None = None, eval_results=None, template_path=None):
    """The model card (huggingface_hub ModelCard) for a model folder and its evaluation."""
    from huggingface_hub import ModelCard, ModelCardData

    model_dir = Path(model_dir)
    config = json.loads((model_dir / "config.json").read_text())
    train = None
    if (model_dir / "train_summary.json").is_file():
        train = json.loads((model_dir / "train_summary.json").read_text())
    selection = None
    if (model_dir / "selection.json").is_file():  # the seed kept among runs side by side, and why
        selection = json.loads((model_dir / "selection.json").read_text())
        selection["scores"] = ", ".join(f"seed {seed} {_pct(rate)}" for seed, rate in selection["ok_rate"].items())
    results, _ = _load_eval_results(model_dir, eval_results)
    model_name = (repo_id or model_dir.resolve().name).split("/")[-1]
    suites = _suite_rows(results) if results else []
    blog_row = next((r for r in suites if r["name"] == "small"), None)
    card_data = ModelCardData(
        language=["ko"],
        library_name="transformers",
        pipeline_tag="text-generation",
        tags=["lotto", "woowa-tech-course", "tiny-gpt", "from-scratch", "console-program", "safetensors"],
        model_name=model_name,
        eval_results=eval_results_entries(results, model_name),
    )
    params = count_parameters(model_dir)
    return ModelCard.from_template(
        card_data,
        template_path=str(_find(TEMPLATE, template_path)),
        model_name=model_name,
        repo_id=repo_id or "owner/" + model_name,
        arch=(config.get("architectures") or [config.get("model_type", "?")])[0],
        model_type=config.get("model_type", "?"),
        parameters=f"{params:,}",
        n_layer=config.get("num_hidden_layers", config.get("n_layer", "?")),
        n_embd=config.get("hidden_size", config.get("n_embd", "?")),
        fmt=config.get("lotto_format", "transcript"),
        train=train,
        selection=selection,
        suites=suites,
        failures=bool(suites),
        failure_keys=FAILURE_KEYS,
        blog_row=blog_row,
        has_eval_file=results is not None,
    )


# ---------------------------------------------------------------- the folder and the push

def prepare_push_folder(model_dir, out_dir, eval_results=None, repo_id: str | None = None,
                        metric_dir=None, template_path=None) -> Path:
    """Assemble in `out_dir` (new or empty) exactly what `push` uploads; returns its path.

    `eval_results`: an eval_results.json path (or its folder, or the loaded dict); default:
    the newest eval_results.json inside `model_dir`.
    """
    model_dir, out = Path(model_dir), Path(out_dir)
    if not model_dir.is_dir():
        raise FileNotFoundError(f"no model folder at {model_dir}")
    if not (model_dir / "config.json").is_file():
        raise FileNotFoundError(f"{model_dir} has no config.json: not a trained model folder")
    weights = _weight_files(model_dir)
    if not (model_dir / "tokenizer.json").is_file() and not (model_dir / "tokenizer_config.json").is_file():
        raise FileNotFoundError(f"{model_dir} has no tokenizer files (tokenizer.json)")
    if out.exists() and any(out.iterdir()):
        raise FileExistsError(f"{out} is not empty")
    out.mkdir(parents=True, exist_ok=True)

    for name in dict.fromkeys(weights + list(MODEL_FILES) + list(EXTRA_FILES)):
        src = model_dir / name
        if src.is_file():
            shutil.copy2(src, out / name)
    metric_src = _find(METRIC, metric_dir)
    shutil.copytree(metric_src, out / METRIC, ignore=shutil.ignore_patterns("__pycache__", "*.pyc", ".*"))

    results, _ = _load_eval_results(model_dir, eval_results)
    if results is not None:
        (out / "eval_results.json").write_text(json.dumps(results, ensure_ascii=False, indent=2), encoding="utf-8")
    card = render_card(model_dir, repo_id=repo_id, eval_results=results, template_path=template_path)
    card.save(out / "README.md")

    bad = [p for p in out.rglob("*") if p.is_file() and p.name.endswith(PICKLE_SUFFIXES)]
    if bad:  # cannot happen with the allowlist above; kept as the last guard
        raise RuntimeError(f"refusing to push pickle files: {bad}")
    return out


def push(model_dir, repo_id: str, private: bool | None = False, token: str | None = None, eval_results=None,
         commit_message: str = "Upload lotto-gpt model", metric_dir=None, template_path=None) -> str:
    """Create the repo if needed and upload `prepare_push_folder`'s folder. Returns the commit URL."""
    from huggingface_hub import HfApi

    api = HfApi(token=token)
    url = api.create_repo(repo_id, private=private, exist_ok=True, repo_type="model")
    repo_id = getattr(url, "repo_id", None) if isinstance(getattr(url, "repo_id", None), str) else repo_id
    with tempfile.TemporaryDirectory(prefix="lotto-gpt-push-") as tmp:
        folder = prepare_push_folder(model_dir, os.path.join(tmp, "upload"), eval_results=eval_results,
                                     repo_id=repo_id, metric_dir=metric_dir, template_path=template_path)
        info = api.upload_folder(repo_id=repo_id, folder_path=str(folder), repo_type="model",
                                 commit_message=commit_message)
    commit_url = getattr(info, "commit_url", None)
    return commit_url if isinstance(commit_url, str) else f"https://huggingface.co/{repo_id}"
