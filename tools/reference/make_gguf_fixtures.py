#!/usr/bin/env python3
"""Writes the GGUF reader's test fixtures to Tests/StepwiseKitTests/Fixtures/gguf/.

Run with the reference venv:  ~/stepwise-ref/venv/bin/python tools/reference/make_gguf_fixtures.py

Outputs (all small, committed):
  blocks/<TYPE>.raw   raw bytes of a few blocks of that ggml type, exactly as stored in a GGUF file
  blocks/<TYPE>.f32   the expected float32 values (little-endian), from gguf-py's dequantize
                      (Q8_K, which gguf-py cannot dequantize, and F16/F32 are computed with numpy)
  blocks.json         {TYPE: {"type_id", "block_size", "type_size", "count"}} for each pair above
  tiny.gguf           a complete GGUF v3 file made with gguf.GGUFWriter: metadata of every value type
                      (incl. arrays and a nested array), alignment 64, tensors of several types
  tiny.json           what tiny.gguf holds: metadata values and every tensor's ne, type, offset and
                      dequantized values (flattened, PyTorch order)
  smollm2.json        for a few tensors of SmolLM2-135M-Instruct.Q4_1.gguf: gguf-py's dequantized
                      first/last 8 values, float64 sum and L2 norm, plus metadata facts
"""
import json
import os
import sys
from pathlib import Path

import numpy as np
import gguf
from gguf import GGMLQuantizationType as T
from gguf.constants import GGML_QUANT_SIZES

ROOT = Path(__file__).resolve().parents[2]
OUT = ROOT / "Tests/StepwiseKitTests/Fixtures/gguf"
MODELS = Path(os.environ.get("STEPWISE_MODELS", Path.home() / "stepwise-ref/models"))

rng = np.random.default_rng(20240607)


def f16_bytes(values):
    return np.asarray(values, dtype=np.float16).view(np.uint8)


def random_blocks(qtype, n_blocks):
    """Random bytes for every field, with the float16/float32 scales set to sane values."""
    block_size, type_size = GGML_QUANT_SIZES[qtype]
    b = rng.integers(0, 256, size=(n_blocks, type_size), dtype=np.uint8)
    scale = lambda: f16_bytes(rng.uniform(-0.05, 0.05, size=n_blocks)).reshape(n_blocks, 2)
    pos_scale = lambda: f16_bytes(rng.uniform(0.0005, 0.05, size=n_blocks)).reshape(n_blocks, 2)
    if qtype in (T.Q4_0, T.Q5_0, T.Q8_0):
        b[:, 0:2] = scale()
    elif qtype in (T.Q4_1, T.Q5_1):
        b[:, 0:2] = pos_scale()
        b[:, 2:4] = scale()
    elif qtype in (T.Q4_K, T.Q5_K):
        b[:, 0:2] = pos_scale()     # d
        b[:, 2:4] = pos_scale()     # dmin
    elif qtype == T.Q6_K:
        b[:, -2:] = scale()         # d is last
    elif qtype == T.Q2_K:
        b[:, -4:-2] = pos_scale()   # d
        b[:, -2:] = pos_scale()     # dmin
    elif qtype == T.Q3_K:
        b[:, -2:] = scale()
    elif qtype == T.Q8_K:
        b[:, 0:4] = np.asarray(rng.uniform(-0.01, 0.01, size=n_blocks), dtype=np.float32).view(np.uint8).reshape(n_blocks, 4)
    return b


def dequant(raw, qtype):
    if qtype == T.Q8_K:  # float32 d, int8 qs[256], int16 bsums[16] (unused for dequantization)
        d = raw[:, 0:4].copy().view(np.float32)
        qs = raw[:, 4:260].copy().view(np.int8).astype(np.float32)
        return (d * qs).astype(np.float32)
    return gguf.quants.dequantize(raw, qtype).astype(np.float32)


