"""Times transformers (PyTorch CPU) on a Llama folder: a forward pass with output_attentions and
output_hidden_states (the closest thing to a traced pass), and greedy generation with the KV cache.
Prints one JSON object. Run with the reference venv's python:
    python hf_forward.py FOLDER --prompt 32 --generate 32 --runs 5 --threads 2
"""
import argparse, json, resource, statistics, time

import torch
from transformers import AutoModelForCausalLM

p = argparse.ArgumentParser()
p.add_argument("folder")
p.add_argument("--prompt", type=int, default=32)
p.add_argument("--generate", type=int, default=32)
p.add_argument("--runs", type=int, default=5)
p.add_argument("--threads", type=int, default=2)
a = p.parse_args()

torch.set_num_threads(a.threads)
t0 = time.perf_counter()
model = AutoModelForCausalLM.from_pretrained(a.folder, torch_dtype=torch.float32, attn_implementation="eager")
model.eval()
load = time.perf_counter() - t0
g = torch.Generator().manual_seed(7)
ids = torch.randint(0, model.config.vocab_size, (1, a.prompt), generator=g)


def timed(fn):
    fn()
    times = []
    for _ in range(a.runs):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times)


with torch.inference_mode():
    traced = timed(lambda: model(ids, output_attentions=True, output_hidden_states=True, use_cache=False))
    plain = timed(lambda: model(ids, use_cache=False))
    gen = None
    if a.generate > 0:
        prompt = ids[:, :8]
        gen = timed(lambda: model.generate(prompt, max_new_tokens=a.generate, min_new_tokens=a.generate,
                                           do_sample=False, pad_token_id=0))
out = {
    "load_s": load,
    "forward_traced_tok_s": a.prompt / traced, "forward_traced_ms": traced * 1000,
    "forward_plain_tok_s": a.prompt / plain,
    "generate_tok_s": (a.generate / gen) if gen else None,
    "peak_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    "torch": torch.__version__,
}
print(json.dumps(out))
