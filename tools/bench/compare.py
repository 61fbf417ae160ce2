#!/usr/bin/env python3
"""Stepwise vs llama.cpp vs transformers on the same GGUF / HF model, side by side, repeated.

Each repeat runs, one after the other: `stepwise bench` (traced 32-token forward pass, generation with
the KV cache, load to first prompt, peak memory), llama.cpp's `llama-bench` (untraced prompt processing
and generation, 2 threads) and transformers (forward with output_attentions + output_hidden_states,
torch.set_num_threads(2)). The machine may be shared, so every number is the median over repeats, and
each ratio is taken within one repeat before the median. Also measures the REPL's start-up and
per-command latency on a small model.

    tools/bench/compare.py [--repeats 3] [--json out.json]

llama.cpp is built by tools/bench/build_llamacpp.sh (sources from the llama-cpp-python sdist on PyPI,
built in /tmp); Stepwise by `swift build -c release`. Only the standard library is needed here; the
transformers part runs in --python (the reference venv).
"""
import argparse, json, os, statistics, subprocess, sys, time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
MODELS = os.environ.get("STEPWISE_MODELS", "/root/stepwise-ref/models")


def run(cmd):
    """Runs cmd; returns (stdout, wall seconds), or (None, None) if it failed."""
    t0 = time.perf_counter()
    p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    wall = time.perf_counter() - t0
    if p.returncode != 0:
        print(f"warning: {' '.join(cmd)} exited {p.returncode}: {p.stderr.strip()[-300:]}", file=sys.stderr)
        return None, None
    return p.stdout, wall


def run_peak(cmd):
    """Runs cmd; returns (stdout, wall seconds, peak RSS MiB)."""
    t0 = time.perf_counter()
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.dup2(w, 1)
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, 2)
        os.close(r)
        os.execvp(cmd[0], cmd)
    os.close(w)
    chunks = []
    while True:
        b = os.read(r, 65536)
        if not b:
            break
        chunks.append(b)
    os.close(r)
    _, status, usage = os.wait4(pid, 0)
    wall = time.perf_counter() - t0
    if os.waitstatus_to_exitcode(status) != 0:
        sys.exit(f"error: {' '.join(cmd)} failed ({status})")
    return b"".join(chunks).decode(), wall, usage.ru_maxrss / 1024