def make_blocks():
    d = OUT / "blocks"
    d.mkdir(parents=True, exist_ok=True)
    manifest = {}
    x = rng.standard_normal(size=(4, 256)).astype(np.float32)
    x[1] *= 10.0
    x[2, :64] = 0.0               # an all-zero block for the 32-wide types
    for qtype in (T.F32, T.F16, T.BF16, T.Q8_0, T.Q4_0, T.Q4_1, T.Q5_0, T.Q5_1,
                  T.Q2_K, T.Q3_K, T.Q4_K, T.Q5_K, T.Q6_K, T.Q8_K):
        block_size, type_size = GGML_QUANT_SIZES[qtype]
        if qtype == T.F32:
            raw = x.reshape(-1).view(np.uint8)
            want = x.reshape(-1)
        elif qtype == T.F16:
            h = x.astype(np.float16)
            raw = h.reshape(-1).view(np.uint8)
            want = h.astype(np.float32).reshape(-1)
        elif qtype == T.BF16:
            raw = gguf.quants.quantize(x, qtype).reshape(-1)
            want = dequant(raw, qtype).reshape(-1)
        else:
            parts = []
            if block_size == 32:  # gguf-py can quantize these: real quantizer output
                parts.append(gguf.quants.quantize(x[:, :128], qtype).reshape(-1, type_size))
            n_random = 4 if block_size == 32 else 3
            parts.append(random_blocks(qtype, n_random))
            raw = np.concatenate(parts, axis=0)
            want = dequant(raw, qtype).reshape(-1)
            raw = raw.reshape(-1)
        assert want.dtype == np.float32 and np.isfinite(want).all(), qtype.name
        assert raw.size == want.size // block_size * type_size, qtype.name
        (d / f"{qtype.name}.raw").write_bytes(raw.tobytes())
        (d / f"{qtype.name}.f32").write_bytes(want.astype("<f4").tobytes())
        manifest[qtype.name] = {"type_id": int(qtype), "block_size": block_size,
                                "type_size": type_size, "count": int(want.size)}
    (OUT / "blocks.json").write_text(json.dumps(manifest, indent=1, sort_keys=True) + "\n")


