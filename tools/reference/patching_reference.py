#!/usr/bin/env python3
"""Reference activation patching for Stepwise's `patch` command, computed with PyTorch hooks on Hugging Face
transformers' GPT2LMHeadModel (CPU, float32, eager attention).

    python patching_reference.py OUT.json

TransformerLens's denoising convention: run the corrupted prompt with one activation of the clean prompt copied
in; metric m = logit(A) - logit(B) at the last position; value = (m - m_corrupted) / (m_clean - m_corrupted).
  resid_pre  [layer, pos]   forward pre-hook on transformer.h[l] (its hidden_states input), one position
  attn_out   [layer, pos]   forward hook on h[l].attn (its first output: c_proj's output, bias included), one position
  mlp_out    [layer, pos]   forward hook on h[l].mlp, one position
  z          [layer, head]  forward pre-hook on h[l].attn.c_proj (the merged heads' z), every position of one head
  pattern    [layer, head]  modeling_gpt2.eager_attention_forward wrapped (transformers has no module for the
                            softmax): every query row of one head's attention weights replaced before they weight v
Writes {"transformers", "torch", "cases": [{"model", "clean", "corrupted", "a", "b", "ids_clean", "ids_corrupted",
"m_clean", "m_corrupted", "results": {KIND: [[...]]}}]} for the built-in model (every kind), the random GPT-2
fixture Tests/StepwiseKitTests/Fixtures/gpt2/tied-4h (every kind; ids, no text) and SmolLM2 (every kind, see
`patching_llama_z` and `patching_llama`; LlamaForCausalLM on the float32 HF copy ~/stepwise-ref/models/smollm2-f32-hf, or $SMOLLM2_HF,
dequantized from the Q4_1 GGUF that Stepwise loads).
"""
import json
import os
import sys

import torch
import transformers
from transformers import AutoTokenizer, GPT2LMHeadModel, LlamaForCausalLM
from transformers.models.gpt2 import modeling_gpt2
from transformers.models.llama import modeling_llama

torch.set_grad_enabled(False)
ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")

_original_eager = modeling_gpt2.eager_attention_forward
PATTERN = {"capture": None, "patch": None}  # capture: dict layer -> weights; patch: (layer, head, weights)


def eager_with_pattern(module, query, key, value, attention_mask, scaling=None, dropout=0.0, **kwargs):
    if scaling is None:
        scaling = query.size(-1) ** -0.5
    w = torch.matmul(query, key.transpose(-1, -2)) * scaling
    if attention_mask is not None:
        w = w + attention_mask
    w = torch.nn.functional.softmax(w, dim=-1).type(value.dtype)
    if PATTERN["capture"] is not None:
        PATTERN["capture"][module.layer_idx] = w.clone()
    if PATTERN["patch"] is not None and PATTERN["patch"][0] == module.layer_idx:
        _, h, clean = PATTERN["patch"]
        w = w.clone()
        w[:, h] = clean[:, h]
    out = torch.matmul(w, value).transpose(1, 2)
    return out, w


modeling_gpt2.eager_attention_forward = eager_with_pattern


def llama_eager_with_pattern(module, query, key, value, attention_mask, scaling, dropout=0.0, **kwargs):
    """modeling_llama.eager_attention_forward with the same capture/patch of the softmax output (query heads)."""
    k = modeling_llama.repeat_kv(key, module.num_key_value_groups)
    v = modeling_llama.repeat_kv(value, module.num_key_value_groups)
    w = torch.matmul(query, k.transpose(2, 3)) * scaling
    if attention_mask is not None:
        w = w + attention_mask
    w = torch.nn.functional.softmax(w, dim=-1, dtype=torch.float32).to(query.dtype)
    if PATTERN["capture"] is not None:
        PATTERN["capture"][module.layer_idx] = w.clone()
    if PATTERN["patch"] is not None and PATTERN["patch"][0] == module.layer_idx:
        _, h, clean = PATTERN["patch"]
        w = w.clone()
        w[:, h] = clean[:, h]
    out = torch.matmul(w, v).transpose(1, 2).contiguous()
    return out, w


