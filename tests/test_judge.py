"""The judge is judged: the rule engine's own texts score 100%, each corruption is caught by
its category, the summary adds up like the blog's, and the fidelity tests tell uniform
tickets from tickets that lean towards the draw."""
from __future__ import annotations

import json
import math
import random
from pathlib import Path

import pytest

from lotto_gpt import data, judge, rules
from lotto_gpt.formats import seed as seed_fmt
from lotto_gpt.formats import transcript
from lotto_gpt.rules import Msg

METRIC_DIR = Path(__file__).resolve().parents[1] / "metrics" / "lotto_judge"
SPEC_TICKETS = [
    (8, 21, 23, 41, 42, 43), (3, 5, 11, 16, 32, 38), (7, 11, 16, 35, 36, 44), (1, 8, 11, 31, 41, 42),
    (13, 14, 16, 38, 42, 45), (7, 11, 30, 40, 42, 43), (2, 13, 22, 32, 38, 45), (1, 3, 5, 14, 22, 45),
]
SPEC_LINES = ["8000", "1,2,3,4,5,6", "7"]
BAD_LINES = ["1000j", "x" * 70, "8000", "1,2,3", "1,2,3,4,5,6", "6", "7"]  # spec tickets, bad inputs


def random_runs(seed: int, n: int) -> list[rules.Run]:
    """Runs with good and bad lines at every stage (long ones too); some stop early."""
    rng = random.Random(seed)
    runs = []
    for _ in range(n):
        run = rules.Run()
        stop_after = rng.randint(0, 6) if rng.random() < 0.2 else None
        while not run.complete and (stop_after is None or len(run.attempts) < stop_after):
            stage, r = run.stage, rng.random()
            if r < 0.05:
                line = "9" * rng.randint(65, 80)
            elif stage is rules.Stage.MONEY:
                line = data.bad_money(rng) if r < 0.4 else str(rng.randint(1, 100) * 1000)
            elif stage is rules.Stage.WINNING:
                line = data.bad_winning(rng) if r < 0.4 else ",".join(map(str, data.uniform_draw(rng)[0]))
            else:
                line = data.bad_bonus(run.winning, rng) if r < 0.4 else str(
                    rng.choice([x for x in rules.NUMBERS if x not in run.winning]))
            run.feed(line, rng=rng)
        runs.append(run)
    return runs


def ref(run_or_lines, fmt="transcript") -> dict:
    lines = run_or_lines if isinstance(run_or_lines, list) else [a.line for a in run_or_lines.attempts]
    return judge.make_reference(lines, fmt)


@pytest.fixture(scope="module")
def runs():
    return random_runs(2024, 300)


# ---------------------------------------------------------------- references score 100%

def test_console_stdout_of_reference_transcripts_is_the_console_text(runs):
    for run in runs:
        lines = [a.line for a in run.attempts]
        assert judge.console_stdout(transcript.to_text(run), lines) == rules.console_text(run)


def test_reference_transcripts_score_100_percent(runs):
    assert sum(bool(r.errors) for r in runs) > 100 and sum(not r.complete for r in runs) > 20
    verdicts = [judge.judge(transcript.to_text(run), ref(run)) for run in runs]
    summary = judge.summarize(verdicts)
    assert summary["n_ok"] == summary["n_total"] == len(runs), [v for v in verdicts if not v.ok][:3]
    assert summary["n_exact_console"] == len(runs)
    assert summary["bad_input_accuracy"] == 1.0
    assert summary["truncated"] == summary["no_end"] == 0


def test_reference_seed_texts_score_100_percent():
    rng = random.Random(5)
    preds, refs = [], []
    for _ in range(100):
        run = rules.play([str(rng.randint(1, 100) * 1000), ",".join(map(str, data.uniform_draw(rng)[0])), "0"], rng=rng)
        winning = rng.sample(range(1, 46), 6)
        bonus = rng.choice([x for x in range(1, 46) if x not in winning])
        run = rules.play([str(rng.randint(1, 100) * 1000), ",".join(map(str, winning)), str(bonus)], rng=rng)
        text = seed_fmt.to_text(run)
        preds += [text, text.split("###\n", 1)[1]]  # with or without the IN block
        refs += [ref(run, "seed"), {"format": "seed", "money": run.money, "winning": list(run.winning), "bonus": run.bonus}]
    summary = judge.summarize(judge.judge_many(preds, refs))
    assert summary["n_ok"] == summary["n_exact_console"] == 200


