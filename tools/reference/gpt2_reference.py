#!/usr/bin/env python3
"""Reference values for Stepwise's GPT-2 trace, computed by Hugging Face transformers (PyTorch, CPU, float32).

Two uses:
  random   make small random-init GPT2LMHeadModel checkpoints (fixed seeds, several shapes) and dump
           every traced step for a few token sequences:
             python gpt2_reference.py random OUT_DIR
  folder   dump every traced step of an existing GPT-2 folder (e.g. the built-in model) for prompts:
             python gpt2_reference.py folder MODEL_DIR OUT.json "prompt one" "prompt two" ...

Each dump is JSON: {"cases": [{"prompt"?, "ids": [...], "steps": {NAME: {"shape": [...], "data": [flat]}},
"greedy": [20 ids]}]} (a masked score is null) with step names as Stepwise records them (TransformerLens hook names, batch axis dropped).
Module outputs are captured with forward hooks; the norm's scale and normalized halves and the
unmasked scores are recomputed from the captured inputs with the same formulas transformers uses.
Run it with the reference environment's python (../../../shared/reference/setup.sh).
"""
import json
import os
import sys

import torch
from transformers import GPT2Config, GPT2LMHeadModel

torch.set_grad_enabled(False)


def ln_parts(x, eps):
    mean = x.mean(-1, keepdim=True)
    var = ((x - mean) ** 2).mean(-1, keepdim=True)
    scale = torch.sqrt(var + eps)
    return scale, (x - mean) / scale


def trace(model, ids):
    cfg = model.config
    T, H = len(ids), cfg.n_head
    dh = cfg.n_embd // H
    caps = {}
    hooks = []
    tr = model.transformer

    def save(name):
        def hook(_m, _inp, out):
            caps[name] = (out[0] if isinstance(out, tuple) else out).detach()[0]
        return hook

    def save_in(name):
        def hook(_m, inp):
            caps[name] = inp[0].detach()[0]
        return hook

    hooks.append(tr.wte.register_forward_hook(save('hook_embed')))
    hooks.append(tr.wpe.register_forward_hook(save('hook_pos_embed')))
    for L, blk in enumerate(tr.h):
        p = f'blocks.{L}'
        hooks.append(blk.register_forward_pre_hook(save_in(f'{p}.hook_resid_pre')))
        hooks.append(blk.ln_1.register_forward_hook(save(f'{p}.ln1.hook_out')))
        hooks.append(blk.attn.c_attn.register_forward_hook(save(f'{p}.attn.qkv')))
        hooks.append(blk.attn.c_proj.register_forward_pre_hook(save_in(f'{p}.attn.z_flat')))
        hooks.append(blk.attn.c_proj.register_forward_hook(save(f'{p}.hook_attn_out')))
        hooks.append(blk.ln_2.register_forward_pre_hook(save_in(f'{p}.hook_resid_mid')))
        hooks.append(blk.ln_2.register_forward_hook(save(f'{p}.ln2.hook_out')))
        hooks.append(blk.mlp.c_fc.register_forward_hook(save(f'{p}.mlp.hook_pre')))
        hooks.append(blk.mlp.act.register_forward_hook(save(f'{p}.mlp.hook_post')))
        hooks.append(blk.mlp.register_forward_hook(save(f'{p}.hook_mlp_out')))
        hooks.append(blk.register_forward_hook(save(f'{p}.hook_resid_post')))
    hooks.append(tr.ln_f.register_forward_hook(save('ln_final.hook_out')))
    out = model(torch.tensor([ids]), output_attentions=True)
    for h in hooks:
        h.remove()

    steps = {}
    def put(name, t):
        # 8 significant digits keep float32 values exact; JSON has no infinity, so a masked score is null.
        steps[name] = {'shape': list(t.shape),
                       'data': [None if v == float('-inf') else float(f'{v:.8g}') for v in t.reshape(-1).tolist()]}

    put('hook_embed', caps['hook_embed'])
    put('hook_pos_embed', caps['hook_pos_embed'])
    eps = cfg.layer_norm_epsilon
    for L in range(cfg.n_layer):
        p = f'blocks.{L}'
        x = caps[f'{p}.hook_resid_pre']
        put(f'{p}.hook_resid_pre', x)
        s, n = ln_parts(x, eps)
        put(f'{p}.ln1.hook_scale', s)
        put(f'{p}.ln1.hook_normalized', n)
        put(f'{p}.ln1.hook_out', caps[f'{p}.ln1.hook_out'])
        qkv = caps[f'{p}.attn.qkv']
        d = cfg.n_embd
        q, k, v = (qkv[:, i * d:(i + 1) * d].reshape(T, H, dh) for i in range(3))
        put(f'{p}.attn.hook_q', q)
        put(f'{p}.attn.hook_k', k)
        put(f'{p}.attn.hook_v', v)
        scale = (1.0 / dh ** 0.5) if cfg.scale_attn_weights else 1.0
        if cfg.scale_attn_by_inverse_layer_idx:
            scale /= (L + 1)
        raw = torch.einsum('qhd,khd->hqk', q, k) * scale
        put(f'{p}.attn.hook_attn_scores_unmasked', raw)
        mask = torch.triu(torch.ones(T, T, dtype=torch.bool), 1)
        put(f'{p}.attn.hook_attn_scores', raw.masked_fill(mask, float('-inf')))
        put(f'{p}.attn.hook_pattern', out.attentions[L][0])
        z = caps[f'{p}.attn.z_flat'].reshape(T, H, dh)
        put(f'{p}.attn.hook_z', z)
        W = model.transformer.h[L].attn.c_proj.weight  # Conv1D [in, out]
        result = torch.einsum('qhd,hdm->qhm', z, W.reshape(H, dh, d))
        put(f'{p}.attn.hook_result', result)
        put(f'{p}.hook_attn_out', caps[f'{p}.hook_attn_out'])
        mid = caps[f'{p}.hook_resid_mid']
        put(f'{p}.hook_resid_mid', mid)
        s, n = ln_parts(mid, eps)
        put(f'{p}.ln2.hook_scale', s)
        put(f'{p}.ln2.hook_normalized', n)
        put(f'{p}.ln2.hook_out', caps[f'{p}.ln2.hook_out'])
        put(f'{p}.mlp.hook_pre', caps[f'{p}.mlp.hook_pre'])
        put(f'{p}.mlp.hook_post', caps[f'{p}.mlp.hook_post'])
        put(f'{p}.hook_mlp_out', caps[f'{p}.hook_mlp_out'])
        put(f'{p}.hook_resid_post', caps[f'{p}.hook_resid_post'])
    s, n = ln_parts(caps[f'blocks.{cfg.n_layer - 1}.hook_resid_post'], eps)
    put('ln_final.hook_scale', s)
    put('ln_final.hook_normalized', n)
    put('ln_final.hook_out', caps['ln_final.hook_out'])
    put('logits', out.logits[0])
    # Greedy continuation, for the generation tests.
    n_new = min(20, cfg.n_positions - T)
    gen = model.generate(torch.tensor([ids]), attention_mask=torch.ones(1, T, dtype=torch.long),
                         max_new_tokens=n_new, do_sample=False,
                         pad_token_id=cfg.eos_token_id if cfg.eos_token_id is not None else 0,
                         eos_token_id=None)
    return {'ids': ids, 'steps': steps, 'greedy': gen[0, T:].tolist()}


