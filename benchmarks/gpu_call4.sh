#!/bin/bash
# Device call 4 (data v10): batch 8 (the cpu recipe) against batch 32 (lr 3e-3), three seeds each, six trainings at
# once on the one GPU, each stopped by time (MIN minutes); then the small suite on CUDA (NS sessions).
# SMOKE=1: a tiny local dry run on CPU.
source "$(dirname "$0")/gpu_common.sh"
if [ "${SMOKE:-0}" = 1 ]; then
  TS="--train_size 2000"; STEPS="--max_steps 4"; MIN=1; NS=4; FP16=""; DEV=cpu; NP=2
else
  install_wheels
  TS=""; STEPS=""; MIN=${MIN:-2.5}; NS=${NS:-300}; FP16="--fp16"; DEV=cuda; NP=16
fi
export PYTHONPATH=${PYTHONPATH:-}:$PWD
t0=$(date +%s)
$PY data_scripts/build_dataset.py --num_proc $NP --output_dir $R/data $TS > $R/build.log 2>&1 || { cat $R/build.log; exit 4; }
$PY train.py --dataset_dir $R/data --output_dir $R/warm --max_steps 1 --eval_strategy no --save_strategy no --report_to none --build_num_proc $NP --parallel_seeds 1 > $R/warm.log 2>&1 || { tail -20 $R/warm.log; exit 5; }
echo "warm $(( $(date +%s)-t0 )) s"
F="--dataset_dir $R/data --max_train_minutes $MIN --report_to none --save_total_limit 1 --build_num_proc 1 --parallel_seeds 1 $FP16 $STEPS"
RUNS=""
for s in 1 2 3; do
  $PY train.py $F --seed $s --output_dir $R/b8_s$s > $R/b8_s$s.log 2>&1 &
  $PY train.py $F --seed $s --per_device_train_batch_size 32 --learning_rate 3e-3 --output_dir $R/b32_s$s > $R/b32_s$s.log 2>&1 &
  RUNS="$RUNS b8_s$s b32_s$s"
done
wait
echo "train $(( $(date +%s)-t0 )) s"
for r in $RUNS; do
  timeout 75 $PY eval.py --model $R/$r --num_sessions $NS --device $DEV --batch_size 150 --output_dir $R/$r/eval --no_progress > $R/$r.eval.log 2>&1 &
done
wait
echo "eval $(( $(date +%s)-t0 )) s"
for r in $RUNS; do
  echo "$r: $(grep -o '"global_step": [0-9]*' $R/$r/train_summary.json) $(grep -o '"ok_rate": [0-9.]*' $R/$r/eval/eval_results.json 2>/dev/null | head -1)"
done | tee $OUT/summary.txt
cd $R && tar czf $OUT/logs.tgz *.log */eval/eval_results.json */eval/sessions_small.jsonl */train_summary.json 2>/dev/null
ls -la $OUT
