#!/usr/bin/env python3
"""Reference numbers for Stepwise's Gemma 3 family, from Hugging Face transformers' Gemma3ForCausalLM (CPU,
float32, eager attention) on the float32 HF copy of the Q4_K_M GGUF that Stepwise loads
(~/stepwise-ref/models/gemma3-f32-hf, made by ../shared/reference/export_gguf_hf.py; or $GEMMA3_HF).

    python gemma_reference.py OUT.json.gz

Writes {"transformers", "torch", "tokenizer": [{"text", "ids"}], "short": CASE, "long": CASE} where a CASE is
{"prompt", "ids", "hidden": {"positions", "layers": [[pos][d_model]]}, "patterns": {"layers", "queries",
"data": [layer][head][query][key]}, "final_norm_last": [d_model], "logits_top": [[id, logit]] (top 100),
"logits_strided": every 1024th logit of the last position, "greedy": 20 ids of generate(do_sample=False)}.
The long prompt has more than 512 tokens, so the sliding window (512 keys) masks keys on 5 of every 6 layers;
"hidden" holds the residual stream after each decoder layer (its output) at a few positions, "patterns" the
attention rows of a few queries on a few layers (both local and global ones).
"""
import gzip
import json
import os
import sys

import torch
import transformers
from transformers import AutoModelForCausalLM, AutoTokenizer

HF = os.environ.get('GEMMA3_HF', os.path.expanduser('~/stepwise-ref/models/gemma3-f32-hf'))
r6 = lambda t: [float(f'{v:.7g}') for v in t.reshape(-1).tolist()]

TEXTS = [
    "The capital of France is", "Hello world", "  two leading spaces", "a  b   c    d", "tabs\tand\t\tmore",
    "line one\nline two\n\n\nline five", "naïve café, jalapeño, Zürich", "日本語のテキストと中文", "emoji 😀🎉 ok",
    "<start_of_turn>user\nhi<end_of_turn>", "<unused0> and [multimodal] inline", "x<bos>y", "1234567890 3.14159",
    "Don't stop—ever.", "   ", "\n", "trailing space ", "ÀÉÎÕÜ ñ ß ø å", "𝔘𝔫𝔦𝔠𝔬𝔡𝔢 math 𝟙𝟚𝟛", "zero\u200bwidth",
]

def long_prompt():
    adjs = ['old', 'quiet', 'bright', 'narrow', 'crowded', 'distant', 'green', 'broken', 'heavy', 'small']
    nouns = ['mill', 'bridge', 'garden', 'market', 'station', 'library', 'harbour', 'tower', 'orchard', 'chapel']
    verbs = ['stood', 'waited', 'shone', 'rested', 'appeared', 'vanished', 'changed', 'grew', 'slept', 'fell']
    out = []
    for i in range(60):
        out.append(f"On day {i + 1} the {adjs[i % 10]} {nouns[(3 * i) % 10]} {verbs[(7 * i) % 10]} beside the {nouns[(i + 5) % 10]}.")
    return ' '.join(out) + ' In the end, the traveller remembered the'

def case(m, tok, prompt, positions, layers, queries):
    ids = tok(prompt, return_tensors='pt').input_ids
    T = ids.shape[1]
    rec = {}
    hooks = [layer.register_forward_hook(lambda mod, i, o, L=L: rec.__setitem__(L, (o[0] if isinstance(o, tuple) else o)[0]))
             for L, layer in enumerate(m.model.layers)]
    hooks.append(m.model.norm.register_forward_hook(lambda mod, i, o: rec.__setitem__('norm', o[0])))
    with torch.no_grad():
        res = m(ids, output_attentions=True)
    for h in hooks:
        h.remove()
    pos = [p if p >= 0 else T + p for p in positions]
    qs = [q if q >= 0 else T + q for q in queries]
    last = res.logits[0, -1]
    top = torch.topk(last, 100)
    with torch.no_grad():
        greedy = m.generate(ids, do_sample=False, max_new_tokens=20)[0, T:].tolist()
    return {
        'prompt': prompt, 'ids': ids[0].tolist(),
        'hidden': {'positions': pos, 'layers': [[r6(rec[L][p]) for p in pos] for L in range(len(m.model.layers))]},
        'patterns': {'layers': layers, 'queries': qs,
                     'data': [[[r6(res.attentions[L][0, h, q]) for q in qs] for h in range(res.attentions[L].shape[1])] for L in layers]},
        'final_norm_last': r6(rec['norm'][-1]),
        'logits_top': [[int(i), float(f'{v:.7g}')] for v, i in zip(top.values.tolist(), top.indices.tolist())],
        'logits_strided': r6(last[::1024]),
        'greedy': greedy,
    }

def main():
    out = sys.argv[1]
    tok = AutoTokenizer.from_pretrained(HF)
    m = AutoModelForCausalLM.from_pretrained(HF, dtype=torch.float32, attn_implementation='eager').eval()
    doc = {'transformers': transformers.__version__, 'torch': torch.__version__,
           'tokenizer': [{'text': t, 'ids': tok(t).input_ids} for t in TEXTS]}
    doc['short'] = case(m, tok, "The capital of France is", [0, -1], [0, 5, 17], [-1])
    doc['long'] = case(m, tok, long_prompt(), [0, 511, 515, -1], [0, 4, 5, 11, 17], [511, 515, -1])
    with gzip.open(out, 'wt') as f:
        json.dump(doc, f)
    print('wrote', out, 'long prompt', len(doc['long']['ids']), 'tokens; greedy', doc['short']['greedy'][:8])

main()
