#!/usr/bin/env python3
"""Float32 matrix products: Stepwise's kernels beside PyTorch's (MKL / oneDNN) at the same shapes, in one run.

Each repeat runs, one after the other: `stepwise bench --no-model-bench --json` for every binary given
(e.g. a build from before a change and one after; with --isa, the same binary once per forced kernel
variant through STEPWISE_ISA), then PyTorch's `torch.nn.functional.linear(x, w)` (x [m, k], w [n, k]) on
the same shapes in the reference venv. Other builds may share the machine, so the report gives medians
over repeats, and each ratio to PyTorch is taken within one repeat before its median.

    tools/bench/matmul.py [--stepwise BIN ...] [--isa avx512,avx2,portable] [--repeats 5] [--runs 9]
                          [--one-core] [--json out.json]

`stepwise bench` measures two products per shape: `MatMul.abT` with the weight as it is (packed a
k-block at a time on every call, as an sgemm does; this is the like-for-like figure beside
F.linear) and `PackedMatrix` (packed once at load: what the models' projections use). --one-core runs
everything under `taskset -c 0` with torch.set_num_threads(1); by default both use every core.
"""
import argparse, json, os, statistics, subprocess, sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))

TORCH = r'''
import json, sys, time, torch
threads, runs, shapes = int(sys.argv[1]), int(sys.argv[2]), json.loads(sys.argv[3])
torch.set_num_threads(threads)
torch.manual_seed(1)
out = {}
for m, n, k in shapes:
    x, w = torch.rand(m, k) - 0.5, torch.rand(n, k) - 0.5
    torch.nn.functional.linear(x, w)
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        torch.nn.functional.linear(x, w)
        times.append(time.perf_counter() - t0)
    out[f"{m}x{k}x{n}"] = 2 * m * n * k / sorted(times)[len(times) // 2] / 1e9
print(json.dumps({"torch": torch.__version__, "threads": torch.get_num_threads(), "gflops": out}))
'''


def run(cmd, env=None):
    p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    if p.returncode != 0:
        sys.exit(f"error: {' '.join(cmd)} exited {p.returncode}: {p.stderr.strip()[-300:]}")
    return p.stdout


def med(xs):
    xs = [x for x in xs if x is not None]
    return statistics.median(xs) if xs else None


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--stepwise", nargs="+", default=[os.path.join(ROOT, ".build/release/stepwise")],
                    help="stepwise binaries to compare (label=PATH or PATH)")
    ap.add_argument("--isa", default=None, help="comma-separated STEPWISE_ISA values to run each binary with")
    ap.add_argument("--python", default=os.path.expanduser("~/stepwise-ref/venv/bin/python"))
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--runs", type=int, default=9, help="timed runs per shape inside each tool (median)")
    ap.add_argument("--one-core", action="store_true", help="taskset -c 0 and one torch thread")
    ap.add_argument("--json", help="write all numbers here")
    a = ap.parse_args()

    prefix = ["taskset", "-c", "0"] if a.one_core else []
    variants = []  # (label, binary, env)
    for spec in a.stepwise:
        label, _, path = spec.rpartition("=")
        label = label or os.path.basename(os.path.dirname(os.path.dirname(path))) or path
        for isa in (a.isa.split(",") if a.isa else [None]):
            env = dict(os.environ)
            if isa:
                env["STEPWISE_ISA"] = isa
            variants.append((f"{label}" + (f"/{isa}" if isa else ""), path, env))

    rows = {}  # key -> {label: [values per repeat]}
    torch_rows, ratios, names, shapes = {}, {}, {}, []
    torch_info = None
    for rep in range(a.repeats):
        got = {}
        for label, path, env in variants:
            out = json.loads(run(prefix + [path, "bench", "--no-model-bench", "--json", "--runs", str(a.runs)], env))
            for r in out["results"]:
                if r["key"].startswith(("matmul.", "packed.", "matvec.")):
                    got[(r["key"], label)] = r["value"]
                    name = r["name"].strip()
                    if r["key"].startswith("packed."):
                        name = names.get("matmul." + r["key"].split(".", 1)[1], r["key"]) + ", pre-packed"
                    names.setdefault(r["key"], name)
                    rows.setdefault(r["key"], {}).setdefault(label, []).append(r["value"])
        if not shapes:
            shapes = sorted({tuple(map(int, k.split(".")[1].split("x"))) for k in names if k.startswith("matmul.")},
                            key=lambda s: list(names).index(f"matmul.{s[0]}x{s[1]}x{s[2]}"))
        t = json.loads(run(prefix + [a.python, "-c", TORCH, "1" if a.one_core else str(os.cpu_count()), str(a.runs),
                                     json.dumps([[m, n, k] for m, k, n in shapes])]))
        torch_info = {k: t[k] for k in ("torch", "threads")}
        for key, v in t["gflops"].items():
            torch_rows.setdefault(key, []).append(v)
            for kind in ("matmul", "packed"):
                for label, _, _ in variants:
                    s = got.get((f"{kind}.{key}", label))
                    if s is not None:
                        ratios.setdefault((f"{kind}.{key}", label), []).append(s / v)
        print(f"repeat {rep + 1}/{a.repeats} done", file=sys.stderr)

    labels = [v[0] for v in variants]
    print(f"GFLOP/s (GB/s for matvec), medians of {a.repeats} repeats; "
          f"{'one core' if a.one_core else f'{os.cpu_count()} cores'}; torch {torch_info['torch']} "
          f"({torch_info['threads']} threads); ratio = stepwise / torch within each repeat")
    w = max(len(n) for n in names.values()) + 2
    c = max(10, max(len(l) for l in labels) + 2)
    r_w = c + 8
    print("".ljust(w) + "".join(l.rjust(c) for l in labels) + "torch".rjust(10) + "".join(f"÷torch {l}".rjust(r_w) for l in labels))
    for key, name in names.items():
        line = name.ljust(w) + "".join((f"{med(rows[key].get(l, [])):{c}.1f}" if rows[key].get(l) else "-".rjust(c)) for l in labels)
        shape = key.split(".", 1)[1]
        tv = med(torch_rows.get(shape, [])) if not key.startswith("matvec.") else None
        line += f"{tv:10.1f}" if tv else "".rjust(10)
        for l in labels:
            r = med(ratios.get((key, l), []))
            line += f"{r:{r_w}.2f}" if r else "".rjust(r_w)
        print(line)
    if a.json:
        with open(a.json, "w") as f:
            json.dump({"stepwise": {k: v for k, v in rows.items()}, "torch": torch_rows,
                       "ratios": {f"{k}|{l}": v for (k, l), v in ratios.items()}, "torch_info": torch_info}, f, indent=1)


if __name__ == "__main__":
    main()
