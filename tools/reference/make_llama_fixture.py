#!/usr/bin/env python3
"""Make the tiny random Llama fixture and its transformers reference outputs.

Writes Tests/StepwiseKitTests/Fixtures/llama/tiny-random/ with
  config.json, model.safetensors  (LlamaForCausalLM random init, weights stored as F16 to stay small;
                                   the reference runs on exactly those values promoted to float32)
  reference.json                  ids, per-layer hidden states (residual after each layer),
                                  attention probabilities [H,T,T], final_norm, logits [T,V],
                                  and q/k after RoPE for layer 0 ([T, H*hd] / [T, KV*hd], HF order)
The model has grouped-query attention (4 query heads, 2 kv heads), an untied LM head, a rope_theta and
RMSNorm eps that differ from SmolLM2's, and random (not all-one) RMSNorm weights.
Usage: ~/stepwise-ref/venv/bin/python tools/reference/make_llama_fixture.py
"""
import json
import os
import tempfile

import torch
from safetensors.torch import load_file, save_file
from transformers import LlamaConfig, LlamaForCausalLM
from transformers.models.llama.modeling_llama import apply_rotary_pos_emb

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, '..', '..', 'Tests', 'StepwiseKitTests', 'Fixtures', 'llama', 'tiny-random')


def main():
    torch.manual_seed(20240607)
    cfg = LlamaConfig(vocab_size=96, hidden_size=64, intermediate_size=96, num_hidden_layers=2,
                      num_attention_heads=4, num_key_value_heads=2, head_dim=16, max_position_embeddings=64,
                      rms_norm_eps=1e-6, rope_theta=10000.0, tie_word_embeddings=False,
                      initializer_range=0.25, attention_bias=False, mlp_bias=False, hidden_act='silu',
                      bos_token_id=1, eos_token_id=2, pad_token_id=None)
    model = LlamaForCausalLM(cfg).eval()
    with torch.no_grad():
        for name, p in model.named_parameters():
            if name.endswith('norm.weight'):
                p.copy_(1 + 0.3 * torch.randn_like(p))
    os.makedirs(OUT, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        model.save_pretrained(tmp)
        with open(os.path.join(tmp, 'config.json')) as fh:
            config_text = fh.read()
        state = load_file(os.path.join(tmp, 'model.safetensors'))
    half = {k: v.to(torch.float16).contiguous() for k, v in state.items()}
    save_file(half, os.path.join(OUT, 'model.safetensors'), metadata={'format': 'pt'})
    with open(os.path.join(OUT, 'config.json'), 'w') as fh:
        fh.write(config_text)
    # reload so the reference runs on the F16-rounded values
    model = LlamaForCausalLM.from_pretrained(OUT, dtype=torch.float32, attn_implementation='eager').eval()

    ids = [5, 17, 3, 88, 42, 42, 9, 60]
    T, H, KV, hd = len(ids), cfg.num_attention_heads, cfg.num_key_value_heads, cfg.head_dim
    store = {}
    hooks = [model.model.layers[0].self_attn.q_proj.register_forward_hook(lambda m, i, o: store.__setitem__('q', o)),
             model.model.layers[0].self_attn.k_proj.register_forward_hook(lambda m, i, o: store.__setitem__('k', o)),
             model.model.rotary_emb.register_forward_hook(lambda m, i, o: store.__setitem__('cs', o)),
             model.model.norm.register_forward_hook(lambda m, i, o: store.__setitem__('final_norm', o))]
    for i, layer in enumerate(model.model.layers):
        hooks.append(layer.register_forward_hook(lambda m, i_, o, i=i: store.__setitem__(f'h{i}', o[0] if isinstance(o, tuple) else o)))
    with torch.no_grad():
        out = model(input_ids=torch.tensor([ids]), output_attentions=True, use_cache=False)
    for h in hooks:
        h.remove()
    cos, sin = store['cs']
    q = store['q'].view(1, T, H, hd).transpose(1, 2)
    k = store['k'].view(1, T, KV, hd).transpose(1, 2)
    qr, kr = apply_rotary_pos_emb(q, k, cos, sin)

    def entry(t):
        t = t.detach().float()
        return {'shape': list(t.shape), 'data': [float(x) for x in t.reshape(-1).tolist()]}

    ref = {
        'note': 'transformers LlamaForCausalLM (eager attention, float32) on the F16 weights of model.safetensors',
        'ids': ids,
        'hidden': [entry(store[f'h{i}'][0]) for i in range(cfg.num_hidden_layers)],
        'attn_probs': [entry(a[0]) for a in out.attentions],
        'layer0_q_rope': entry(qr.transpose(1, 2).reshape(T, H * hd)),
        'layer0_k_rope': entry(kr.transpose(1, 2).reshape(T, KV * hd)),
        'rope_cos': entry(cos[0]),
        'rope_sin': entry(sin[0]),
        'final_norm': entry(store['final_norm'][0]),
        'logits': entry(out.logits[0]),
    }
    with open(os.path.join(OUT, 'reference.json'), 'w') as fh:
        json.dump(ref, fh)
    print('wrote', OUT, {f: os.path.getsize(os.path.join(OUT, f)) for f in os.listdir(OUT)})


if __name__ == '__main__':
    main()