modeling_llama.eager_attention_forward = llama_eager_with_pattern


def run(model, ids, hooks=()):
    handles = [register() for register in hooks]
    try:
        return model(torch.tensor([ids])).logits[0, -1]
    finally:
        for h in handles:
            h.remove()


def position_patches(model, corrupted, T, acts, l, block, attn, mlp, value):
    """resid_pre, attn_out and mlp_out of layer l, one corrupted run per position with the clean activation
    (acts[KIND + l]) copied in: resid_pre through a pre-hook on the block's hidden_states input, attn_out and
    mlp_out through forward hooks on the attention and MLP modules (their first output). Both families."""
    rows = {}
    for kind in ["resid_pre", "attn_out", "mlp_out"]:
        row = []
        src = acts[f"{kind}{l}"]
        for p in range(T):
            if kind == "resid_pre":
                def pre(_m, args, kwargs, p=p):
                    x = (args[0] if args else kwargs["hidden_states"]).clone()
                    x[:, p] = src[:, p]
                    if args:
                        return (x,) + tuple(args[1:]), kwargs
                    kwargs["hidden_states"] = x
                    return args, kwargs
                reg = lambda pre=pre: block.register_forward_pre_hook(pre, with_kwargs=True)
            else:
                mod = attn if kind == "attn_out" else mlp

                def post(_m, _i, out, p=p):
                    x = (out[0] if isinstance(out, tuple) else out).clone()
                    x[:, p] = src[:, p]
                    return (x,) + tuple(out[1:]) if isinstance(out, tuple) else x
                reg = lambda post=post, mod=mod: mod.register_forward_hook(post)
            row.append(value(run(model, corrupted, [reg])))
        rows[kind] = row
    return rows


def patching(model, clean, corrupted, a, b):
    tr = model.transformer
    L, H, T = model.config.n_layer, model.config.n_head, len(clean)
    dh = model.config.n_embd // H
    acts = {}

    def cap_pre(name):
        def hook(_m, args, kwargs):
            acts[name] = (args[0] if args else kwargs["hidden_states"]).clone()
        return hook

    def cap_out(name):
        def hook(_m, _i, out):
            acts[name] = (out[0] if isinstance(out, tuple) else out).clone()
        return hook

    caps = []
    for l, blk in enumerate(tr.h):
        caps.append(lambda blk=blk, l=l: blk.register_forward_pre_hook(cap_pre(f"resid_pre{l}"), with_kwargs=True))
        caps.append(lambda blk=blk, l=l: blk.attn.register_forward_hook(cap_out(f"attn_out{l}")))
        caps.append(lambda blk=blk, l=l: blk.mlp.register_forward_hook(cap_out(f"mlp_out{l}")))
        caps.append(lambda blk=blk, l=l: blk.attn.c_proj.register_forward_pre_hook(
            lambda _m, inp, l=l: acts.__setitem__(f"z{l}", inp[0].clone())))
    PATTERN["capture"] = {}
    lc = run(model, clean, caps)
    acts["pattern"] = PATTERN["capture"]
    PATTERN["capture"] = None
    lk = run(model, corrupted)
    m_clean, m_corr = float(lc[a] - lc[b]), float(lk[a] - lk[b])

    def value(logits):
        return (float(logits[a] - logits[b]) - m_corr) / (m_clean - m_corr)

    results = {k: [] for k in ["resid_pre", "attn_out", "mlp_out", "z", "pattern"]}
    for l, blk in enumerate(tr.h):
        for kind, row in position_patches(model, corrupted, T, acts, l, blk, blk.attn, blk.mlp, value).items():
            results[kind].append(row)
        row = []
        for h in range(H):
            def zpre(_m, inp, src=acts[f"z{l}"], h=h):
                x = inp[0].clone()
                x[..., h * dh:(h + 1) * dh] = src[..., h * dh:(h + 1) * dh]
                return (x,)
            row.append(value(run(model, corrupted, [lambda zpre=zpre, blk=blk: blk.attn.c_proj.register_forward_pre_hook(zpre)])))
        results["z"].append(row)
        row = []
        for h in range(H):
            PATTERN["patch"] = (l, h, acts["pattern"][l])
            row.append(value(run(model, corrupted)))
            PATTERN["patch"] = None
        results["pattern"].append(row)
    return m_clean, m_corr, results


