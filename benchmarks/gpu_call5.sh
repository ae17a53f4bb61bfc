#!/bin/bash
# Device call 5 (data v10): the gpu preset as shipped (`--preset gpu`), three seeds at once on the one GPU, each
# stopped by time (MIN minutes: a session's device time is 15 minutes, so the preset's 29 cannot run), then the
# small suite (NS sessions) and the large suite (NL) on CUDA. SMOKE=1: a tiny local dry run on CPU.
source "$(dirname "$0")/gpu_common.sh"
if [ "${SMOKE:-0}" = 1 ]; then
  TS="--train_size 2000"; STEPS="--max_steps 4"; MIN=1; NS=4; NL=2; DEV=cpu; NP=2
else
  install_wheels
  TS=""; STEPS=""; MIN=${MIN:-5}; NS=${NS:-500}; NL=${NL:-60}; DEV=cuda; NP=16
fi
export PYTHONPATH=${PYTHONPATH:-}:$PWD
t0=$(date +%s)
nvidia-smi --query-gpu=name,memory.total --format=csv,noheader 2>/dev/null | tee $OUT/gpu.txt
$PY -c "import torch, transformers, datasets; print(torch.__version__, transformers.__version__, datasets.__version__)" | tee -a $OUT/gpu.txt
$PY data_scripts/build_dataset.py --num_proc $NP --output_dir $R/data $TS > $R/build.log 2>&1 || { cat $R/build.log; exit 4; }
$PY train.py --preset gpu --dataset_dir $R/data --output_dir $R/warm --max_steps 1 --eval_strategy no --save_strategy no --report_to none --build_num_proc $NP > $R/warm.log 2>&1 || { tail -20 $R/warm.log; exit 5; }
echo "data and tokens $(( $(date +%s)-t0 )) s"
RUNS=""
for s in 0 5 1; do
  $PY train.py --preset gpu --dataset_dir $R/data --output_dir $R/gpu_s$s --seed $s --max_train_minutes $MIN \
    --report_to none --save_total_limit 1 --build_num_proc 1 $STEPS > $R/gpu_s$s.log 2>&1 &
  RUNS="$RUNS gpu_s$s"
done
wait
echo "train $(( $(date +%s)-t0 )) s"
for r in $RUNS; do  # both suites of each run at once: the card has room, the command has not
  timeout 100 $PY eval.py --model $R/$r --num_sessions $NS --device $DEV --batch_size 250 \
    --output_dir $R/$r/eval --no_progress > $R/$r.eval.log 2>&1 &
  timeout 100 $PY eval.py --model $R/$r --suite large --num_sessions $NL --device $DEV --batch_size $NL \
    --output_dir $R/$r/eval_large --no_progress > $R/$r.eval_large.log 2>&1 &
done
wait
echo "eval $(( $(date +%s)-t0 )) s"
for r in $RUNS; do
  echo "$r: $(grep -o '"global_step": [0-9]*' $R/$r/train_summary.json) small $(grep -o '"ok_rate": [0-9.]*' $R/$r/eval/eval_results.json 2>/dev/null | head -1) large $(grep -o '"ok_rate": [0-9.]*' $R/$r/eval_large/eval_results.json 2>/dev/null | head -1)"
done | tee $OUT/summary.txt
cd $R && tar czf $OUT/logs.tgz *.log */eval*/eval_results.json */eval*/report.md */eval*/sessions_*.jsonl */train_summary.json 2>/dev/null
ls -la $OUT
