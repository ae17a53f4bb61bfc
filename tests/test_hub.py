"""Sharing on the Hub, offline: the exact folder that would be uploaded, the push calls (HfApi
patched on the class), `train.py --push_to_hub`, the judge metric inside the folder, and loading
"owner/name" from a populated HF cache with HF_HUB_OFFLINE=1 (LottoMachine and pipeline).
"""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest
from conftest import save_tiny_model
from huggingface_hub import HfApi, ModelCard

from lotto_gpt import cli, hub

ROOT = Path(__file__).resolve().parents[1]
MODEL_FILES = {"config.json", "generation_config.json", "model.safetensors", "tokenizer.json", "tokenizer_config.json"}
PUSHED = MODEL_FILES | {"README.md", "metrics/lotto_judge/lotto_judge.py"}


def suite(ok, n, exact, bad):
    return {"summary": {"n_total": n, "n_ok": round(ok * n), "ok_rate": ok, "format_ok_rate": 0.99,
                        "exact_console_rate": exact, "bad_input_accuracy": bad, "roi_mismatch": 3},
            "fidelity": {"numbers_uniform": True, "number_chi2_p": 0.41, "rank_test_ok": True}}


EVAL = {"model": "m", "format": "transcript", "config": {"seed": 0, "bad_input_share": 0.2, "max_tickets": None},
        "suites": {"small": suite(0.8123, 5000, 0.801, 0.95), "large": suite(0.5, 1000, 0.49, None)}}


@pytest.fixture(scope="module")
def tiny_model(tmp_path_factory):
    """A tiny random model folder as train.py leaves it, with the litter a push must leave out."""
    path = tmp_path_factory.mktemp("model")
    save_tiny_model(path)
    return path


@pytest.fixture
def trained_dir(tiny_model, tmp_path):
    path = tmp_path / "trained"
    shutil.copytree(tiny_model, path)
    for junk in ["checkpoint-10/optimizer.pt", "checkpoint-10/model.safetensors", "runs/events.out.tfevents.1",
                 "training_args.bin", "pytorch_model.bin", "trainer_state.json", "eval_old/sessions_small.jsonl"]:
        (path / junk).parent.mkdir(parents=True, exist_ok=True)
        (path / junk).write_bytes(b"\x80\x04junk")
    (path / "train_summary.json").write_text(json.dumps(
        {"preset": "cpu", "train_minutes": 24.5, "global_step": 1500, "train_loss": 0.0123, "world_size": 1,
         "tokenizer": "lotto_thousands", "fold_other_chars": True}))
    (path / "eval_old").mkdir(exist_ok=True)
    old = json.loads(json.dumps(EVAL))
    old["suites"]["small"]["summary"]["ok_rate"] = 0.1
    (path / "eval_old" / "eval_results.json").write_text(json.dumps(old))
    (path / "eval").mkdir()
    (path / "eval" / "eval_results.json").write_text(json.dumps(EVAL))
    os.utime(path / "eval_old" / "eval_results.json", (time.time() - 100, time.time() - 100))
    # a checkpoint's eval results never count, however new
    (path / "checkpoint-10" / "eval_results.json").write_text(json.dumps(old))
    return path


def files(folder: Path) -> set[str]:
    return {p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file()}


def model_index(card_path: Path) -> dict:
    card = ModelCard.load(card_path)
    return {(r.dataset_config, r.metric_name): r.metric_value for r in card.data.eval_results or []}


# ---------------------------------------------------------------- the folder

