#!/bin/bash
# Device call 2: variant_share 0.5 (v6 default) vs 0.2 (v5's), 3 seeds each, same steps, all at once.
source "$(dirname "$0")/gpu_common.sh"
if [ "${SMOKE:-0}" = 1 ]; then
  TS="--train_size 2000"; STEPS=10; CUR=40; MIN=1; FP16=""; NP=2
else
  install_wheels
  TS=""; STEPS=2500; CUR=18000; MIN=4.3; FP16="--fp16"; NP=8
fi
export PYTHONPATH=${PYTHONPATH:-}:$PWD
t0=$(date +%s)
$PY data_scripts/build_dataset.py --num_proc $NP --output_dir $R/data_v05 $TS > $R/build1.log 2>&1 &
$PY data_scripts/build_dataset.py --num_proc $NP --output_dir $R/data_v02 --variant_share 0.2 $TS > $R/build2.log 2>&1 &
wait; echo "build $(( $(date +%s)-t0 )) s"; grep -h built $R/build*.log
for v in v05 v02; do
  $PY train.py --dataset_dir $R/data_$v --output_dir $R/warm_$v --max_steps 1 --eval_strategy no --save_strategy no --report_to none --build_num_proc $NP > $R/warm_$v.log 2>&1 &
done
wait; echo "warm $(( $(date +%s)-t0 )) s"; tail -2 $R/warm_v05.log
F="$FP16 --max_train_minutes $MIN --report_to none --save_strategy no --eval_strategy no --build_num_proc 1 --max_steps $STEPS --curriculum_samples $CUR"
for v in v05 v02; do for s in 0 1 2; do
  ( $PY train.py $F --dataset_dir $R/data_$v --seed $s --output_dir $R/${v}_s$s > $R/${v}_s$s.log 2>&1
    cd $R && tar czf $OUT/${v}_s$s.tgz ${v}_s$s/config.json ${v}_s$s/generation_config.json ${v}_s$s/model.safetensors ${v}_s$s/tokenizer*.json ${v}_s$s/train_summary.json ${v}_s$s.log ) &
done; done
wait; echo "train $(( $(date +%s)-t0 )) s"
for f in $R/*_s?/train_summary.json; do echo "$f $(grep -o '"global_step": [0-9]*' $f) $(grep -o '"train_minutes": [0-9.]*' $f)"; done
ls -la $OUT
