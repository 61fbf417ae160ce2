#!/usr/bin/env python3
"""Greedy continuations of SmolLM2-135M by transformers' generate(do_sample=False), for the generation tests.

Usage: python smollm2_greedy.py MODEL_DIR OUT.json
MODEL_DIR is the float32 HF copy made by ../../../shared/reference/export_smollm2_hf.py (the Q4_1 GGUF
dequantized). Prompt ids come from the GGUF's tokenizer rules (digits split), given here literally.
"""
import json
import sys

import torch
from transformers import AutoModelForCausalLM

PROMPTS = {
    "The capital of France is": [504, 3575, 282, 4649, 314],
    "Once upon a time there was a little girl named": [6403, 1980, 253, 655, 665, 436, 253, 1838, 8180, 3365],
}

model = AutoModelForCausalLM.from_pretrained(sys.argv[1], dtype=torch.float32).eval()
cases = []
for text, ids in PROMPTS.items():
    out = model.generate(torch.tensor([ids]), attention_mask=torch.ones(1, len(ids), dtype=torch.long),
                         max_new_tokens=20, do_sample=False, eos_token_id=None, pad_token_id=0)
    cases.append({"prompt": text, "ids": ids, "greedy": out[0, len(ids):].tolist()})
    print(text, out[0, len(ids):].tolist())
json.dump({"model": "SmolLM2-135M-Instruct Q4_1 dequantized", "cases": cases}, open(sys.argv[2], "w"), indent=1)
