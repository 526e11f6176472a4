#!/usr/bin/env bash
# tabula bench of a 20x256 (lc0-sized) chess net on a GPU, fp32 and fp16, CUDA provider.
# Needs onnxruntime-gpu and torch (to write the untrained net) importable; results go to $OUT
# (default ./out/gpu). Speed only: an untrained net costs exactly what a trained one does.
#   PYTHONPATH=/path/to/site:$PWD bash bench/gpu_bench.sh
set -u
OUT=${OUT:-out/gpu}; mkdir -p "$OUT"
B=${BATCHES:-32,128,256}; S=${SECONDS_PER_POS:-2}; P=${POSITIONS:-3}
{ nvidia-smi -L; nproc; python3 -c "import onnxruntime as o; print(o.__version__, o.get_available_providers())"; } > "$OUT/env.txt" 2>&1
python3 -m tabula.bench.random_net --blocks 20 --filters 256 -o /tmp/big.onnx > "$OUT/make_net.txt" 2>&1
python3 -c "from nets.tools import quantize; quantize('/tmp/big.onnx', '/tmp/big16.onnx', 'fp16')" >> "$OUT/make_net.txt" 2>&1
for prec in fp32 fp16; do
  net=/tmp/big.onnx; [ $prec = fp16 ] && net=/tmp/big16.onnx
  python3 -m tabula.protocols.cli bench --net $net --backend cuda --batch "$B" --seconds "$S" \
      --max-positions "$P" --no-progress --json > "$OUT/bench_$prec.json" 2> "$OUT/bench_$prec.err"
done