def patching_llama_z(model, clean, corrupted, a, b):
    """`z` [layer, head] for a Llama (SmolLM2): forward pre-hook on layers[l].self_attn.o_proj (the merged query
    heads' z), every position of one head."""
    H, dh = model.config.num_attention_heads, model.config.head_dim
    layers = model.model.layers
    acts = {}

    def capture(l):
        def hook(_m, args, kwargs):
            acts[l] = (args[0] if args else kwargs["input"]).clone()
        return hook

    lc = run(model, clean, [lambda l=l, layer=layer: layer.self_attn.o_proj.register_forward_pre_hook(capture(l), with_kwargs=True)
                            for l, layer in enumerate(layers)])
    lk = run(model, corrupted)
    m_clean, m_corr = float(lc[a] - lc[b]), float(lk[a] - lk[b])
    rows = []
    for l, layer in enumerate(layers):
        row = []
        for h in range(H):
            def zpre(_m, inp, src=acts[l], h=h):
                x = inp[0].clone()
                x[..., h * dh:(h + 1) * dh] = src[..., h * dh:(h + 1) * dh]
                return (x,) + tuple(inp[1:])
            logits = run(model, corrupted, [lambda zpre=zpre, layer=layer: layer.self_attn.o_proj.register_forward_pre_hook(zpre)])
            row.append((float(logits[a] - logits[b]) - m_corr) / (m_clean - m_corr))
        rows.append(row)
    return m_clean, m_corr, {"z": rows}


def patching_llama(model, clean, corrupted, a, b):
    """resid_pre, attn_out, mlp_out and pattern for a Llama (SmolLM2), beside `patching_llama_z`'s z:
      resid_pre  [layer, pos]   forward pre-hook on model.layers[l] (its hidden_states input), one position
      attn_out   [layer, pos]   forward hook on layers[l].self_attn (its first output: o_proj's output), one position
      mlp_out    [layer, pos]   forward hook on layers[l].mlp, one position
      pattern    [layer, head]  modeling_llama.eager_attention_forward wrapped: every query row of one query head's
                                attention weights replaced before they weight v"""
    m_clean, m_corr, results = patching_llama_z(model, clean, corrupted, a, b)
    layers, H, T = model.model.layers, model.config.num_attention_heads, len(clean)
    acts = {}

    def cap_pre(name):
        def hook(_m, args, kwargs):
            acts[name] = (args[0] if args else kwargs["hidden_states"]).clone()
        return hook

    def cap_out(name):
        def hook(_m, _i, out):
            acts[name] = (out[0] if isinstance(out, tuple) else out).clone()
        return hook

    caps = []
    for l, layer in enumerate(layers):
        caps.append(lambda layer=layer, l=l: layer.register_forward_pre_hook(cap_pre(f"resid_pre{l}"), with_kwargs=True))
        caps.append(lambda layer=layer, l=l: layer.self_attn.register_forward_hook(cap_out(f"attn_out{l}")))
        caps.append(lambda layer=layer, l=l: layer.mlp.register_forward_hook(cap_out(f"mlp_out{l}")))
    PATTERN["capture"] = {}
    run(model, clean, caps)
    pattern = PATTERN["capture"]
    PATTERN["capture"] = None

    def value(logits):
        return (float(logits[a] - logits[b]) - m_corr) / (m_clean - m_corr)

    for kind in ["resid_pre", "attn_out", "mlp_out", "pattern"]:
        results[kind] = []
    for l, layer in enumerate(layers):
        for kind, row in position_patches(model, corrupted, T, acts, l, layer, layer.self_attn, layer.mlp, value).items():
            results[kind].append(row)
        row = []
        for h in range(H):
            PATTERN["patch"] = (l, h, pattern[l])
            row.append(value(run(model, corrupted)))
            PATTERN["patch"] = None
        results["pattern"].append(row)
    return m_clean, m_corr, results