def med(xs):
    xs = [x for x in xs if x is not None]
    return statistics.median(xs) if xs else None


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--gguf", default=f"{MODELS}/smollm2/SmolLM2-135M-Instruct.Q4_1.gguf")
    ap.add_argument("--hf", default=f"{MODELS}/smollm2-f32-hf")
    ap.add_argument("--python", default="/root/stepwise-ref/venv/bin/python")
    ap.add_argument("--small-model", default=None, help="model for REPL latency (default: built-in, else /tmp/gpt2demo)")
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--runs", type=int, default=5, help="timed runs inside each tool per repeat")
    ap.add_argument("--prompt", type=int, default=32)
    ap.add_argument("--generate", type=int, default=32)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--skip-transformers", action="store_true")
    ap.add_argument("--skip-llamacpp", action="store_true")
    ap.add_argument("--json", help="write all numbers here")
    a = ap.parse_args()

    stepwise = os.path.join(ROOT, ".build/release/stepwise")
    print("building stepwise (release)...", file=sys.stderr)
    subprocess.run(["swift", "build", "-c", "release", "--product", "stepwise"], cwd=ROOT, check=True,
                   stdout=subprocess.DEVNULL)
    llama_bin = None
    if not a.skip_llamacpp:
        print("building llama.cpp (first time: several minutes)...", file=sys.stderr)
        out = subprocess.run([os.path.join(HERE, "build_llamacpp.sh")], check=True, stdout=subprocess.PIPE, text=True).stdout
        llama_bin = out.strip().splitlines()[-1]

    rows = {k: [] for k in ["sw_fwd", "sw_gen", "sw_load", "sw_rss", "ll_pp", "ll_tg", "ll_load", "ll_rss",
                            "hf_fwd", "hf_plain", "hf_gen", "hf_rss", "r_fwd_ll", "r_fwd_hf", "r_gen_ll", "r_rss_ll",
                            "r_load_ll"]}
    for rep in range(a.repeats):
        print(f"repeat {rep + 1}/{a.repeats}", file=sys.stderr)
        out, _, rss = run_peak([stepwise, "bench", "--model", a.gguf, "--no-matmul", "--prompts", str(a.prompt),
                                "--generate", str(a.generate), "--runs", str(a.runs), "--json"])
        sw = {r["key"]: r["value"] for r in json.loads(out)["results"]}
        rows["sw_fwd"].append(sw[f"forward.{a.prompt}"]); rows["sw_gen"].append(sw["generate"])
        rows["sw_load"].append(sw["load_to_first_prompt"] / 1000); rows["sw_rss"].append(rss)
        if llama_bin:
            out, _, rss = run_peak([os.path.join(llama_bin, "llama-bench"), "-m", a.gguf, "-t", str(a.threads),
                                    "-p", str(a.prompt), "-n", str(a.generate), "-r", str(a.runs), "-o", "json"])
            for r in json.loads(out):
                if r["n_prompt"] > 0 and r["n_gen"] == 0: rows["ll_pp"].append(r["avg_ts"])
                if r["n_gen"] > 0 and r["n_prompt"] == 0: rows["ll_tg"].append(r["avg_ts"])
            rows["ll_rss"].append(rss)
            # load + an 8-token prompt, one run: the wall time of the whole process
            _, wall, _ = run_peak([os.path.join(llama_bin, "llama-bench"), "-m", a.gguf, "-t", str(a.threads),
                                   "-p", "8", "-n", "0", "-r", "1", "-o", "json"])
            rows["ll_load"].append(wall)
            rows["r_fwd_ll"].append(rows["sw_fwd"][-1] / rows["ll_pp"][-1])
            rows["r_gen_ll"].append(rows["sw_gen"][-1] / rows["ll_tg"][-1])
            rows["r_rss_ll"].append(rows["sw_rss"][-1] / rows["ll_rss"][-1])
            rows["r_load_ll"].append(rows["sw_load"][-1] / rows["ll_load"][-1])
        if not a.skip_transformers:
            out, _, rss = run_peak([a.python, os.path.join(HERE, "hf_forward.py"), a.hf, "--prompt", str(a.prompt),
                                    "--generate", str(a.generate), "--runs", str(a.runs), "--threads", str(a.threads)])
            hf = json.loads(out.strip().splitlines()[-1])
            rows["hf_fwd"].append(hf["forward_traced_tok_s"]); rows["hf_plain"].append(hf["forward_plain_tok_s"])
            rows["hf_gen"].append(hf["generate_tok_s"]); rows["hf_rss"].append(rss)
            rows["r_fwd_hf"].append(rows["sw_fwd"][-1] / rows["hf_fwd"][-1])

    # REPL latency on a small model.
    small = a.small_model
    if small is None:
        builtin = os.path.join(ROOT, "Sources/StepwiseKit/Resources/builtin")
        has_builtin = os.path.isdir(builtin) and any(not n.startswith(".") for n in os.listdir(builtin))
        small = None if has_builtin else "/tmp/gpt2demo"
    latency = {}
    if small is None or os.path.isdir(small):
        base = [stepwise] + (["--model", small] if small else []) + ["--color", "never"]
        def wall(extra, n=15):
            ts = []
            for _ in range(n):
                _, t = run(base + extra)
                if t is None:
                    return None
                ts.append(t)
            return statistics.median(ts)
        ready = wall(["-e", "help"])
        if ready is None and small is None and os.path.isdir("/tmp/gpt2demo"):
            small = "/tmp/gpt2demo"
            base = [stepwise, "--model", small, "--color", "never"]
            ready = wall(["-e", "help"])
        latency["repl_ready_ms"] = ready * 1000
        prompt = ["-e", "prompt The cat sat on the mat because it was"]
        with_prompt = wall(prompt)
        latency["prompt_ms"] = (with_prompt - ready) * 1000
        for cmd in ["info", "steps", "next", "show blocks.0.attn.hook_pattern", "attn 0 0", "heads 0", "top", "logits", "ffn 0"]:
            t = wall(prompt + ["-e", cmd])
            if t is not None:
                latency[f"cmd {cmd}"] = (t - with_prompt) * 1000
        latency["model"] = small or "built-in"

    m = {k: med(v) for k, v in rows.items()}
    def f(x, fmt="{:8.1f}"):
        return fmt.format(x) if x is not None else "     n/a"
    print(f"\n{os.path.basename(a.gguf)}, {a.threads} threads, {a.prompt}-token prompt, "
          f"{a.generate} generated tokens; medians of {a.repeats} repeats x {a.runs} runs")
    print(f"{'':34}{'Stepwise':>10}{'llama.cpp':>11}{'transformers':>14}")
    print(f"{'prompt tokens/s (Stepwise traced)':34}{f(m['sw_fwd']):>10}{f(m['ll_pp']):>11}{f(m['hf_fwd']):>14}   (transformers untraced: {f(m['hf_plain']).strip()})")
    print(f"{'generation tokens/s':34}{f(m['sw_gen']):>10}{f(m['ll_tg']):>11}{f(m['hf_gen']):>14}")
    print(f"{'load to first prompt, s':34}{f(m['sw_load'], '{:8.2f}'):>10}{f(m['ll_load'], '{:8.2f}'):>11}")
    print(f"{'peak RSS, MiB':34}{f(m['sw_rss'], '{:8.0f}'):>10}{f(m['ll_rss'], '{:8.0f}'):>11}{f(m['hf_rss'], '{:8.0f}'):>14}")
    print("\nratios (per repeat, median):")
    # The targets of issue #20: (name, value, bound, True when the value must be at least the bound).
    checks = [("traced forward / llama.cpp prompt", m["r_fwd_ll"], 1.2, True),
              ("traced forward / transformers traced", m["r_fwd_hf"], 1.0, True),
              ("generation / llama.cpp", m["r_gen_ll"], 1.0, True),
              ("peak RSS / llama.cpp", m["r_rss_ll"], 2.0, False),
              ("load to first prompt / llama.cpp", m["r_load_ll"], 2.0, False),
              ("first prompt of a fresh process, s", m["sw_load"], 0.5, False)]
    for name, v, bound, at_least in checks:
        ok = "n/a" if v is None else ("met" if (v >= bound if at_least else v <= bound) else "NOT met")
        print(f"  {name:40} {f(v, '{:6.2f}')}  target {'>=' if at_least else '<='} {bound}: {ok}")
    if latency:
        print(f"\nREPL on {latency['model']} (median of 15 process runs; commands = difference of two runs):")
        for k, v in latency.items():
            if k != "model":
                print(f"  {k:40} {v:7.1f} ms")
    if a.json:
        with open(a.json, "w") as fh:
            json.dump({"medians": m, "per_repeat": rows, "repl": latency}, fh, indent=2)


if __name__ == "__main__":
    main()
