#!/bin/bash
# Device call 3 (data v10): the gpu preset, the cpu preset's recipe in fp16 on four seeds, and a GPU-batch
# variant of it, six trainings at once on the one GPU, each stopped by time; then the small suite on CUDA.
# SMOKE=1: a tiny local dry run on CPU.
source "$(dirname "$0")/gpu_common.sh"
if [ "${SMOKE:-0}" = 1 ]; then
  TS="--train_size 2000"; STEPS="--max_steps 6"; MIN=1; NS=4; FP16=""; DEV=cpu; NP=2
else
  install_wheels
  TS=""; STEPS=""; MIN=${MIN:-5.5}; NS=500; FP16="--fp16"; DEV=cuda; NP=16
fi
export PYTHONPATH=${PYTHONPATH:-}:$PWD
( date -u; nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv; nproc
  $PY -c "import torch,transformers,datasets,tokenizers,pyarrow;print(torch.__version__,transformers.__version__,datasets.__version__,tokenizers.__version__,pyarrow.__version__,torch.cuda.is_available())" ) > $OUT/env.txt 2>&1
cat $OUT/env.txt
$PY -c "import datasets, evaluate, transformers, accelerate, lotto_gpt.data, lotto_gpt.generation" || exit 6
t0=$(date +%s)
$PY data_scripts/build_dataset.py --num_proc $NP --output_dir $R/data $TS > $R/build.log 2>&1 || { cat $R/build.log; exit 4; }
echo "build $(( $(date +%s)-t0 )) s"
$PY train.py --dataset_dir $R/data --output_dir $R/warm --max_steps 1 --eval_strategy no --save_strategy no --report_to none --build_num_proc $NP --parallel_seeds 1 > $R/warm.log 2>&1 || { tail -20 $R/warm.log; exit 5; }
echo "warm $(( $(date +%s)-t0 )) s"
F="--dataset_dir $R/data --max_train_minutes $MIN --report_to none --save_total_limit 1 --build_num_proc 1 $STEPS"
$PY train.py --preset gpu $F --output_dir $R/gpu_preset > $R/gpu_preset.log 2>&1 &
for s in 1 2 3 4; do
  $PY train.py $FP16 $F --parallel_seeds 1 --seed $s --output_dir $R/cpu_s$s > $R/cpu_s$s.log 2>&1 &
done
$PY train.py $FP16 $F --parallel_seeds 1 --seed 1 --per_device_train_batch_size 32 --learning_rate 3e-3 --output_dir $R/b32_s1 > $R/b32_s1.log 2>&1 &
wait
echo "train $(( $(date +%s)-t0 )) s"
RUNS="gpu_preset cpu_s1 cpu_s2 cpu_s3 cpu_s4 b32_s1"
for r in $RUNS; do
  timeout 200 $PY eval.py --model $R/$r --num_sessions $NS --device $DEV --batch_size 128 --output_dir $R/$r/eval --no_progress > $R/$r.eval.log 2>&1 &
done
wait
echo "eval $(( $(date +%s)-t0 )) s"
for r in $RUNS; do
  echo "$r: $(cat $R/$r/train_summary.json 2>/dev/null | $PY -c 'import json,sys;d=json.load(sys.stdin);print(d["global_step"],d["train_minutes"],d["parameters"])') $(grep -o '"ok_rate": [0-9.]*' $R/$r/eval/eval_results.json 2>/dev/null | head -1)"
done | tee $OUT/summary.txt
cd $R && tar czf $OUT/logs.tgz *.log */eval/eval_results.json */eval/report.md */eval/sessions_small.jsonl */train_summary.json 2>/dev/null
tar czf $OUT/models.tgz cpu_s?/{config.json,generation_config.json,model.safetensors,tokenizer*.json} b32_s1/{config.json,generation_config.json,model.safetensors,tokenizer*.json} 2>/dev/null
tar cf - gpu_preset/{config.json,generation_config.json,model.safetensors,tokenizer*.json} 2>/dev/null | gzip -1 | split -b 15m - $OUT/gpu_preset.tgz.part
ls -la $OUT