SMOLLM2 = os.path.expanduser(os.environ.get("SMOLLM2_HF", "~/stepwise-ref/models/smollm2-f32-hf"))


def main():
    builtin = os.path.join(ROOT, "Sources/StepwiseKit/Resources/builtin")
    model = GPT2LMHeadModel.from_pretrained(builtin, attn_implementation="eager").eval()
    tok = AutoTokenizer.from_pretrained(builtin)
    cases = []
    for clean, corrupted, a, b in [
        ("Mr. Darcy bowed to Miss Bennet, and Mr. Darcy bowed to Miss",
         "Mr. Darcy bowed to Miss Lucas, and Mr. Darcy bowed to Miss", " Bennet", " Lucas"),
    ]:
        ic, ik = tok(clean)["input_ids"], tok(corrupted)["input_ids"]
        ta, tb = tok(a)["input_ids"], tok(b)["input_ids"]
        assert len(ic) == len(ik) and len(ta) == 1 and len(tb) == 1
        m_clean, m_corr, results = patching(model, ic, ik, ta[0], tb[0])
        cases.append({"model": "builtin", "clean": clean, "corrupted": corrupted, "a": a, "b": b,
                      "ids_clean": ic, "ids_corrupted": ik, "m_clean": m_clean, "m_corrupted": m_corr, "results": results})
    # The random GPT-2 fixture (no tokenizer: ids); A and B are the clean and corrupted runs' top tokens.
    fixture = os.path.join(ROOT, "Tests/StepwiseKitTests/Fixtures/gpt2/tied-4h")
    model = GPT2LMHeadModel.from_pretrained(fixture, attn_implementation="eager").eval()
    ic, ik = [292, 121, 86, 283, 147, 287, 179], [292, 121, 86, 250, 147, 287, 179]
    a, b = int(run(model, ic).argmax()), int(run(model, ik).argmax())
    assert (a, b) == (244, 187), (a, b)
    m_clean, m_corr, results = patching(model, ic, ik, a, b)
    cases.append({"model": "gpt2/tied-4h", "ids_clean": ic, "ids_corrupted": ik, "a": a, "b": b,
                  "m_clean": m_clean, "m_corrupted": m_corr, "results": results})
    # SmolLM2 (float32 HF copy of the Q4_1 GGUF Stepwise loads; no BOS): every kind, one prompt pair.
    model = LlamaForCausalLM.from_pretrained(SMOLLM2, dtype=torch.float32, attn_implementation="eager").eval()
    tok = AutoTokenizer.from_pretrained(SMOLLM2)
    enc = lambda t: tok(t, add_special_tokens=False)["input_ids"]
    for clean, corrupted, a, b in [("The capital of France is", "The capital of Italy is", " Paris", " Rome")]:
        ic, ik, ta, tb = enc(clean), enc(corrupted), enc(a), enc(b)
        assert len(ic) == len(ik) and len(ta) == 1 and len(tb) == 1, (ic, ik, ta, tb)
        m_clean, m_corr, results = patching_llama(model, ic, ik, ta[0], tb[0])
        cases.append({"model": "smollm2", "clean": clean, "corrupted": corrupted, "a": a, "b": b,
                      "ids_clean": ic, "ids_corrupted": ik, "m_clean": m_clean, "m_corrupted": m_corr, "results": results})
    with open(sys.argv[1], "w") as f:
        json.dump({"transformers": transformers.__version__, "torch": torch.__version__, "cases": cases}, f, indent=1)


if __name__ == "__main__":
    main()