# ---------------------------------------------------------------- corruptions

@pytest.fixture(scope="module")
def spec_text():
    return transcript.to_text(rules.play(BAD_LINES, tickets=SPEC_TICKETS))


def verdict_of(text, lines=BAD_LINES, fmt="transcript"):
    return judge.judge(text, judge.make_reference(lines, fmt))


def _replace_once(text, old, new):
    assert text.count(old) >= 1, old
    return text.replace(old, new, 1)


FORMAT_CASES = {
    "wrong ticket count": (("8개를 구매했습니다.", "7개를 구매했습니다."), "ticket_count_mismatch"),
    "dropped ticket line": (("<t7>[3, 5, 11, 16, 32, 38]\n", ""), "ticket_count_mismatch"),
    "extra ticket": (("<t1>[1, 3, 5, 14, 22, 45]\n", "<t1>[1, 3, 5, 14, 22, 45]\n<t0>[2, 4, 6, 8, 10, 12]\n"),
                     "ticket_count_mismatch"),
    "repeated number": (("[8, 21, 23, 41, 42, 43]", "[8, 21, 21, 41, 42, 43]"), "ticket_numbers_invalid"),
    "number out of range": (("[8, 21, 23, 41, 42, 43]", "[8, 21, 23, 41, 42, 46]"), "ticket_numbers_invalid"),
    "no bought line": (("8개를 구매했습니다.", "8개를 샀습니다."), "ticket_count_parse_error"),
    "ticket line without spaces": (("[8, 21, 23, 41, 42, 43]", "[8,21,23,41,42,43]"), "ticket_lines_format_error"),
    "stats line missing": (("4개 일치 (50,000원) - 0개\n", ""), "result_labels_parse_error"),
    "rate line garbled": (("<p0>5%입니다.", "<p0>5입니다."), "result_labels_parse_error"),
}


@pytest.mark.parametrize("case", sorted(FORMAT_CASES))
def test_format_corruptions_are_caught_by_their_category(spec_text, case):
    (old, new), category = FORMAT_CASES[case]
    v = verdict_of(_replace_once(spec_text, old, new))
    assert v.format_error == category, v
    assert not v.ok and not v.exact and v.logic_errors == []


def test_off_by_one_stats_count_is_a_match_stats_mismatch(spec_text):
    v = verdict_of(_replace_once(spec_text, "3개 일치 (5,000원) - 1개", "3개 일치 (5,000원) - 2개"))
    assert v.format_error is None and "match_stats_mismatch" in v.logic_errors and not v.exact


def test_wrong_rate_is_a_roi_mismatch_only(spec_text):
    v = verdict_of(_replace_once(spec_text, "<p0>5%", "<p0>4%"))
    assert v.format_error is None and v.logic_errors == ["roi_mismatch"] and not v.exact


def test_rate_of_wrong_counts_is_judged_on_the_model_counts(spec_text):
    """Counts wrong but the rate right for them: only the counting is wrong."""
    text = _replace_once(spec_text, "3개 일치 (5,000원) - 1개", "3개 일치 (5,000원) - 2개")
    v = verdict_of(_replace_once(text, "<p3><p2>6<p1>2.<p0>5%", "<p3>1<p2>2<p1>5.<p0>0%"))
    assert v.logic_errors == ["match_stats_mismatch"]


