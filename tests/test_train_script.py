"""`train.py` end to end, as real processes: artifacts, pipeline loading, resuming a killed
run, and two CPU processes (torchrun + gloo) agreeing with one.

Tiny models (1 block, 32 wide), short sessions (money up to 10,000) and a few dozen steps;
every process runs with one thread, so the numbers do not depend on the machine's load.
"""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch
from datasets import Dataset
from safetensors.torch import load_file

ROOT = Path(__file__).resolve().parents[1]
FIRST_TURN = "구입금액을 입력해 주세요.\n<in>"

TINY = [
    "--n_layer", "1", "--n_embd", "32", "--n_head", "2", "--n_positions", "1024",
    "--max_money", "10000", "--small_share", "1.0", "--train_size", "64", "--eval_size", "8",
    "--build_num_proc", "1", "--report_to", "none", "--use_cpu", "--disable_tqdm", "true",
    "--warmup_steps", "0", "--logging_steps", "1", "--parallel_seeds", "1",
]


def env():
    e = dict(os.environ)
    e.update(OMP_NUM_THREADS="1", HF_HUB_OFFLINE="1", TOKENIZERS_PARALLELISM="false", PYTHONUNBUFFERED="1")
    return e


def train_cmd(*args) -> list[str]:
    return [sys.executable, "train.py", *TINY, *map(str, args)]


def run(cmd, timeout=300) -> subprocess.CompletedProcess:
    proc = subprocess.run(cmd, cwd=ROOT, env=env(), capture_output=True, text=True, timeout=timeout)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-5000:]
    assert "Traceback" not in proc.stderr, proc.stderr[-5000:]
    return proc


def state(output_dir: Path) -> dict:
    return json.loads((output_dir / "trainer_state.json").read_text())


def logged(output_dir: Path, key: str) -> dict[int, float]:
    return {h["step"]: h[key] for h in state(output_dir)["log_history"] if key in h}


@pytest.fixture(scope="module")
def dataset_dir(tmp_path_factory):
    """The data every TINY run builds (same flags, same seed), built once for the module."""
    from lotto_gpt.data import DataConfig, build_dataset_dict

    path = tmp_path_factory.mktemp("data") / "transcript"
    cfg = DataConfig(max_money=10_000, small_share=1.0)
    build_dataset_dict({"train": 64, "validation": 8}, seed=0, cfg=cfg).save_to_disk(str(path))
    return path


# ---------------------------------------------------------------- artifacts and the pipeline