RANDOM_MODELS = [
    # name, config overrides
    ('tied-4h', dict(vocab_size=300, n_positions=64, n_embd=32, n_layer=2, n_head=4)),
    ('untied-3h', dict(vocab_size=257, n_positions=48, n_embd=48, n_layer=3, n_head=3, tie_word_embeddings=False)),
    ('relu-inner', dict(vocab_size=200, n_positions=32, n_embd=40, n_layer=1, n_head=5, n_inner=72,
                        activation_function='relu', scale_attn_by_inverse_layer_idx=True)),
    ('gelu-exact', dict(vocab_size=128, n_positions=40, n_embd=24, n_layer=2, n_head=6, activation_function='gelu')),
]


def make_random(out_dir):
    for i, (name, kw) in enumerate(RANDOM_MODELS):
        torch.manual_seed(1000 + i)
        cfg = GPT2Config(bos_token_id=0, eos_token_id=0, **kw)
        model = GPT2LMHeadModel(cfg).eval()
        model.set_attn_implementation('eager')
        # Larger than default init so patterns are not uniform and the norms do real work.
        with torch.no_grad():
            for pn, prm in model.named_parameters():
                if pn.endswith('weight') and prm.dim() == 2:
                    prm.normal_(0, 0.12)
                elif 'bias' in pn:
                    prm.normal_(0, 0.1)
                elif 'ln' in pn and pn.endswith('weight'):
                    prm.uniform_(0.5, 1.5)
        folder = os.path.join(out_dir, name)
        model.save_pretrained(folder)
        g = torch.Generator().manual_seed(7 + i)
        cases = []
        for T in (1, 7, 13):
            ids = torch.randint(0, cfg.vocab_size, (T,), generator=g).tolist()
            cases.append(trace(model, ids))
        with open(os.path.join(folder, 'reference.json'), 'w') as f:
            json.dump({'model': name, 'transformers': __import__('transformers').__version__,
                       'torch': torch.__version__, 'cases': cases}, f)
        print('wrote', folder)


def dump_folder(model_dir, out_path, prompts):
    from transformers import AutoTokenizer
    tok = AutoTokenizer.from_pretrained(model_dir)
    model = GPT2LMHeadModel.from_pretrained(model_dir, attn_implementation='eager').eval()
    cases = []
    for prompt in prompts:
        ids = tok(prompt)['input_ids']
        c = trace(model, ids)
        c['prompt'] = prompt
        cases.append(c)
    with open(out_path, 'w') as f:
        json.dump({'model': os.path.basename(os.path.normpath(model_dir)),
                   'transformers': __import__('transformers').__version__, 'torch': torch.__version__,
                   'cases': cases}, f)
    print('wrote', out_path)


if __name__ == '__main__':
    if len(sys.argv) >= 3 and sys.argv[1] == 'random':
        make_random(sys.argv[2])
    elif len(sys.argv) >= 5 and sys.argv[1] == 'folder':
        dump_folder(sys.argv[2], sys.argv[3], sys.argv[4:])
    else:
        sys.exit(__doc__)
