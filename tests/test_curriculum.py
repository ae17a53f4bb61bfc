"""The curriculum sampler: short sessions first, every row once, reproducible."""
import random

import pytest

from lotto_gpt.trainer import MIX_QUANTILE, CurriculumSampler


def lengths(n, seed=0):
    rng = random.Random(seed)
    return [rng.randint(50, 3000) for _ in range(n)]


@pytest.mark.parametrize("n", [1, 7, 64, 500])
def test_every_row_appears_once_even_when_the_warmup_exceeds_the_data(n):
    order = list(CurriculumSampler(lengths(n), batch_size=8, warmup_samples=8000, seed=0))
    assert sorted(order) == list(range(n))


def test_same_seed_same_order_and_another_seed_another():
    data = lengths(2000)
    first = list(CurriculumSampler(data, 8, 400, seed=1))
    assert first == list(CurriculumSampler(data, 8, 400, seed=1))
    assert first != list(CurriculumSampler(data, 8, 400, seed=2))


def test_the_warmup_starts_with_the_shortest_rows():
    data = lengths(5000)
    order = list(CurriculumSampler(data, 8, 1000, seed=0))
    cutoff = sorted(data)[len(data) // 10]  # the early window is the shortest 5% to 10%
    assert all(data[i] <= cutoff for i in order[:40])
    assert max(data[i] for i in order[1000:]) == max(data)


def test_the_row_count_order_is_pinned_so_published_runs_reproduce():
    # the order of sessions 11-19's runs (BENCHMARKS.md): a change here changes what a seed trains on
    data, spread = lengths(600), [i % 7 == 0 for i in range(600)]
    order = list(CurriculumSampler(data, 8, 300, seed=0, spread=spread))
    assert order[:16] == [352, 382, 345, 424, 71, 417, 335, 418, 16, 45, 86, 66, 483, 555, 308, 102]
    assert sum(i * k for k, i in enumerate(order)) == 54031733


def test_without_warmup_it_is_plain_length_grouping():
    data = lengths(300)
    assert sorted(CurriculumSampler(data, 8, 0, seed=0)) == list(range(300))


def _with_short_cut_rows(n=5000, cut=300):
    data = lengths(n)
    spread = [i < cut for i in range(n)]
    return [10 if s else x for x, s in zip(data, spread)], spread  # cut rows: shorter than any session


def test_spread_rows_appear_once_each_within_the_warmup():
    data, spread = _with_short_cut_rows()
    order = list(CurriculumSampler(data, 8, 2000, seed=0, spread=spread))
    assert sorted(order) == list(range(len(data)))
    positions = [p for p, i in enumerate(order) if spread[i]]
    assert len(positions) == 300 and max(positions) < 2000 + 300


def test_spread_rows_do_not_fill_the_first_steps_but_come_uniformly():
    data, spread = _with_short_cut_rows()
    order = list(CurriculumSampler(data, 8, 2000, seed=0, spread=spread))
    positions = [p for p, i in enumerate(order) if spread[i]]
    # by length alone they would be the first 300 rows; spread, ~300/2300 of each stretch
    assert sum(p < 100 for p in positions) < 30
    early, late = sum(p < 1150 for p in positions), sum(p >= 1150 for p in positions)
    assert abs(early - late) < 60  # sd ~17


def test_the_sessions_keep_their_curriculum_around_the_spread_rows():
    data, spread = _with_short_cut_rows()
    order = [i for i in CurriculumSampler(data, 8, 2000, seed=0, spread=spread) if not spread[i]]
    sessions = [x for x, s in zip(data, spread) if not s]
    cutoff = sorted(sessions)[len(sessions) // 10]
    assert all(data[i] <= cutoff for i in order[:40])


def _with_cut_rows_of_two_lengths(n=5000, cut=301):
    data = lengths(n)
    spread = [i < cut for i in range(n)]
    return [(10 if i % 2 else 900) if s else x for i, (x, s) in enumerate(zip(data, spread))], spread


def test_spread_batches_hold_only_spread_rows_of_similar_lengths():
    data, spread = _with_cut_rows_of_two_lengths()
    order = list(CurriculumSampler(data, 8, 2000, seed=0, spread=spread, spread_batches=True))
    assert sorted(order) == list(range(len(data)))
    batches = [order[s:s + 8] for s in range(0, len(order), 8)]
    mixed = [b for b in batches if len({spread[i] for i in b}) > 1]
    assert len(mixed) == 1 and mixed[0] == batches[-1]  # only the last, partial spread batch ends the order
    spread_batches = [b for b in batches if all(spread[i] for i in b)]
    assert len(spread_batches) == 301 // 8
    assert sum(len({data[i] for i in b}) > 1 for b in spread_batches) <= 301 // 64 + 1  # one per sorted chunk


def test_spread_batches_come_uniformly_over_the_warmup():
    data, spread = _with_cut_rows_of_two_lengths()
    order = list(CurriculumSampler(data, 8, 2000, seed=0, spread=spread, spread_batches=True))
    positions = [p for p, i in enumerate(order[:-8]) if spread[i]]
    early, late = sum(p < 1150 for p in positions), sum(p >= 1150 for p in positions)
    assert max(positions) < 2000 + 301 and abs(early - late) < 130  # 37 batches of 8: sd ~24 rows


def test_without_a_mix_the_order_is_the_plain_curriculum():
    data = lengths(2000)
    assert list(CurriculumSampler(data, 8, 800, seed=3, mix=0.0)) == list(CurriculumSampler(data, 8, 800, seed=3))


def test_a_mix_brings_long_rows_into_the_first_steps_but_not_the_longest():
    data = lengths(5000)
    order = list(CurriculumSampler(data, 8, 2000, seed=0, mix=0.2))
    assert sorted(order) == list(range(len(data)))
    ranked = sorted(data)
    early = [data[i] for i in order[:400]]  # the plain window is the shortest 5-20% here
    long = sum(x > ranked[len(data) // 2] for x in early)
    assert 18 < long < 60  # 0.2 x 400 x (0.9 - 0.5) / 0.9 = ~36 mixed-in rows above the median, sd ~6
    assert max(early) <= ranked[int(MIX_QUANTILE * len(data))]  # the longest rows stay for last


# paced by the run's budget: the window follows a progress function (rows drawn -> share of the run done)

def test_a_paced_curriculum_draws_every_row_once():
    data, spread = _with_short_cut_rows()
    order = list(CurriculumSampler(data, 8, 0, seed=0, spread=spread, progress=lambda rows: rows / 2000))
    assert sorted(order) == list(range(len(data)))


def test_a_paced_curriculum_widens_with_the_progress():
    data = lengths(5000)
    order = list(CurriculumSampler(data, 8, 0, seed=0, progress=lambda rows: rows / 1000))
    cutoff = sorted(data)[len(data) // 10]
    assert all(data[i] <= cutoff for i in order[:40])  # the start: the shortest 5% to 10%
    assert max(data[i] for i in order[:1000]) > sorted(data)[len(data) * 9 // 10]  # the end: (nearly) all lengths


def test_a_paced_curriculum_ends_when_the_progress_reaches_one():
    data = lengths(5000)
    clock = iter([0.0, 1.0])  # the budget runs out after the first chunk of 8 batches
    order = list(CurriculumSampler(data, 8, 0, seed=0, progress=lambda rows: next(clock, 1.0)))
    cutoff = sorted(data)[len(data) // 10]
    assert all(data[i] <= cutoff for i in order[:64])
    assert sum(data[i] > cutoff for i in order[64:128]) > 32  # then the rest, all lengths grouped at random


def test_a_paced_curriculum_spreads_the_cut_rows_over_the_progress():
    data, spread = _with_short_cut_rows()
    order = list(CurriculumSampler(data, 8, 0, seed=0, spread=spread, progress=lambda rows: rows / 2300))
    positions = [p for p, i in enumerate(order) if spread[i]]
    assert sum(p < 100 for p in positions) < 30
    early, late = sum(p < 1150 for p in positions), sum(p >= 1150 for p in positions)
    assert max(positions) < 2300 + 64 and abs(early - late) < 130


def test_a_paced_curriculum_with_spread_batches_keeps_whole_batches_apart():
    data, spread = _with_short_cut_rows()
    order = list(CurriculumSampler(data, 8, 0, seed=0, spread=spread, spread_batches=True,
                                   progress=lambda rows: rows / 2300))
    batches = [order[s:s + 8] for s in range(0, 2300, 8)]
    assert all(len({spread[i] for i in b}) == 1 for b in batches)


def test_a_paced_curriculum_is_reproducible_for_the_same_progress():
    data = lengths(2000)
    first = list(CurriculumSampler(data, 8, 0, seed=1, progress=lambda rows: rows / 500))
    assert first == list(CurriculumSampler(data, 8, 0, seed=1, progress=lambda rows: rows / 500))
    assert first != list(CurriculumSampler(data, 8, 0, seed=2, progress=lambda rows: rows / 500))


def test_a_paced_curriculum_goes_on_in_the_next_epoch_from_the_progress_reached():
    data = lengths(500)
    seen = []
    sampler = CurriculumSampler(data, 8, 0, seed=0, progress=lambda rows: seen.append(rows) or rows / 10_000)
    first = list(sampler)
    sampler.set_epoch(1)
    calls = len(seen)
    second = list(sampler)
    assert sorted(first) == sorted(second) == list(range(500))
    assert sampler.rows_drawn == 1000 and min(seen[calls:]) >= 500  # the second epoch starts at 5%, not at 0