def test_push_folder_holds_exactly_what_a_user_needs(trained_dir, tmp_path):
    out = hub.prepare_push_folder(trained_dir, tmp_path / "up", repo_id="me/lotto-gpt")
    extra = {"eval_results.json", "train_summary.json"} | ({"metrics/lotto_judge/README.md"}
                                                         if (ROOT / "metrics/lotto_judge/README.md").exists() else set())
    assert files(out) == PUSHED | extra
    assert not any(name.endswith((".bin", ".pt", ".pth", ".pkl")) for name in files(out))
    assert json.loads((out / "eval_results.json").read_text()) == EVAL  # the newest, not eval_old's
    assert (out / "model.safetensors").read_bytes() == (trained_dir / "model.safetensors").read_bytes()

    readme = (out / "README.md").read_text()
    assert readme.startswith("---\n") and "model-index:" in readme and "pipeline_tag: text-generation" in readme
    card = ModelCard.load(out / "README.md")
    assert card.data.model_name == "lotto-gpt" and card.data.library_name == "transformers"
    results = card.data.eval_results
    assert {r.task_type for r in results} == {"text-generation"}
    assert {r.dataset_type for r in results} == {"synthetic-lotto-sessions"}
    assert model_index(out / "README.md") == {
        ("small", "Fully correct session rate"): 0.8123, ("small", "Exact console output rate"): 0.801,
        ("small", "Format correct rate"): 0.99, ("small", "Bad input handling accuracy"): 0.95,
        ("large", "Fully correct session rate"): 0.5, ("large", "Exact console output rate"): 0.49,
        ("large", "Format correct rate"): 0.99,
    }
    # the text: the results table, the blog's number, use and limits, the metric
    assert "| small (1,000..20,000 won) | 5000 | **81.2%** | 80.1% | 99.0% | 95.0% | yes (p=0.41) | yes |" in readme
    assert "| large (1,000..100,000 won) | 1000 | **50.0%** |" in readme
    assert "**46.0% fully correct on 5,000 tests**" in readme and "This model: **81.2%** fully correct" in readme
    assert "## Intended use" in readme and "## Limits" in readme
    assert 'LottoMachine.from_pretrained("me/lotto-gpt")' in readme and "/metrics/lotto_judge" in readme
    assert "1500 optimizer steps in 24.5 minutes" in readme
    assert "tokenizer `lotto_thousands` with every typed character outside printable ASCII as one token" in readme
    assert "{{" not in readme and "{%" not in readme


def test_the_selection_evals_of_parallel_seeds_are_not_the_models_results(tiny_model, tmp_path):
    folder = tmp_path / "model"
    shutil.copytree(tiny_model, folder)
    selection = folder / "seed-1" / "selection"
    selection.mkdir(parents=True)
    (selection / "eval_results.json").write_text(json.dumps(EVAL))  # what train.py --parallel_seeds leaves
    assert hub.find_eval_results(folder) is None
    (folder / "eval_out").mkdir()
    (folder / "eval_out" / "eval_results.json").write_text(json.dumps(EVAL))
    assert hub.find_eval_results(folder) == folder / "eval_out" / "eval_results.json"


def test_a_model_kept_among_parallel_seeds_says_so_in_its_card_and_ships_the_choice(trained_dir, tmp_path):
    choice = {"chosen_seed": 6, "ok_rate": {"6": 0.735, "7": 0.59}, "selection_sessions": 200, "suite": "small",
              "suite_seed": 7919, "runs": {"6": "seed-6", "7": "seed-7"}}
    (trained_dir / "selection.json").write_text(json.dumps(choice))  # what train.py --parallel_seeds writes
    out = hub.prepare_push_folder(trained_dir, tmp_path / "up", repo_id="me/lotto-gpt")
    assert json.loads((out / "selection.json").read_text()) == choice
    readme = " ".join((out / "README.md").read_text().split())
    assert "This is seed 6 of 2 runs trained side by side" in readme
    assert "200 sessions of a selection suite of its own (`eval.py --seed 7919`" in readme
    assert "seed 6 73.5%, seed 7 59.0% fully right" in readme


def test_card_without_eval_results_has_no_model_index(tiny_model, tmp_path):
    out = hub.prepare_push_folder(tiny_model, tmp_path / "up")
    assert files(out) == PUSHED | ({"metrics/lotto_judge/README.md"}
                                   if (ROOT / "metrics/lotto_judge/README.md").exists() else set())
    readme = (out / "README.md").read_text()
    assert "model-index:" not in readme and "Not evaluated yet" in readme
    assert ModelCard.load(out / "README.md").data.pipeline_tag == "text-generation"