def test_train_builds_data_and_writes_a_loadable_model(tmp_path):
    data, out = tmp_path / "data", tmp_path / "out"
    # GPT-2 blocks (the card's model) learn the fixed first turn within 100 tiny steps (a 32-wide
    # model needs the full family offset to tell the ~800 tokens apart that fast)
    run(train_cmd("--dataset_dir", data, "--output_dir", out, "--arch", "gpt2", "--max_steps", 100,
                  "--learning_rate", "1e-2", "--per_device_train_batch_size", 8, "--eval_steps", 50,
                  "--save_steps", 50, "--logging_steps", 10, "--seed", 0, "--family_shift", 1.0,
                  "--fold_other_chars", "false"))  # junk as UTF-8 bytes, so that untrained byte tokens are filled

    assert (data / "dataset_dict.json").exists()  # the missing dataset was built
    from lotto_gpt.data import DATA_VERSION

    info = json.loads((data / "build_info.json").read_text())
    assert info["data_version"] == DATA_VERSION
    # the same record as the build script writes: sizes, config and each split's fingerprint
    assert set(info) >= {"seed", "sizes", "config", "fingerprints"}
    assert set(info["fingerprints"]) == set(info["sizes"]) == {"train", "validation"}
    for name in ["model.safetensors", "config.json", "tokenizer.json", "tokenizer_config.json",
                 "generation_config.json", "trainer_state.json", "training_curve.png", "train_summary.json"]:
        assert (out / name).is_file(), name
    assert (out / "training_curve.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"

    from transformers import AutoTokenizer, GenerationConfig

    tok = AutoTokenizer.from_pretrained(out)
    gen = GenerationConfig.from_pretrained(out)
    assert gen.eos_token_id == tok.eos_token_id and gen.pad_token_id == tok.pad_token_id
    assert gen.bos_token_id == tok.bos_token_id
    assert gen.max_new_tokens >= 3400  # a 100-ticket session with its work lines

    summary = json.loads((out / "train_summary.json").read_text())
    assert summary["global_step"] == 100 and summary["world_size"] == 1
    assert summary["model"]["arch"] == "gpt2" and summary["data"]["max_money"] == 10_000
    assert summary["lr_schedule"]["by_time"] is False and summary["lr_schedule"]["decay_fraction"] == 1.0
    # Cyrillic's lead byte is in no training row: saved with the mean of the byte tokens the rows hold
    filled = summary["unseen_byte_tokens"]
    assert "<0xD0>" in filled
    embedding = load_file(out / "model.safetensors")["transformer.wte.weight"]
    ids = tok.convert_tokens_to_ids(filled)
    assert all(torch.equal(embedding[i], embedding[ids[0]]) for i in ids)
    st = state(out)
    assert st["global_step"] == 100
    losses = logged(out, "loss")
    assert sorted(losses) == list(range(10, 101, 10))
    assert losses[100] < losses[10]  # it learned something
    assert sorted(logged(out, "eval_loss")) == [50, 100]
    assert all(f"loss_{k}" in h for h in st["log_history"] if "loss" in h for k in ("program", "tail"))

    from transformers import pipeline

    generate = pipeline("text-generation", model=str(out))
    # from BOS alone the model writes the program's first turn and waits for input
    first = generate("", max_new_tokens=3, do_sample=False, return_full_text=False)[0]["generated_text"]
    assert first == FIRST_TURN
    # after the first typed line it continues (a tiny model will not be right; it must run)
    prompt = FIRST_TURN + "8000\n"
    sampled = generate(prompt, max_new_tokens=20, return_full_text=False)[0]["generated_text"]
    assert isinstance(sampled, str) and sampled
    full = generate(prompt, max_new_tokens=5, do_sample=False)[0]["generated_text"]
    assert full.startswith(prompt) and len(full) > len(prompt)


def test_a_fitted_curriculum_is_timed_sized_and_recorded(tmp_path, dataset_dir):
    out = tmp_path / "out"
    proc = run(train_cmd("--dataset_dir", dataset_dir, "--output_dir", out, "--max_steps", 3, "--eval_strategy", "no",
                         "--per_device_train_batch_size", 4, "--curriculum_fit", "true", "--seed", 7))
    fit = json.loads((out / "curriculum_fit.json").read_text())
    assert fit["seconds_per_row"] > 0 and fit["max_rows"] == 3 * 4
    from datasets import load_from_disk

    parts = load_from_disk(str(dataset_dir))["train"]["part"]
    assert fit["spread_rows"] == sum(part != "session" for part in parts)
    assert fit["samples"] == 1000  # 12 rows at most (--max_steps), rounded up to one grain
    summary = json.loads((out / "train_summary.json").read_text())
    assert summary["curriculum"]["samples"] == 1000 and summary["curriculum"]["fit"] == fit
    assert (summary["curriculum"]["seed"], summary["curriculum"]["batch"]) == (7, 4)  # curriculum_reach replays from them
    assert "curriculum fitted to this machine: 1,000 rows" in proc.stdout


# ---------------------------------------------------------------- resume after SIGKILL

def _complete_checkpoints(output_dir: Path) -> list[Path]:
    """Checkpoints whose trainer_state.json (the last file the Trainer writes) is whole and whose weight
    average (written after it) exists: a file that only exists may still be being written (a kill there
    left it empty, and the resume rightly refused it)."""
    def whole(path: Path) -> bool:
        try:
            json.loads(path.read_text())
            return True
        except (OSError, ValueError):
            return False

    found = [p for p in output_dir.glob("checkpoint-*")
             if whole(p / "trainer_state.json") and (p / "ema.safetensors").exists()]
    return sorted(found, key=lambda p: int(p.name.split("-")[1]))


@pytest.mark.slow
def test_resume_after_kill_matches_an_unbroken_run(tmp_path, dataset_dir):
    steps, save = 30, 10
    # with the weight average on: it too must go on where it stopped
    common = ["--dataset_dir", dataset_dir, "--max_steps", steps, "--save_steps", save,
              "--per_device_train_batch_size", 4, "--eval_strategy", "no", "--seed", 3, "--ema_decay", 0.8]
    whole, broken = tmp_path / "whole", tmp_path / "broken"

    unbroken = subprocess.Popen(train_cmd(*common, "--output_dir", whole), cwd=ROOT, env=env(),
                                stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    victim = subprocess.Popen(train_cmd(*common, "--output_dir", broken), cwd=ROOT, env=env(),
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 240
        while not _complete_checkpoints(broken):
            assert victim.poll() is None, "the run ended before a checkpoint existed"
            assert time.monotonic() < deadline, "no checkpoint within the time limit"
            time.sleep(0.01)
        victim.send_signal(signal.SIGKILL)
        victim.wait(timeout=60)
    finally:
        if victim.poll() is None:
            victim.kill()
    assert victim.returncode == -signal.SIGKILL
    assert not (broken / "model.safetensors").exists(), "killed too late: the run had finished"
    last = _complete_checkpoints(broken)[-1]
    assert int(last.name.split("-")[1]) < steps

    resumed = run(train_cmd(*common, "--output_dir", broken, "--resume_from_checkpoint", last))
    # it really resumed: this process trained only the steps after the checkpoint
    done = int(last.name.split("-")[1])
    assert resumed.stdout.count("{'loss': ") == steps - done
    _, err = unbroken.communicate(timeout=300)
    assert unbroken.returncode == 0, err[-5000:]

    assert state(broken)["global_step"] == state(whole)["global_step"] == steps
    assert json.loads((broken / "train_summary.json").read_text())["global_step"] == steps
    # the same data order, optimizer and schedule: the same loss at every step ...
    loss_whole, loss_broken = logged(whole, "loss"), logged(broken, "loss")
    assert sorted(loss_broken) == sorted(loss_whole) == list(range(1, steps + 1))
    for step in loss_whole:
        assert loss_broken[step] == pytest.approx(loss_whole[step], abs=1e-6), step
    # ... and the same final weights, both the average (the model) and the last step's own
    for weights in ("model.safetensors", "without_ema/model.safetensors"):
        a, b = load_file(whole / weights), load_file(broken / weights)
        assert a.keys() == b.keys()
        for name in a:
            assert (a[name] - b[name]).abs().max().item() < 1e-6, (weights, name)


# ---------------------------------------------------------------- two CPU processes

@pytest.mark.slow
def test_torchrun_two_cpu_processes_match_one(tmp_path, dataset_dir):
    """2 processes x batch 4 (gloo) = 1 process x batch 8: the same losses, saved once."""
    # sequential batches (no curriculum): the first global batch is rows 0..7 on both sides
    common = ["--max_steps", 2, "--save_steps", 2, "--eval_steps", 2, "--seed", 0, "--curriculum_samples", 0,
              "--train_sampling_strategy", "sequential", "--per_device_eval_batch_size", 4]
    two, one = tmp_path / "two", tmp_path / "one"
    # the two-process run builds its own data (rank 0 first, then rank 1 loads it)
    launcher = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", "2"]
    proc = run(launcher + train_cmd(*common, "--dataset_dir", tmp_path / "data2", "--output_dir", two,
                                    "--per_device_train_batch_size", 4)[1:])
    run(train_cmd(*common, "--dataset_dir", dataset_dir, "--output_dir", one, "--per_device_train_batch_size", 8))

    assert json.loads((two / "train_summary.json").read_text())["world_size"] == 2
    assert proc.stdout.count("parameters; format") == 2  # both ranks really trained
    for key in ("loss", "eval_loss"):
        a, b = logged(two, key), logged(one, key)
        assert sorted(a) == sorted(b) and a, key
        for step in a:
            assert a[step] == pytest.approx(b[step], abs=1e-4), (key, step)
    # saved exactly once: one final model (the cpu preset's weight average), the last step's own
    # weights beside it, one checkpoint with its average; no partial or duplicate files
    assert [p.relative_to(two).as_posix() for p in sorted(two.rglob("*.safetensors"))] == [
        "checkpoint-2/ema.safetensors", "checkpoint-2/model.safetensors", "model.safetensors",
        "without_ema/model.safetensors"]
    a, b = load_file(two / "model.safetensors"), load_file(one / "model.safetensors")
    for name in a:
        assert (a[name] - b[name]).abs().max().item() < 1e-4, name


@pytest.mark.parametrize("preset", ["cpu", "gpt2", "gpu", "seed"])
def test_every_preset_builds_a_model_of_at_most_5m_parameters(preset, lotto_tokenizer, monkeypatch):
    monkeypatch.syspath_prepend(str(ROOT))
    import train
    from lotto_gpt.modeling import build_model, count_parameters

    model_args = train.parse_args(["--preset", preset])[1]
    assert count_parameters(build_model(model_args, lotto_tokenizer)) <= 5_000_000


def usage_error(argv, monkeypatch, capsys) -> str:
    """train.py's parse_args on `argv` exits with argparse's usage-error code 2; returns its stderr."""
    monkeypatch.syspath_prepend(str(ROOT))
    import train

    with pytest.raises(SystemExit) as exit_info:
        train.parse_args(argv)
    assert exit_info.value.code == 2
    return capsys.readouterr().err


def test_a_time_schedule_without_a_time_budget_is_a_usage_error(monkeypatch, capsys):
    argv = ["--preset", "gpu", "--max_train_minutes", "0", "--lr_schedule_by_time", "true"]
    assert "--lr_schedule_by_time needs --max_train_minutes" in usage_error(argv, monkeypatch, capsys)


def test_a_budget_curriculum_without_a_budget_is_a_usage_error(monkeypatch, capsys):
    argv = ["--curriculum_by_budget", "true", "--max_train_minutes", "0", "--max_steps", "-1"]
    assert "--curriculum_by_budget needs --max_train_minutes or --max_steps" in usage_error(argv, monkeypatch, capsys)


def test_a_fitted_curriculum_without_a_budget_is_a_usage_error(monkeypatch, capsys):
    argv = ["--curriculum_fit", "true", "--max_train_minutes", "0", "--max_steps", "-1"]
    assert "--curriculum_fit needs --max_train_minutes or --max_steps" in usage_error(argv, monkeypatch, capsys)


def test_the_cpu_preset_fits_its_curriculum_to_the_machine_and_the_gpu_preset_does_not(monkeypatch):
    monkeypatch.syspath_prepend(str(ROOT))
    import train

    assert train.parse_args([])[0].curriculum_fit is True
    assert train.parse_args(["--preset", "gpu"])[0].curriculum_fit is False


@pytest.mark.parametrize("argv", [["--curriculum_samples", "35000"], ["--curriculum_samples=35000"],
                                  ["--curriculum_by_budget", "true"]])
def test_a_curriculum_given_on_the_command_line_turns_the_fit_off(argv, monkeypatch):
    monkeypatch.syspath_prepend(str(ROOT))
    import train

    assert train.parse_args(argv)[0].curriculum_fit is False
    assert train.parse_args([*argv, "--curriculum_fit", "true"])[0].curriculum_fit is True


@pytest.mark.parametrize("fill, rows", [("1.0", 35_000), ("1.1", 38_000)])
def test_the_curriculum_fill_scales_the_fitted_row_count(fill, rows, tmp_path, monkeypatch):
    monkeypatch.syspath_prepend(str(ROOT))
    import train

    class Timed:  # 50 ms a row: 29 minutes read 34,800 rows
        train_dataset = Dataset.from_dict({"input_ids": [[1]]})

        def time_rows(self):
            return 0.05

        def is_world_process_zero(self):
            return True

    script, *_, training_args = train.parse_args(["--output_dir", str(tmp_path), "--curriculum_fill", fill])
    fit = train.fit_curriculum(Timed(), script, training_args)
    assert (fit["samples"], fit["fill"]) == (rows, float(fill))


def test_a_curriculum_fill_of_zero_is_a_usage_error(monkeypatch, capsys):
    assert "--curriculum_fill must be positive" in usage_error(["--curriculum_fill", "0"], monkeypatch, capsys)


def test_a_resumed_run_keeps_the_curriculum_its_first_run_fitted(tmp_path, monkeypatch):
    monkeypatch.syspath_prepend(str(ROOT))
    import train

    class NoTiming:
        def time_rows(self):
            raise AssertionError("a resumed run must not time the rows again")

    first = {"samples": 31_000, "seconds_per_row": 0.05}
    (tmp_path / train.CURRICULUM_FIT_FILE).write_text(json.dumps(first))
    script, *_, training_args = train.parse_args(["--output_dir", str(tmp_path), "--resume_from_checkpoint",
                                                  str(tmp_path / "checkpoint-10")])
    assert train.fit_curriculum(NoTiming(), script, training_args) == first


@pytest.mark.parametrize("argv, message", [
    (["--nope_layers", "1"], "--nope_layers needs --arch smollm3"),
    (["--arch", "smollm3", "--nope_layers", "2"], "--nope_layers [2]: a model of 2 layers numbers them 0-1"),
    (["--arch", "gpt3"], "--arch 'gpt3': choose llama, smollm3, stablelm or gpt2"),
    (["--arch", "stablelm", "--partial_rotary_factor", "1.5"], "--partial_rotary_factor must be in (0, 1], got 1.5"),
    (["--rope_theta", "0"], "--rope_theta must be positive"),
])
def test_a_model_that_cannot_be_built_is_a_usage_error(argv, message, monkeypatch, capsys):
    assert message in usage_error(argv, monkeypatch, capsys)


def test_an_unknown_tokenizer_is_a_usage_error(monkeypatch, capsys):
    assert "invalid choice: 'bpe'" in usage_error(["--tokenizer", "bpe"], monkeypatch, capsys)


def test_folding_junk_with_a_trained_tokenizer_is_a_usage_error(monkeypatch, capsys):
    message = usage_error(["--tokenizer", "byte_bpe", "--fold_other_chars", "true"], monkeypatch, capsys)
    assert "--fold_other_chars needs a lotto tokenizer" in message


@pytest.mark.parametrize("mix", ["-0.1", "1.5"])
def test_a_curriculum_mix_outside_0_1_is_a_usage_error(mix, monkeypatch, capsys):
    assert "--curriculum_mix must be a fraction in 0..1" in usage_error(["--curriculum_mix", mix], monkeypatch, capsys)


@pytest.mark.parametrize("fraction", ["0", "1.5"])
def test_a_decay_fraction_outside_0_1_is_a_usage_error(fraction, monkeypatch, capsys):
    argv = ["--lr_schedule_by_time", "true", "--lr_decay_fraction", fraction]
    assert "--lr_decay_fraction must be in (0, 1]" in usage_error(argv, monkeypatch, capsys)


@pytest.mark.parametrize("count", ["0", "-3"])
def test_max_eval_samples_below_1_is_a_usage_error(count, monkeypatch, capsys):
    err = usage_error(["--max_eval_samples", count], monkeypatch, capsys)
    assert f"--max_eval_samples must be at least 1, got {count}" in err


def test_the_eval_loss_reads_the_first_max_eval_samples_validation_rows(monkeypatch):
    monkeypatch.syspath_prepend(str(ROOT))
    import train
    from datasets import Dataset

    validation = Dataset.from_dict({"length": list(range(10))})
    assert train.eval_rows(validation, 3)["length"] == [0, 1, 2]
    assert train.eval_rows(validation, 50)["length"] == list(range(10))  # more than there are: all
    assert train.eval_rows(validation, None)["length"] == list(range(10))


def test_with_ema_decay_the_saved_model_is_the_average_and_the_last_step_is_kept_beside_it(tmp_path, dataset_dir):
    out = tmp_path / "out"
    run(train_cmd("--dataset_dir", dataset_dir, "--output_dir", out, "--max_steps", 6, "--save_steps", 6,
                  "--per_device_train_batch_size", 4, "--eval_strategy", "no", "--ema_decay", 0.5,
                  "--learning_rate", "1e-2", "--fill_unseen_bytes", "false"))  # the average, unfilled
    model, last = load_file(out / "model.safetensors"), load_file(out / "without_ema" / "model.safetensors")
    averaged = load_file(out / "checkpoint-6" / "ema.safetensors")
    assert int(averaged.pop("n_averaged")) == 6
    checkpoint = load_file(out / "checkpoint-6" / "model.safetensors")
    for name in model:
        assert torch.equal(last[name], checkpoint[name]), name  # without_ema: the weights of step 6
    assert all(torch.equal(model[name], averaged[name]) for name in averaged)
    assert any(not torch.equal(model[name], last[name]) for name in averaged)
    assert json.loads((out / "train_summary.json").read_text())["ema_decay"] == 0.5
    from transformers import AutoModelForCausalLM

    AutoModelForCausalLM.from_pretrained(out / "without_ema")  # a whole model folder too


@pytest.mark.parametrize("decay", ["1", "-0.5"])
def test_an_ema_decay_outside_0_1_is_a_usage_error(decay, monkeypatch, capsys):
    assert "--ema_decay must be in [0, 1)" in usage_error(["--ema_decay", decay], monkeypatch, capsys)


@pytest.mark.parametrize("weight", ["0", "-1"])
@pytest.mark.parametrize("flag", ["--hit_weight", "--bonus_weight", "--error_weight", "--check_repeat_weight"])
def test_a_token_weight_not_above_0_is_a_usage_error(flag, weight, monkeypatch, capsys):
    assert f"{flag} must be positive" in usage_error([flag, weight], monkeypatch, capsys)


@pytest.mark.parametrize("argv, message", [
    (["--draw_share", "1.5"], "--draw_share must be a fraction in 0..1"),
    (["--purchase_share", "0.6", "--tail_share", "0.6"], "must be at most 1"),
    (["--purchase_tickets", "0"], "--purchase_tickets must be at least 1"),
    (["--max_money", "20500"], "--max_money must be a multiple of 1,000"),
])
def test_data_flags_are_checked_like_the_build_scripts(argv, message, monkeypatch, capsys):
    assert message in usage_error(argv, monkeypatch, capsys)  # before any data is built or read


def test_parallel_seeds_train_side_by_side_and_keep_the_one_the_selection_sessions_prefer(tmp_path, dataset_dir):
    out = tmp_path / "out"
    proc = run(train_cmd("--dataset_dir", dataset_dir, "--output_dir", out, "--max_steps", 2, "--eval_strategy", "no",
                         "--save_strategy", "no", "--parallel_seeds", 2, "--seed", 3, "--selection_sessions", 2),
               timeout=600)
    selection = json.loads((out / "selection.json").read_text())
    assert set(selection["ok_rate"]) == {"3", "4"} and selection["suite_seed"] != 0  # never the test suite
    chosen = selection["chosen_seed"]
    assert chosen in (3, 4) and f"chose seed {chosen}" in proc.stdout
    for seed in (3, 4):
        assert (out / f"seed-{seed}" / "selection" / "eval_results.json").exists()
        assert json.loads((out / f"seed-{seed}" / "train_summary.json").read_text())["global_step"] == 2
    weights = load_file(out / "model.safetensors")
    from_chosen = load_file(out / f"seed-{chosen}" / "model.safetensors")
    assert all(torch.equal(weights[name], from_chosen[name]) for name in weights)
    other = load_file(out / f"seed-{7 - chosen}" / "model.safetensors")
    assert any(not torch.equal(weights[name], other[name]) for name in weights)  # two seeds, two models
    from transformers import AutoModelForCausalLM, AutoTokenizer

    AutoModelForCausalLM.from_pretrained(out)
    AutoTokenizer.from_pretrained(out)


def test_the_best_seed_is_the_highest_score_and_a_tie_keeps_the_lower_seed(monkeypatch):
    monkeypatch.syspath_prepend(str(ROOT))
    import train

    assert train.best_seed({0: 0.61, 1: 0.74}) == 1
    assert train.best_seed({4: 0.5, 3: 0.5}) == 3


def test_help_lists_every_flag_and_exits_0(monkeypatch, capsys):
    # argparse %-formats each help string: a bare "%" in one (e.g. "78.4%") made --help crash
    monkeypatch.syspath_prepend(str(ROOT))
    import train

    with pytest.raises(SystemExit) as exit_info:
        train.parse_args(["--help"])
    assert exit_info.value.code == 0
    out = capsys.readouterr().out
    for flag in ("--purchase_share", "--tail_share", "--hit_weight", "--program_weight", "--output_dir", "--preset"):
        assert flag in out


def test_the_cpu_and_gpu_presets_read_amounts_in_thousands_and_junk_as_one_token(monkeypatch):
    monkeypatch.syspath_prepend(str(ROOT))
    import train

    for preset in ("cpu", "gpu"):
        data_args = train.parse_args(["--preset", preset])[3]
        assert (data_args.tokenizer, data_args.fold_other_chars) == ("lotto_thousands", True), preset


def test_the_gpu_preset_is_the_cpu_recipe_at_batch_32_with_one_seed(monkeypatch):
    monkeypatch.syspath_prepend(str(ROOT))
    import train

    def values(preset):
        return {k: v for parsed in train.parse_args(["--preset", preset]) for k, v in vars(parsed).items()}

    cpu, gpu = values("cpu"), values("gpu")
    assert (gpu["per_device_train_batch_size"], gpu["learning_rate"], gpu["parallel_seeds"]) == (32, 3e-3, 1)
    assert gpu["output_dir"] == "outputs/gpu"
    for name in ("arch", "n_layer", "n_embd", "max_steps", "curriculum_samples", "max_train_minutes", "hit_weight"):
        assert gpu[name] == cpu[name], name