def make_tiny():
    path = OUT / "tiny.gguf"
    w = gguf.GGUFWriter(str(path), arch="tiny")  # adds general.architecture first
    w.add_custom_alignment(64)
    w.add_string("general.name", "Tiny Test Model")
    w.add_uint8("test.u8", 200)
    w.add_int8("test.i8", -100)
    w.add_uint16("test.u16", 60000)
    w.add_int16("test.i16", -30000)
    w.add_uint32("test.u32", 4000000000)
    w.add_int32("test.i32", -2000000000)
    w.add_uint64("test.u64", 18000000000000000000)
    w.add_int64("test.i64", -9000000000000000000)
    w.add_float32("test.f32", 0.15625)
    w.add_float64("test.f64", -2.718281828459045)
    w.add_bool("test.bool_true", True)
    w.add_bool("test.bool_false", False)
    w.add_string("test.string", "héllo, ☃ world")
    w.add_array("test.ints", [1, -2, 3, 40000])
    w.add_array("test.floats", [0.5, -1.25, 3.0])
    w.add_array("test.strings", ["a", "", "ĠHello", "<|im_start|>"])
    w.add_array("test.bools", [True, False, True])
    w.add_key_value("test.nested", [[1, 2], [3], [4, 5, 6]], gguf.GGUFValueType.ARRAY,
                    sub_type=gguf.GGUFValueType.ARRAY)
    w.add_key_value("test.u8s", [1, 2, 255], gguf.GGUFValueType.ARRAY, sub_type=gguf.GGUFValueType.UINT8)
    w.add_uint32("tiny.context_length", 128)
    w.add_string("tokenizer.ggml.model", "gpt2")
    w.add_string("tokenizer.ggml.pre", "tiny")
    w.add_array("tokenizer.ggml.tokens", ["<s>", "a", "b"])

    tensors = []

    def add(name, values, qtype):
        """values: PyTorch-order float32 array; stored as qtype."""
        values = np.asarray(values, dtype=np.float32)
        if qtype == T.F32:
            w.add_tensor(name, values)
            want = values
        elif qtype == T.F16:
            h = values.astype(np.float16)
            w.add_tensor(name, h)
            want = h.astype(np.float32)
        else:
            q = gguf.quants.quantize(values, qtype)
            w.add_tensor(name, q, raw_dtype=qtype)
            want = gguf.quants.dequantize(q, qtype)
        tensors.append((name, qtype, list(values.shape), want.astype(np.float32)))

    def add_raw(name, shape, qtype):
        """Random blocks for types gguf-py cannot quantize."""
        block_size, type_size = GGML_QUANT_SIZES[qtype]
        n = int(np.prod(shape))
        raw = random_blocks(qtype, n // block_size)
        byte_shape = (*shape[:-1], shape[-1] // block_size * type_size)
        w.add_tensor(name, raw.reshape(byte_shape), raw_dtype=qtype)
        want = dequant(raw, qtype).reshape(shape)
        tensors.append((name, qtype, list(shape), want.astype(np.float32)))

    add("norm.weight", rng.standard_normal(48), T.F32)
    add("embed.weight", rng.standard_normal((3, 64)), T.F16)
    add("proj.bf16", rng.standard_normal((2, 32)), T.BF16)
    add("blk.0.q8", rng.standard_normal((4, 64)), T.Q8_0)
    add("blk.0.q4_0", rng.standard_normal((2, 96)), T.Q4_0)
    add("blk.0.q4_1", rng.standard_normal((3, 64)), T.Q4_1)
    add("blk.0.q5_0", rng.standard_normal((2, 32)), T.Q5_0)
    add("blk.0.q5_1", rng.standard_normal((1, 2, 64)), T.Q5_1)
    add_raw("blk.0.q4_k", (2, 256), T.Q4_K)
    add_raw("blk.0.q5_k", (1, 512), T.Q5_K)
    add_raw("blk.0.q6_k", (3, 256), T.Q6_K)
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()

    r = gguf.GGUFReader(str(path))
    by_name = {t.name: t for t in r.tensors}
    out_tensors = []
    for name, qtype, shape, want in tensors:
        t = by_name[name]
        assert t.tensor_type == qtype
        out_tensors.append({
            "name": name, "type": qtype.name, "type_id": int(qtype),
            "ne": [int(v) for v in t.shape], "shape": shape,
            "offset": int(t.data_offset - r.data_offset), "n_bytes": int(t.n_bytes),
            "values": [float(v) for v in want.reshape(-1)],
        })
    meta = {
        "version": 3, "alignment": 64, "data_offset": int(r.data_offset),
        "kv_keys": [k for k in r.fields if not k.startswith("GGUF.")],
        "tensors": out_tensors,
    }
    (OUT / "tiny.json").write_text(json.dumps(meta, indent=1) + "\n")


def make_smollm2():
    path = MODELS / "smollm2/SmolLM2-135M-Instruct.Q4_1.gguf"
    if not path.exists():
        print(f"skipping smollm2.json: {path} is missing", file=sys.stderr)
        return
    r = gguf.GGUFReader(str(path))
    names = ["token_embd.weight", "blk.0.attn_norm.weight", "blk.0.attn_q.weight", "blk.0.attn_k.weight",
             "blk.0.ffn_down.weight", "blk.29.ffn_gate.weight", "output_norm.weight"]
    by_name = {t.name: t for t in r.tensors}
    out = []
    for name in names:
        t = by_name[name]
        v = gguf.quants.dequantize(t.data, t.tensor_type).astype(np.float32)
        flat = v.reshape(-1)
        out.append({
            "name": name, "type": t.tensor_type.name, "ne": [int(x) for x in t.shape],
            "shape": [int(x) for x in reversed(t.shape)],
            "first": [float(x) for x in flat[:8]], "last": [float(x) for x in flat[-8:]],
            "row1_first": [float(x) for x in v.reshape(-1, int(t.shape[0]))[1, :8]] if len(t.shape) > 1 else [],
            "sum": float(flat.astype(np.float64).sum()),
            "l2": float(np.sqrt((flat.astype(np.float64) ** 2).sum())),
        })
    types = {}
    params = 0
    for t in r.tensors:
        types[t.tensor_type.name] = types.get(t.tensor_type.name, 0) + 1
        params += int(t.n_elements)
    meta = {
        "tensor_count": len(r.tensors), "kv_count": len(r.fields) - 3,  # minus GGUF.version/tensor_count/kv_count
        "data_offset": int(r.data_offset), "type_counts": types, "parameters": params,
        "tensors": out,
    }
    (OUT / "smollm2.json").write_text(json.dumps(meta, indent=1) + "\n")


if __name__ == "__main__":
    OUT.mkdir(parents=True, exist_ok=True)
    make_blocks()
    make_tiny()
    make_smollm2()
    print("wrote", OUT)