def test_given_eval_results_win_and_bad_folders_are_refused(trained_dir, tiny_model, tmp_path):
    given = json.loads(json.dumps(EVAL))
    given["suites"] = {"small": suite(0.25, 40, 0.2, None)}
    path = tmp_path / "given.json"
    path.write_text(json.dumps(given))
    out = hub.prepare_push_folder(trained_dir, tmp_path / "up", eval_results=str(path))
    assert model_index(out / "README.md")[("small", "Fully correct session rate")] == 0.25
    with pytest.raises(FileExistsError):
        hub.prepare_push_folder(trained_dir, out)
    pickled = tmp_path / "pickled"
    pickled.mkdir()
    shutil.copy(tiny_model / "config.json", pickled)
    (pickled / "pytorch_model.bin").write_bytes(b"\x80\x04")
    with pytest.raises(ValueError, match="only pickle weights"):
        hub.prepare_push_folder(pickled, tmp_path / "up2")
    with pytest.raises(FileNotFoundError):
        hub.prepare_push_folder(tmp_path / "missing", tmp_path / "up3")


def test_metric_in_the_push_folder_loads_with_evaluate(tiny_model, tmp_path, monkeypatch):
    import evaluate

    from lotto_gpt import rules
    from lotto_gpt.formats import transcript

    out = hub.prepare_push_folder(tiny_model, tmp_path / "up")
    metric = evaluate.load(str(out / "metrics" / "lotto_judge"))
    lines = ["2000", "1,2,3,4,5,6", "7"]
    text = transcript.to_text(rules.play(lines, seed=3))
    ref = json.dumps({"format": "transcript", "lines": lines})
    result = metric.compute(predictions=[text, text.replace("총 수익률", "수익률")], references=[ref, ref])
    assert result["n_total"] == 2 and result["n_ok"] == 1


# ---------------------------------------------------------------- the push

@pytest.fixture
def fake_hub(monkeypatch):
    """HfApi.create_repo / upload_folder patched on the class: records calls and the uploaded folder."""
    calls = {"create_repo": [], "upload_folder": []}

    def create_repo(self, repo_id, **kwargs):
        calls["create_repo"].append({"repo_id": repo_id, **kwargs})

        class Url(str):
            pass

        url = Url(f"https://huggingface.co/{repo_id}")
        url.repo_id = repo_id
        return url

    def upload_folder(self, *, repo_id, folder_path, **kwargs):
        folder = Path(folder_path)
        calls["upload_folder"].append({"repo_id": repo_id, "files": files(folder),
                                       "readme": (folder / "README.md").read_text(), **kwargs})

        class Info:
            commit_url = f"https://huggingface.co/{repo_id}/commit/abc"

        return Info()

    monkeypatch.setattr(HfApi, "create_repo", create_repo)
    monkeypatch.setattr(HfApi, "upload_folder", upload_folder)
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    return calls


def test_push_creates_the_repo_and_uploads_the_folder(trained_dir, fake_hub):
    url = hub.push(trained_dir, "me/lotto-gpt", private=True, token="hf_x")
    assert url == "https://huggingface.co/me/lotto-gpt/commit/abc"
    assert fake_hub["create_repo"] == [{"repo_id": "me/lotto-gpt", "private": True, "exist_ok": True,
                                        "repo_type": "model"}]
    (up,) = fake_hub["upload_folder"]
    assert up["repo_id"] == "me/lotto-gpt" and up["repo_type"] == "model"
    assert PUSHED | {"eval_results.json", "train_summary.json"} <= up["files"]
    assert not any(f.startswith(("checkpoint-", "runs/", "eval")) and f != "eval_results.json" for f in up["files"])
    assert "training_args.bin" not in up["files"] and "pytorch_model.bin" not in up["files"]
    assert "value: 0.8123" in up["readme"]


def test_cli_push_and_dry_run(trained_dir, fake_hub, tmp_path, capsys):
    assert cli.main(["push", "--model", str(trained_dir), "--dry_run", str(tmp_path / "dry")]) == 0
    listed = capsys.readouterr().out.split()
    assert set(listed) == files(tmp_path / "dry") and "README.md" in listed
    assert fake_hub["upload_folder"] == []
    assert cli.main(["push", "--model", str(trained_dir), "--repo_id", "me/x"]) == 0
    assert capsys.readouterr().out.strip() == "https://huggingface.co/me/x/commit/abc"
    assert cli.main(["push", "--model", str(tmp_path / "nothing"), "--repo_id", "me/x"]) == 1
    assert "no model folder" in capsys.readouterr().err


