// Scores an fp32 and an int8 ONNX model of a Fashion-MNIST classifier on the official test set with ONNX Runtime for
// Node (the same ONNX Runtime release as the .NET package), and prints one JSON line: accuracy of each, the int8 model's
// top-1 agreement with fp32, and the CPU ONNX Runtime saw. Run natively or under `qemu-x86_64 -cpu <model> node ...` to
// score the same files on an emulated CPU (ONNX Runtime picks its kernels from CPUID, which QEMU answers).
// usage: node score-onnx.js <fp32.onnx> <int8.onnx> <t10k-images-idx3-ubyte.gz> <t10k-labels-idx1-ubyte.gz> <mean> <std>
'use strict';
const fs = require('fs');
const zlib = require('zlib');
const ort = require('onnxruntime-node');

function idx(file) {
  const data = zlib.gunzipSync(fs.readFileSync(file));
  const dims = data[3];
  const shape = [];
  for (let i = 0; i < dims; i++) shape.push(data.readUInt32BE(4 + 4 * i));
  return { shape, bytes: data.subarray(4 + 4 * dims) };
}

async function logits(model, pixels, count, batch) {
  const session = await ort.InferenceSession.create(model, { intraOpNumThreads: 1, interOpNumThreads: 1, executionMode: 'sequential' });
  const out = [];
  for (let start = 0; start < count; start += batch) {
    const n = Math.min(batch, count - start);
    const input = new ort.Tensor('float32', pixels.subarray(start * 784, (start + n) * 784), [n, 1, 28, 28]);
    const result = await session.run({ [session.inputNames[0]]: input });
    out.push(Float32Array.from(result[session.outputNames[0]].data));
  }
  return out.reduce((all, part) => { const merged = new Float32Array(all.length + part.length); merged.set(all); merged.set(part, all.length); return merged; }, new Float32Array(0));
}

function argmax(values, i, k) {
  let best = 0;
  for (let c = 1; c < k; c++) if (values[i * k + c] > values[i * k + best]) best = c;
  return best;
}

(async () => {
  const [fp32, int8, imagesFile, labelsFile, mean, std] = process.argv.slice(2);
  const images = idx(imagesFile);
  const labels = idx(labelsFile).bytes;
  const count = images.shape[0];
  const pixels = new Float32Array(count * 784);
  for (let i = 0; i < pixels.length; i++) pixels[i] = (images.bytes[i] / 255 - Number(mean)) / Number(std);
  const a = await logits(fp32, pixels, count, 256);
  const b = await logits(int8, pixels, count, 256);
  const k = a.length / count;
  let right32 = 0, right8 = 0, agree = 0;
  for (let i = 0; i < count; i++) {
    const p = argmax(a, i, k), q = argmax(b, i, k);
    if (p === labels[i]) right32++;
    if (q === labels[i]) right8++;
    if (p === q) agree++;
  }
  console.log(JSON.stringify({ images: count, fp32_accuracy: right32 / count, int8_accuracy: right8 / count, top1_agreement: agree / count, onnxruntime: ort.env.versions ? ort.env.versions.common : 'unknown' }));
})().catch(e => { console.error(e); process.exit(1); });