def test_truncated_output_is_caught(spec_text):
    for cut in (len(spec_text) // 3, len(spec_text) // 2, spec_text.index("당첨 통계"), len(spec_text) - 8):
        v = verdict_of(spec_text[:cut])
        assert v.truncated and not v.no_end and v.format_error is not None and not v.ok, (cut, v)


def test_missing_end_and_repetition_loops_are_caught(spec_text):
    # results fine, then the model does not stop: only the end is wrong
    v = verdict_of(spec_text + "---\n" * 20)
    assert v.no_end and v.format_error == "end_error" and not v.ok and not v.exact
    # a loop repeating the results: the labels are no longer unique, and the end is missing
    tail = spec_text[spec_text.index("당첨 통계"):]
    v = verdict_of(spec_text + tail * 3)
    assert v.no_end and v.format_error == "result_labels_parse_error"
    # the seed format: no </OUT>, or something after it
    run = rules.play(SPEC_LINES, tickets=SPEC_TICKETS)
    text = seed_fmt.to_text(run)
    for bad in (text[: -len("</OUT>")], text + "\n3개일치 (5000원) = 1"):
        v = verdict_of(bad, SPEC_LINES, "seed")
        assert v.no_end and v.format_error is not None, v


def test_wrong_error_message_is_an_input_handling_mismatch(spec_text):
    v = verdict_of(_replace_once(spec_text, Msg.MONEY_NOT_NUMBER, Msg.MONEY_UNIT))
    assert v.format_error is None and v.logic_errors == ["input_handling_mismatch"]
    assert v.input_ok is False and not v.exact


def test_missing_reprompt_is_an_input_handling_mismatch(spec_text):
    text = _replace_once(spec_text, Msg.WINNING_COUNT + "\n" + Msg.ASK_WINNING + "\n", Msg.WINNING_COUNT + "\n")
    v = verdict_of(text)
    assert v.logic_errors == ["input_handling_mismatch"] and not v.exact


def test_accepting_a_bad_input_is_an_input_handling_mismatch():
    """The model takes '1,2,3' as the draw: the prompts no longer follow the rule engine's."""
    lines = ["1000", "1,2,3", "1,2,3,4,5,6", "7"]
    wrong = rules.play(["1000", "1,2,3,4,5,6", "7"], tickets=SPEC_TICKETS[:1])
    text = transcript.to_text(wrong).replace("<in>1,2,3,4,5,6", "<in>1,2,3")
    v = verdict_of(text, lines)
    assert v.input_ok is False and not v.ok


def test_missing_blank_line_breaks_only_the_exact_console():
    text = transcript.to_text(rules.play(SPEC_LINES, tickets=SPEC_TICKETS))
    v = verdict_of(_replace_once(text, "\n\n당첨 통계", "\n당첨 통계"), SPEC_LINES)
    assert v.ok and not v.exact


def test_seed_format_corruptions():
    run = rules.play(SPEC_LINES, tickets=SPEC_TICKETS)
    text = seed_fmt.to_text(run)
    cases = {
        ("티켓수=8", "티켓수=9"): "ticket_count_mismatch",
        ("[8,21,23,41,42,43]", "[8,21,21,41,42,43]"): "ticket_numbers_invalid",
        ("티켓수=8", "티켓 수=8"): "ticket_count_parse_error",
        ("수익률=62.5%", "수익률=62%"): "result_labels_parse_error",
    }
    for (old, new), category in cases.items():
        assert verdict_of(_replace_once(text, old, new), SPEC_LINES, "seed").format_error == category
    v = verdict_of(_replace_once(text, "3개일치 (5000원) = 1", "3개일치 (5000원) = 0"), SPEC_LINES, "seed")
    assert v.logic_errors == ["match_stats_mismatch", "roi_mismatch"]


def test_the_judge_never_raises():
    v = judge.judge("anything", {"format": "nope", "lines": []})
    assert v.format_error == "test_fail" and not v.ok
    v = judge.judge("<in>\n\x00" * 50, json.dumps({"lines": SPEC_LINES}))
    assert not v.ok


# ---------------------------------------------------------------- the summary

def test_summary_adds_up_like_the_blog(spec_text):
    texts = [spec_text,  # ok
             _replace_once(spec_text, "8개를", "7개를"),  # format
             _replace_once(spec_text, "[8, 21, 23, 41, 42, 43]", "[8, 21, 23, 41, 42, 46]"),  # format
             _replace_once(spec_text, "<p0>5%", "<p0>4%"),  # logic
             _replace_once(spec_text, "3개 일치 (5,000원) - 1개", "3개 일치 (5,000원) - 2개"),  # logic, 2 kinds
             spec_text[:100]]  # format (truncated)
    s = judge.summarize(judge.judge_many(texts, [judge.make_reference(BAD_LINES)] * len(texts)))
    assert (s["n_total"], s["n_ok"], s["n_format_fail"], s["n_logic_fail"]) == (6, 1, 3, 2)
    assert s["n_fail"] == s["n_format_fail"] + s["n_logic_fail"]
    assert sum(s[c] for c in judge.FORMAT_CATEGORIES) == s["n_format_fail"]
    assert s["match_stats_mismatch"] == 1 and s["roi_mismatch"] == 2 and s["truncated"] == 1
    printed = judge.format_summary(s)
    assert printed.startswith("=== TEST SUMMARY ===\nn_total : 6\nn_ok : 1\n")


def test_metric_module_wraps_the_judge(spec_text):
    import evaluate

    metric = evaluate.load(str(METRIC_DIR))
    refs = [json.dumps(judge.make_reference(BAD_LINES))] * 2
    out = metric.compute(predictions=[spec_text, spec_text[:200]], references=refs, return_verdicts=True)
    assert out["n_total"] == 2 and out["n_ok"] == 1 and out["n_format_fail"] == 1
    assert out["exact_console_rate"] == 0.5 and out["bad_input_accuracy"] == 0.5  # cut before the last input
    assert out["verdicts"][1]["truncated"] is True
    seed_ref = json.dumps({"format": "seed", "money": 8000, "winning": [1, 2, 3, 4, 5, 6], "bonus": 7})
    seed_text = seed_fmt.to_text(rules.play(SPEC_LINES, tickets=SPEC_TICKETS))
    assert metric.compute(predictions=[seed_text], references=[seed_ref])["n_ok"] == 1


# ---------------------------------------------------------------- ticket fidelity

def test_rank_odds_are_the_exact_6_of_45_odds():
    odds = judge.rank_odds()
    assert odds["3"] == pytest.approx(182780 / 8145060) and odds["3"] == pytest.approx(0.0224406, rel=1e-5)
    assert odds["4"] == pytest.approx(11115 / 8145060)
    assert odds["5"] == pytest.approx(228 / 8145060) and odds["5b"] == pytest.approx(6 / 8145060)
    assert odds["6"] == pytest.approx(1 / 8145060)
    # with the miss probability they cover everything
    miss = sum(math.comb(6, k) * math.comb(39, 6 - k) for k in range(3)) / math.comb(45, 6)
    assert miss + sum(odds.values()) == pytest.approx(1.0)


def _records(n_sessions, tickets_for, seed=0):
    rng = random.Random(seed)
    out = []
    for _ in range(n_sessions):
        winning, bonus = data.uniform_draw(rng)
        tickets = [tickets_for(rng, winning) for _ in range(10)]
        out.append({"tickets": tickets, "winning": winning, "bonus": bonus, "independent": True})
    return out


def test_uniform_tickets_pass_every_fidelity_test():
    f = judge.ticket_fidelity(_records(2000, lambda rng, w: rules.issue_ticket(rng)))
    assert f["n_valid_tickets"] == 20000 and f["invalid_ticket_rate"] == 0.0
    assert f["number_chi2_p"] > 0.01 and f["numbers_uniform"]
    assert f["duplicates_ok"] and f["rank_test_ok"], f["ranks"]
    assert f["ranks"]["3"]["expected"] == pytest.approx(20000 * judge.rank_odds()["3"])


def test_tickets_leaning_towards_the_draw_fail_the_rank_test():
    def leaning(rng, winning):
        if rng.random() < 0.1:  # one ticket in ten takes three numbers from the draw
            rest = rng.sample([x for x in rules.NUMBERS if x not in winning], 3)
            return tuple(sorted(rng.sample(list(winning), 3) + rest))
        return rules.issue_ticket(rng)

    f = judge.ticket_fidelity(_records(2000, leaning))
    assert f["rank_test_ok"] is False and f["ranks"]["3"]["ok"] is False
    assert f["ranks"]["3"]["observed"] > f["ranks"]["3"]["interval"][1]


def test_skewed_numbers_duplicates_and_invalid_lines_are_seen():
    low = judge.ticket_fidelity(_records(300, lambda rng, w: tuple(sorted(rng.sample(range(1, 30), 6)))))
    assert low["number_chi2_p"] < 0.01 and not low["numbers_uniform"]
    same = judge.ticket_fidelity([{"tickets": [(1, 2, 3, 4, 5, 6)] * 5 + [None, (1, 1, 2, 3, 4, 5)]}])
    assert same["duplicate_pairs"] == 10 and not same["duplicates_ok"]
    assert same["invalid_ticket_rate"] == pytest.approx(2 / 7)
    assert same["rank_test_ok"] is None  # no independent draws given