def test_train_script_push_to_hub_goes_through_the_same_path(tmp_path, fake_hub, monkeypatch):
    monkeypatch.syspath_prepend(str(ROOT))
    import train

    out = tmp_path / "out"
    train.main([
        "--n_layer", "1", "--n_embd", "32", "--n_head", "2", "--n_positions", "1024", "--max_money", "3000",
        "--small_share", "1.0", "--train_size", "8", "--eval_size", "2", "--build_num_proc", "1",
        "--report_to", "none", "--use_cpu", "--disable_tqdm", "true", "--max_steps", "1", "--parallel_seeds", "1",
        "--per_device_train_batch_size", "2", "--save_steps", "1", "--eval_strategy", "no", "--curriculum_samples", "0",
        "--dataset_dir", str(tmp_path / "data"), "--output_dir", str(out),
        "--push_to_hub", "--hub_model_id", "me/trained",
    ])
    assert [c["repo_id"] for c in fake_hub["create_repo"]] == ["me/trained"]  # once: not at start, not per checkpoint
    (up,) = fake_hub["upload_folder"]
    assert up["repo_id"] == "me/trained"
    assert MODEL_FILES | {"README.md", "metrics/lotto_judge/lotto_judge.py", "train_summary.json"} <= up["files"]
    assert not any(f.startswith("checkpoint-") or f.endswith((".bin", ".pt", ".pth")) for f in up["files"])
    assert (out / "checkpoint-1").is_dir()  # the checkpoints exist locally, they just do not go up


# ---------------------------------------------------------------- loading "owner/name" from the HF cache

LOAD_SCRIPT = r"""
import json
from transformers import pipeline
from lotto_gpt import LottoMachine
m = LottoMachine.from_pretrained("owner/name")
play = m.play(["1000", "1,2,3,4,5,6", "7"], seed=0)
gen = pipeline("text-generation", model="owner/name")
stop = [gen.tokenizer.eos_token_id, gen.tokenizer.convert_tokens_to_ids("<in>")]  # as in the README
text = gen("구입금액을 입력해 주세요.\n<in>1000\n", eos_token_id=stop, max_new_tokens=8, return_full_text=False)
print(json.dumps({"fmt": m.fmt, "stdout": play.stdout[:20], "gen": type(text[0]["generated_text"]).__name__,
                  "pipe_model": gen.model.config.model_type}))
"""


def test_owner_name_loads_offline_from_a_populated_hf_cache(tiny_model, tmp_path):
    """The pushed folder, laid out as the Hub cache holds a download, loads by id with no network."""
    folder = hub.prepare_push_folder(tiny_model, tmp_path / "up", repo_id="owner/name")
    cache = tmp_path / "hf-cache"
    repo = cache / "models--owner--name"
    rev = "0123456789abcdef0123456789abcdef01234567"
    snapshot = repo / "snapshots" / rev
    for path in folder.rglob("*"):
        if path.is_file():
            blob = repo / "blobs" / f"{abs(hash(path.read_bytes())):x}"
            blob.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy(path, blob)
            link = snapshot / path.relative_to(folder)
            link.parent.mkdir(parents=True, exist_ok=True)
            link.symlink_to(os.path.relpath(blob, link.parent))
    (repo / "refs").mkdir()
    (repo / "refs" / "main").write_text(rev)

    env = dict(os.environ, HF_HUB_CACHE=str(cache), HF_HUB_OFFLINE="1", TRANSFORMERS_OFFLINE="1",
               PYTHONPATH=os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]),
               HF_HOME=str(tmp_path / "hf-home"), OMP_NUM_THREADS="1", TOKENIZERS_PARALLELISM="false")
    proc = subprocess.run([sys.executable, "-c", LOAD_SCRIPT], cwd=tmp_path, env=env, capture_output=True,
                          text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    assert (result["fmt"], result["gen"], result["pipe_model"]) == ("transcript", "str", "llama")
    assert isinstance(result["stdout"], str)  # the machine played (a random model: its text is garbage)
