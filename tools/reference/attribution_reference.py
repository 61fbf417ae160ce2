#!/usr/bin/env python3
"""Reference direct logit attribution for Stepwise's `attribute` command, computed with PyTorch forward
hooks on Hugging Face transformers' GPT2LMHeadModel (CPU, float32 model, float64 arithmetic).

    python attribution_reference.py OUT.json

Writes {"transformers", "torch", "cases": [{"model", "prompt"?, "ids", "a", "b", "labels", "values",
"logit", "sum"}]} for the built-in model (Sources/StepwiseKit/Resources/builtin, prompts as text) and the
random GPT-2 fixture Tests/StepwiseKitTests/Fixtures/gpt2/tied-4h (ids), and SmolLM2 (LlamaForCausalLM on the float32
HF copy ~/stepwise-ref/models/smollm2-f32-hf, or $SMOLLM2_HF, dequantized from the Q4_1 GGUF Stepwise loads).

The terms are TransformerLens's `get_full_resid_decomposition(expand_neurons=False)` at the last position,
labelled and ordered as it does: `L{l}H{h}` (each head's z through its slice of W_O, hooked at the input of
`attn.c_proj`), `{l}_mlp_out` (the `mlp` module's output, its output bias included), `embed` (`wte`), `pos_embed`
(`wpe`) and `bias` (the attention output biases c_proj.bias summed over layers). Each is centred, divided by the
final LayerNorm's scale sqrt(var + eps) of the residual that enters `ln_f` (hooked), multiplied by ln_f's weight
and dotted with W_U[A] - W_U[B]; `bias` also gets ln_f.bias . (W_U[A] - W_U[B]) (GPT-2's lm_head has no bias).
SmolLM2's terms: see `attribution_llama`.
`logit` is the model's own logit (difference) at the last position; `sum` the sum of the terms.
"""
import json
import os
import sys

import torch
import transformers
from transformers import AutoTokenizer, GPT2LMHeadModel, LlamaForCausalLM

torch.set_grad_enabled(False)
ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")


def attribution(model, ids, a, b):
    cfg = model.config
    tr = model.transformer
    H, d = cfg.n_head, cfg.n_embd
    dh = d // H
    caps = {}
    hooks = []

    def out_hook(name):
        def hook(_m, _inp, out):
            caps[name] = (out[0] if isinstance(out, tuple) else out).detach()[0, -1].double()
        return hook

    def in_hook(name):
        def hook(_m, inp):
            caps[name] = inp[0].detach()[0, -1].double()
        return hook

    hooks.append(tr.wte.register_forward_hook(out_hook("embed")))
    hooks.append(tr.wpe.register_forward_hook(out_hook("pos_embed")))
    for l, block in enumerate(tr.h):
        hooks.append(block.attn.c_proj.register_forward_pre_hook(in_hook(f"z{l}")))
        hooks.append(block.mlp.register_forward_hook(out_hook(f"{l}_mlp_out")))
    hooks.append(tr.ln_f.register_forward_pre_hook(in_hook("resid_final")))
    logits = model(torch.tensor([ids])).logits[0, -1].double()
    for h in hooks:
        h.remove()

    W_U = model.lm_head.weight.detach().double()  # [vocab, d]
    u = W_U[a] - (W_U[b] if b is not None else 0)
    w_f = tr.ln_f.weight.detach().double()
    b_f = tr.ln_f.bias.detach().double()
    x = caps["resid_final"]
    scale = torch.sqrt(((x - x.mean()) ** 2).mean() + cfg.layer_norm_epsilon)

    def term(c):
        return float(((c - c.mean()) / scale * w_f) @ u)

    labels, values = [], []
    for l, block in enumerate(tr.h):
        W_O = block.attn.c_proj.weight.detach().double()  # Conv1D [in = H*dh, out = d]
        z = caps[f"z{l}"]
        for h in range(H):
            labels.append(f"L{l}H{h}")
            values.append(term(z[h * dh:(h + 1) * dh] @ W_O[h * dh:(h + 1) * dh]))
    for l in range(cfg.n_layer):
        labels.append(f"{l}_mlp_out")
        values.append(term(caps[f"{l}_mlp_out"]))
    labels += ["embed", "pos_embed"]
    values += [term(caps["embed"]), term(caps["pos_embed"])]
    b_O = sum(block.attn.c_proj.bias.detach().double() for block in tr.h)
    labels.append("bias")
    values.append(term(b_O) + float(b_f @ u))
    logit = float(logits[a] - (logits[b] if b is not None else 0))
    return {"ids": ids, "a": a, "b": b, "labels": labels, "values": values, "logit": logit, "sum": sum(values)}


