# Sourced by gpu_call*.sh: environment, the output folders $OUT and $R, and the carried wheels.
set -u
export PYTHONUNBUFFERED=1 HF_DATASETS_DISABLE_PROGRESS_BARS=1 HF_HUB_OFFLINE=1 TOKENIZERS_PARALLELISM=false
OUT=${OUT:-/tmp/devout}; mkdir -p $OUT
R=/tmp/r; rm -rf $R; mkdir -p $R
PY=python3

install_wheels() {  # wheels carried to a machine without package access, if any
  if [ -d .whl ]; then
    $PY -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target /tmp/site .whl/*.whl || exit 3
  fi
  export PYTHONPATH=/tmp/site:$PWD
}
