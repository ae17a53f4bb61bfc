"""lotto_judge: the blog's TEST SUMMARY for a model that plays the Woowa lotto console program.

Load it with `evaluate.load("metrics/lotto_judge")` (a path to this folder).

This module is a thin wrapper: the judging logic lives in `lotto_gpt.judge` (the rule
engine of the lotto-gpt repository is the only judge of the program's output, and copying it
here would let two judges drift apart). Shipped alone to the Hub, the module therefore needs
the `lotto-gpt` package installed (`pip install <the lotto-gpt repository>`); without it,
loading fails with an ImportError that says so. The import is done with importlib on purpose:
`evaluate` scans top-level import lines and would stop with a bare "install lotto_gpt" message.
"""
import importlib
import json

import datasets
import evaluate

_DESCRIPTION = """
Judges model texts of the lotto console program against structured reference runs, with the
categories of the blog's TEST SUMMARY (format level first, logic level only when the format is
fine), plus bad-input handling accuracy, the exact-console rate and missing-end diagnostics.
"""

_CITATION = """
@misc{lotto_gpt_judge,
  title = {lotto_judge: rule-engine judge for a GPT that plays the Woowa lotto console program},
  note = {lotto-gpt repository, metrics/lotto_judge}
}
"""

_KWARGS_DESCRIPTION = """
Args:
    predictions (list of str): the model's texts. Transcript format: the model's transcript
        (typed lines after `<in>`, hidden work lines included, as `LottoMachine` returns in
        `Play.text`). Seed format: the model's OUT block, with or without the IN block before it.
    references (list of str): one JSON object per prediction:
        {"format": "transcript", "lines": ["8000", "1,2,3,4,5,6", "7"]}
        {"format": "seed", "money": 8000, "winning": [1, 2, 3, 4, 5, 6], "bonus": 7}
        ("format" defaults to "transcript"; the seed format also accepts "lines"; other keys
        are ignored). Build them with `lotto_gpt.judge.make_reference(...)` and `json.dumps`.
    return_verdicts (bool, default False): also return the per-session verdicts.

Returns:
    n_total, n_ok, n_fail, n_format_fail, n_logic_fail, ticket_count_parse_error,
    ticket_lines_format_error, result_labels_parse_error, ticket_count_mismatch,
    ticket_numbers_invalid, match_stats_mismatch, roi_mismatch, test_fail  (the blog's fields),
    end_error, input_handling_mismatch, truncated, no_end, n_exact_console, exact_console_rate,
    n_bad_input_sessions, n_bad_input_ok, bad_input_accuracy, ok_rate, format_ok_rate,
    and `verdicts` (list of dicts) when asked.

Examples:
    >>> judge = evaluate.load("metrics/lotto_judge")
    >>> ref = json.dumps({"format": "transcript", "lines": ["1000", "1,2,3,4,5,6", "7"]})
    >>> judge.compute(predictions=[model_text], references=[ref])["n_ok"]
"""


def _judge_module():
    try:
        return importlib.import_module("lotto_gpt.judge")
    except ImportError as exc:
        raise ImportError(
            "The lotto_judge metric needs the lotto-gpt package (its rule engine is the judge). "
            "Install the lotto-gpt repository (pip install -e <repo>) or run from its root folder."
        ) from exc


@evaluate.utils.file_utils.add_start_docstrings(_DESCRIPTION, _KWARGS_DESCRIPTION)
class LottoJudge(evaluate.Metric):
    def _info(self):
        return evaluate.MetricInfo(
            description=_DESCRIPTION,
            citation=_CITATION,
            inputs_description=_KWARGS_DESCRIPTION,
            features=datasets.Features(
                {"predictions": datasets.Value("string"), "references": datasets.Value("string")}
            ),
            reference_urls=[],
        )

    def _download_and_prepare(self, dl_manager):
        _judge_module()  # fail at load time, with the message above

    def _compute(self, predictions, references, return_verdicts=False):
        judge = _judge_module()
        verdicts = judge.judge_many(predictions, [json.loads(r) for r in references])
        out = judge.summarize(verdicts)
        if return_verdicts:
            out["verdicts"] = [v.to_dict() for v in verdicts]
        return out
