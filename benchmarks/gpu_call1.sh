#!/bin/bash
# One device call: build v5 data, train 5 runs at once on the GPU, evaluate each on CUDA, pack results.
# SMOKE=1: a tiny local dry run on CPU.
source "$(dirname "$0")/gpu_common.sh"
if [ "${SMOKE:-0}" = 1 ]; then
  TS="--train_size 2000"; STEPS6=12; STEPS12=20; MIN=2; NS=8; FP16=""; DEV=cpu; NP=2
else
  install_wheels
  TS=""; STEPS6=6000; STEPS12=12000; MIN=4.5; NS=256; FP16="--fp16"; DEV=cuda; NP=16
fi
export PYTHONPATH=${PYTHONPATH:-}:$PWD
$PY -c "import datasets, evaluate, transformers, accelerate, lotto_gpt.data, lotto_gpt.generation" || { $PY -m pip list 2>/dev/null | grep -i -E "arrow|hub|accel|torch|pandas"; exit 6; }
( date -u; nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv; nproc
  $PY -c "import torch,transformers,datasets,tokenizers;print(torch.__version__,transformers.__version__,datasets.__version__,tokenizers.__version__,torch.cuda.is_available())" ) > $OUT/env.txt 2>&1
t0=$(date +%s)
$PY data_scripts/build_dataset.py --num_proc $NP --output_dir data/transcript $TS > $R/build.log 2>&1 || { cat $R/build.log; exit 4; }
echo "build $(( $(date +%s)-t0 )) s"
# tokenize once with all cores (the runs below then load datasets' cache)
$PY train.py --output_dir $R/warm --max_steps 1 --eval_strategy no --save_strategy no --report_to none --build_num_proc $NP > $R/warm.log 2>&1 || { tail -20 $R/warm.log; exit 5; }
echo "warm $(( $(date +%s)-t0 )) s"
COMMONF="--max_train_minutes $MIN --report_to none --save_total_limit 1 --build_num_proc 1"
$PY train.py --preset gpu $COMMONF --output_dir $R/gpu_preset ${SMOKE:+--max_steps $STEPS6} > $R/gpu_preset.log 2>&1 &
for s in 0 1 2; do
  $PY train.py $FP16 $COMMONF --max_steps $STEPS6 --seed $s --output_dir $R/cpu6k_s$s > $R/cpu6k_s$s.log 2>&1 &
done
$PY train.py $FP16 $COMMONF --max_steps $STEPS12 --curriculum_samples 56000 --seed 0 --output_dir $R/cpu12k_s0 > $R/cpu12k_s0.log 2>&1 &
wait
echo "train $(( $(date +%s)-t0 )) s"
for r in gpu_preset cpu6k_s0 cpu6k_s1 cpu6k_s2 cpu12k_s0; do
  timeout 150 $PY eval.py --model $R/$r --num_sessions $NS --device $DEV --batch_size 128 --output_dir $R/$r/eval --no_progress > $R/$r.eval.log 2>&1 &
done
wait
echo "eval $(( $(date +%s)-t0 )) s"
for r in gpu_preset cpu6k_s0 cpu6k_s1 cpu6k_s2 cpu12k_s0; do
  echo "$r: $(cat $R/$r/train_summary.json 2>/dev/null | $PY -c 'import json,sys;d=json.load(sys.stdin);print(d["global_step"],d["train_minutes"],d["parameters"])') $(grep -o '"ok_rate": [0-9.]*' $R/$r/eval/eval_results.json 2>/dev/null | head -1)"
done | tee $OUT/summary.txt
cd $R && tar czf $OUT/logs.tgz *.log */eval/*.json */eval/report.md */train_summary.json */trainer_state.json 2>/dev/null
tar cf - */config.json */generation_config.json */model.safetensors */tokenizer*.json */eval/sessions_small.jsonl 2>/dev/null | gzip -1 | split -b 15m - $OUT/models.tgz.part
ls -la $OUT