def attribution_llama(model, ids, a, b):
    """The same decomposition for a Llama (SmolLM2): `L{l}H{h}` (each query head's z, hooked at the input of
    `self_attn.o_proj`, through its columns of o_proj.weight), `{l}_mlp_out` (the `mlp` module's output),
    `embed` (`embed_tokens`) and `bias` (0: no attention or norm bias); no centring, the final RMSNorm's scale
    sqrt(mean(x^2) + eps) of the residual that enters `model.norm`."""
    cfg = model.config
    m = model.model
    H, dh = cfg.num_attention_heads, cfg.head_dim
    caps = {}
    hooks = []

    def out_hook(name):
        def hook(_m, _inp, out):
            caps[name] = (out[0] if isinstance(out, tuple) else out).detach()[0, -1].double()
        return hook

    def in_hook(name):
        def hook(_m, args, kwargs):
            x = args[0] if args else kwargs["hidden_states"]
            caps[name] = x.detach()[0, -1].double()
        return hook

    hooks.append(m.embed_tokens.register_forward_hook(out_hook("embed")))
    for l, layer in enumerate(m.layers):
        hooks.append(layer.self_attn.o_proj.register_forward_pre_hook(in_hook(f"z{l}"), with_kwargs=True))
        hooks.append(layer.mlp.register_forward_hook(out_hook(f"{l}_mlp_out")))
    hooks.append(m.norm.register_forward_pre_hook(in_hook("resid_final"), with_kwargs=True))
    logits = model(torch.tensor([ids])).logits[0, -1].double()
    for h in hooks:
        h.remove()
    W_U = model.lm_head.weight.detach().double()
    u = W_U[a] - (W_U[b] if b is not None else 0)
    w_f = m.norm.weight.detach().double()
    x = caps["resid_final"]
    scale = torch.sqrt((x ** 2).mean() + cfg.rms_norm_eps)

    def term(c):
        return float((c / scale * w_f) @ u)

    labels, values = [], []
    for l, layer in enumerate(m.layers):
        W_O = layer.self_attn.o_proj.weight.detach().double()  # Linear [out = d, in = H*dh]
        z = caps[f"z{l}"]
        for h in range(H):
            labels.append(f"L{l}H{h}")
            values.append(term(W_O[:, h * dh:(h + 1) * dh] @ z[h * dh:(h + 1) * dh]))
    for l in range(cfg.num_hidden_layers):
        labels.append(f"{l}_mlp_out")
        values.append(term(caps[f"{l}_mlp_out"]))
    labels.append("embed")
    values.append(term(caps["embed"]))
    labels.append("bias")
    values.append(0.0)
    logit = float(logits[a] - (logits[b] if b is not None else 0))
    return {"ids": ids, "a": a, "b": b, "labels": labels, "values": values, "logit": logit, "sum": sum(values)}


SMOLLM2 = os.path.expanduser(os.environ.get("SMOLLM2_HF", "~/stepwise-ref/models/smollm2-f32-hf"))


def main():
    out = sys.argv[1]
    cases = []
    builtin = os.path.join(ROOT, "Sources/StepwiseKit/Resources/builtin")
    model = GPT2LMHeadModel.from_pretrained(builtin).eval()
    tok = AutoTokenizer.from_pretrained(builtin)
    for prompt, a, b in [
        ("Mr. Darcy bowed to Miss Bennet, and Mr. Darcy bowed to Miss", " Bennet", " Darcy"),
        ("Emma Woodhouse, handsome, clever, and rich, with a comfortable home", " and", None),
    ]:
        ids = tok(prompt)["input_ids"]
        ta, tb = tok(a)["input_ids"], (tok(b)["input_ids"] if b else None)
        assert len(ta) == 1 and (tb is None or len(tb) == 1), (a, ta, b, tb)
        c = attribution(model, ids, ta[0], tb[0] if tb else None)
        c.update(model="builtin", prompt=prompt, a_text=a, b_text=b)
        cases.append(c)
    fixture = os.path.join(ROOT, "Tests/StepwiseKitTests/Fixtures/gpt2/tied-4h")
    model = GPT2LMHeadModel.from_pretrained(fixture).eval()
    for ids, a, b in [([292, 121, 86, 283, 147, 287, 179], 17, 5), ([88, 161, 58, 31, 8, 117, 62, 130], 40, None)]:
        c = attribution(model, ids, a, b)
        c.update(model="gpt2/tied-4h")
        cases.append(c)
    # SmolLM2: the float32 HF copy dequantized from the Q4_1 GGUF that Stepwise loads (same weights); no BOS.
    model = LlamaForCausalLM.from_pretrained(SMOLLM2, dtype=torch.float32).eval()
    tok = AutoTokenizer.from_pretrained(SMOLLM2)
    for prompt, a, b in [("The capital of France is", " Paris", " London")]:
        ids = tok(prompt, add_special_tokens=False)["input_ids"]
        ta, tb = tok(a, add_special_tokens=False)["input_ids"], tok(b, add_special_tokens=False)["input_ids"]
        assert len(ta) == 1 and len(tb) == 1, (a, ta, b, tb)
        c = attribution_llama(model, ids, ta[0], tb[0])
        c.update(model="smollm2", prompt=prompt, a_text=a, b_text=b)
        cases.append(c)
    for c in cases:
        assert abs(c["sum"] - c["logit"]) < 1e-4 * max(1, abs(c["logit"])), (c["sum"], c["logit"])
    with open(out, "w") as f:
        json.dump({"transformers": transformers.__version__, "torch": torch.__version__, "cases": cases}, f, indent=1)


if __name__ == "__main__":
    main()
