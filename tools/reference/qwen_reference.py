#!/usr/bin/env python3
"""Random-init Qwen2, Qwen3, Mistral and biased Llama checkpoints with transformers' reference activations,
for Stepwise's Llama-family variants (q/k/v biases, q/k norms, attention_bias/mlp_bias, sliding windows).

    ~/stepwise-ref/venv/bin/python tools/reference/qwen_reference.py

Writes Tests/StepwiseKitTests/Fixtures/qwen/:
  NAME/config.json, NAME/model.safetensors, NAME/tokenizer.json
                            the tokenizer is a tiny byte-level BPE trained with `tokenizers` on the text
                            below (only the bytes that text uses, merges up to 96 pieces, <|endoftext|>)
                            with Qwen2's pre-tokenizer: NFC, then Split(Qwen2 regex, isolated), then
                            ByteLevel without its regex; the embedding is padded past it, as Qwen's are.
                            save_pretrained of a random model (weights stored as F16 to stay small; the
                            reference runs on exactly those values promoted to float32)
  NAME/reference.safetensors  float32 tensors named CASE/STEP, STEP the Stepwise step name with the batch
                            axis dropped: hook_embed, blocks.L.ln1.hook_out, attn.hook_q/k/v [T, heads, d_head]
                            (projection output, bias included), attn.q_norm.hook_out / k_norm.hook_out
                            (Qwen3), attn.hook_rot_q / hook_rot_k (after RoPE, rotate_half order),
                            attn.hook_pattern [H, T, T], hook_attn_out (o_proj output), ln2.hook_out,
                            mlp.hook_pre (gate_proj), mlp.hook_pre_linear (up_proj), hook_mlp_out,
                            hook_resid_post, ln_final.hook_out, logits [T, vocab]
  NAME/reference.json       {"model", "transformers", "torch", "cases": [{"prompt", "ids", "greedy"}],
                            "ablation": {"what", "max_logit_change"}}: ids from `tokenizers` on the prompt,
                            10 greedy tokens from generate(), and how far the logits move when the
                            variant's extra (the biases, or the q/k norms) is removed, so a test can see
                            that dropping it would fail.
  qwen2-gqa.gguf, qwen3-gqa.gguf
                            the same weights written with gguf-py as llama.cpp's converter names them
                            (architecture qwen2/qwen3, no q/k row permutation, F16 matrices, F32 vectors;
                            the token list padded with [PADn] entries to the embedding's rows). transformers
                            reads the qwen2 file back and must give the same logits (checked here).
Run it with the reference environment's python (../../../shared/reference/setup.sh).
"""
import json
import os
import shutil
import tempfile

import numpy as np
import torch
import transformers
from safetensors.torch import load_file, save_file
from tokenizers import Regex, Tokenizer, decoders, models, normalizers, pre_tokenizers, trainers
from transformers import AutoModelForCausalLM, LlamaConfig, MistralConfig, Qwen2Config, Qwen3Config
from transformers.models.llama.modeling_llama import apply_rotary_pos_emb

torch.set_grad_enabled(False)
ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")
OUT = os.path.join(ROOT, "Tests", "StepwiseKitTests", "Fixtures", "qwen")

QWEN2_PATTERN = (r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*"
                 r"|\s*[\r\n]+|\s+(?!\S)|\s+")
CORPUS = [
    "The cat sat on the mat. The dog sat on the log.",
    "It's 2024 and we're testing 12 models, aren't we?",
    "Qwen reads the text, then the tokens; the heads attend.",
    "Once upon a time there was a tiny model with large biases.",
]
VOCAB_SIZE = 96  # the tokenizer's size: the corpus's bytes + merges + <|endoftext|>


def make_tokenizer():
    tok = Tokenizer(models.BPE())
    tok.normalizer = normalizers.NFC()
    tok.pre_tokenizer = pre_tokenizers.Sequence([
        pre_tokenizers.Split(Regex(QWEN2_PATTERN), behavior="isolated", invert=False),
        pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=False),
    ])
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(vocab_size=VOCAB_SIZE, special_tokens=["<|endoftext|>"], show_progress=False)
    tok.train_from_iterator(CORPUS, trainer=trainer)
    return tok


# name, config class, config arguments, prompt
MODELS = [
    ("qwen2-gqa", Qwen2Config, dict(hidden_size=24, intermediate_size=32, num_hidden_layers=2, num_attention_heads=4,
                                    num_key_value_heads=2, tie_word_embeddings=True, rope_theta=1e6),
     "The cat's 12 heads attend."),
    ("qwen2-odd", Qwen2Config, dict(hidden_size=24, intermediate_size=28, num_hidden_layers=3, num_attention_heads=3,
                                    num_key_value_heads=1, tie_word_embeddings=False, rope_theta=10000.0),
     "Once, 2 dogs sat."),
    ("qwen3-gqa", Qwen3Config, dict(hidden_size=16, intermediate_size=32, num_hidden_layers=2, num_attention_heads=4,
                                    num_key_value_heads=2, head_dim=8, tie_word_embeddings=True, rope_theta=1e6),
     "Qwen's testing tiny models?"),
    ("qwen3-bias", Qwen3Config, dict(hidden_size=20, intermediate_size=24, num_hidden_layers=2, num_attention_heads=5,
                                     num_key_value_heads=5, head_dim=4, attention_bias=True,
                                     tie_word_embeddings=False, rope_theta=10000.0),
     "It's the log, isn't it?"),
    ("llama-bias", LlamaConfig, dict(hidden_size=24, intermediate_size=32, num_hidden_layers=2, num_attention_heads=3,
                                     num_key_value_heads=1, head_dim=8, attention_bias=True, mlp_bias=True,
                                     tie_word_embeddings=False, rope_theta=10000.0),
     "The dog reads 2024 tokens."),
    # Sliding windows shorter than the prompt: every Mistral layer, and only Qwen2's layers from max_window_layers on.
    ("mistral-window", MistralConfig, dict(hidden_size=24, intermediate_size=32, num_hidden_layers=2, num_attention_heads=4,
                                           num_key_value_heads=2, sliding_window=4, tie_word_embeddings=False,
                                           rope_theta=10000.0),
     "Once upon a time there was a cat."),
    ("qwen2-window", Qwen2Config, dict(hidden_size=24, intermediate_size=32, num_hidden_layers=2, num_attention_heads=2,
                                       num_key_value_heads=2, use_sliding_window=True, sliding_window=3, max_window_layers=1,
                                       tie_word_embeddings=True, rope_theta=10000.0),
     "The cat sat on the log."),
]
GGUF_MODELS = {"qwen2-gqa": "qwen2", "qwen3-gqa": "qwen3"}


def randomize(model):
    """Weights large enough that patterns are not uniform, norms and biases that matter."""
    for name, p in model.named_parameters():
        if name.endswith("norm.weight"):
            p.copy_(1 + 0.3 * torch.randn_like(p))
        elif name.endswith(("q_proj.bias", "k_proj.bias")):
            p.normal_(0, 1.5)  # large: dropping them changes the patterns
        elif name.endswith("bias"):
            p.normal_(0, 0.5)


def capture(model, ids):
    """Every step Stepwise records that transformers' modules expose, for one prompt."""
    cfg = model.config
    T = len(ids)
    H, KV = cfg.num_attention_heads, cfg.num_key_value_heads
    d = getattr(cfg, "head_dim", None) or cfg.hidden_size // H
    caps, hooks = {}, []

    def save(name, reshape=None):
        def hook(_m, _inp, out):
            t = (out[0] if isinstance(out, tuple) else out).detach()[0]
            caps[name] = t.reshape(reshape) if reshape else t
        return hook

    inner = model.model
    hooks.append(inner.embed_tokens.register_forward_hook(save("hook_embed")))
    hooks.append(inner.rotary_emb.register_forward_hook(lambda m, i, o: caps.__setitem__("cos_sin", o)))
    for L, layer in enumerate(inner.layers):
        p, a = f"blocks.{L}", layer.self_attn
        hooks.append(layer.input_layernorm.register_forward_hook(save(f"{p}.ln1.hook_out")))
        hooks.append(a.q_proj.register_forward_hook(save(f"{p}.attn.hook_q", (T, H, d))))
        hooks.append(a.k_proj.register_forward_hook(save(f"{p}.attn.hook_k", (T, KV, d))))
        hooks.append(a.v_proj.register_forward_hook(save(f"{p}.attn.hook_v", (T, KV, d))))
        if hasattr(a, "q_norm"):
            hooks.append(a.q_norm.register_forward_hook(save(f"{p}.attn.q_norm.hook_out")))
            hooks.append(a.k_norm.register_forward_hook(save(f"{p}.attn.k_norm.hook_out")))
        hooks.append(a.o_proj.register_forward_hook(save(f"{p}.hook_attn_out")))
        hooks.append(layer.post_attention_layernorm.register_forward_hook(save(f"{p}.ln2.hook_out")))
        hooks.append(layer.mlp.gate_proj.register_forward_hook(save(f"{p}.mlp.hook_pre")))
        hooks.append(layer.mlp.up_proj.register_forward_hook(save(f"{p}.mlp.hook_pre_linear")))
        hooks.append(layer.mlp.register_forward_hook(save(f"{p}.hook_mlp_out")))
        hooks.append(layer.register_forward_hook(save(f"{p}.hook_resid_post")))
    hooks.append(inner.norm.register_forward_hook(save("ln_final.hook_out")))
    out = model(input_ids=torch.tensor([ids]), output_attentions=True, use_cache=False)
    for h in hooks:
        h.remove()
    cos, sin = caps.pop("cos_sin")
    # Layer 0 in full; the later layers' output and pattern (their inner steps are kept out to stay small).
    qn = caps.get("blocks.0.attn.q_norm.hook_out", caps["blocks.0.attn.hook_q"])
    kn = caps.get("blocks.0.attn.k_norm.hook_out", caps["blocks.0.attn.hook_k"])
    qr, kr = apply_rotary_pos_emb(qn.transpose(0, 1)[None], kn.transpose(0, 1)[None], cos, sin)
    steps = {k: v for k, v in caps.items() if not k.startswith("blocks.") or k.startswith("blocks.0.")
             or k.endswith(".hook_resid_post")}
    steps["blocks.0.attn.hook_rot_q"] = qr[0].transpose(0, 1)
    steps["blocks.0.attn.hook_rot_k"] = kr[0].transpose(0, 1)
    for L in range(cfg.num_hidden_layers):
        steps[f"blocks.{L}.attn.hook_pattern"] = out.attentions[L][0]
    steps["logits"] = out.logits[0]
    return {k: v.float().contiguous() for k, v in steps.items()}


def ablated_logits(model, ids, kind):
    """The logits with the variant's extra removed: every bias zeroed, the q/k norms skipped, or the window
    widened past the prompt."""
    saved = {n: p.clone() for n, p in model.named_parameters()}
    originals = []
    if kind == "sliding window":
        # The masks are made from the config's window (the eager attention reads only the mask).
        window = model.config.sliding_window
        model.config.sliding_window = 10_000
        logits = model(input_ids=torch.tensor([ids]), use_cache=False).logits[0]
        model.config.sliding_window = window
        return logits
    if kind == "biases":
        for n, p in model.named_parameters():
            if n.endswith("bias"):
                p.zero_()
    else:
        for layer in model.model.layers:
            a = layer.self_attn
            originals.append((a, a.q_norm, a.k_norm))
            a.q_norm, a.k_norm = torch.nn.Identity(), torch.nn.Identity()
    logits = model(input_ids=torch.tensor([ids]), use_cache=False).logits[0]
    for a, qn, kn in originals:
        a.q_norm, a.k_norm = qn, kn
    for n, p in model.named_parameters():
        p.copy_(saved[n])
    return logits


def write_gguf(model, tok, path, arch):
    import gguf
    cfg = model.config
    H = cfg.num_attention_heads
    d = getattr(cfg, "head_dim", None) or cfg.hidden_size // H
    w = gguf.GGUFWriter(path, arch)
    w.add_name(os.path.basename(path))
    w.add_block_count(cfg.num_hidden_layers)
    w.add_context_length(cfg.max_position_embeddings)
    w.add_embedding_length(cfg.hidden_size)
    w.add_feed_forward_length(cfg.intermediate_size)
    w.add_head_count(H)
    w.add_head_count_kv(cfg.num_key_value_heads)
    w.add_rope_freq_base(cfg.rope_parameters["rope_theta"])
    w.add_layer_norm_rms_eps(cfg.rms_norm_eps)
    if d != cfg.hidden_size // H:
        w.add_key_length(d)
        w.add_value_length(d)
    w.add_file_type(gguf.LlamaFileType.MOSTLY_F16)
    # Tokenizer, as llama.cpp's converter writes a byte-level BPE: missing ids become [PADn] (unused).
    vocab = tok.get_vocab()
    by_id = {i: t for t, i in vocab.items()}
    special = {t.content for t in tok.get_added_tokens_decoder().values()}
    tokens, types = [], []
    for i in range(cfg.vocab_size):
        if i in by_id:
            tokens.append(by_id[i])
            types.append(gguf.TokenType.CONTROL if by_id[i] in special else gguf.TokenType.NORMAL)
        else:
            tokens.append(f"[PAD{i}]")
            types.append(gguf.TokenType.UNUSED)
    merges = json.loads(tok.to_str())["model"]["merges"]
    w.add_tokenizer_model("gpt2")
    w.add_tokenizer_pre("qwen2")
    w.add_token_list(tokens)
    w.add_token_types(types)
    w.add_token_merges([m if isinstance(m, str) else " ".join(m) for m in merges])
    w.add_eos_token_id(vocab["<|endoftext|>"])
    w.add_add_bos_token(False)
    names = gguf.get_tensor_name_map(gguf.MODEL_ARCH[arch.upper()], cfg.num_hidden_layers)
    for name, t in model.state_dict().items():
        if name == "lm_head.weight" and cfg.tie_word_embeddings:
            continue
        g = names.get_name(name, try_suffixes=(".weight", ".bias"))
        assert g is not None, name
        a = t.float().numpy()
        w.add_tensor(g, a.astype(np.float16) if a.ndim == 2 else a.astype(np.float32))
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()


def main():
    if os.path.isdir(OUT):
        shutil.rmtree(OUT)
    os.makedirs(OUT)
    tok = make_tokenizer()
    tok_dir = tempfile.mkdtemp()
    tok_path = os.path.join(tok_dir, "tokenizer.json")
    tok.save(tok_path)
    n_tok = tok.get_vocab_size()
    vocab_size = (n_tok + 16) // 16 * 16  # padded past the tokenizer, as Qwen's embeddings are
    for i, (name, cls, kw, prompt) in enumerate(MODELS):
        torch.manual_seed(4200 + i)
        cfg = cls(vocab_size=vocab_size, max_position_embeddings=64, rms_norm_eps=1e-6, initializer_range=0.25,
                  bos_token_id=None, eos_token_id=tok.token_to_id("<|endoftext|>"), pad_token_id=None, **kw)
        model = AutoModelForCausalLM.from_config(cfg).eval()
        randomize(model)
        folder = os.path.join(OUT, name)
        os.makedirs(folder)
        with tempfile.TemporaryDirectory() as tmp:
            model.save_pretrained(tmp)
            shutil.copy(os.path.join(tmp, "config.json"), os.path.join(folder, "config.json"))
            state = load_file(os.path.join(tmp, "model.safetensors"))
        save_file({k: v.to(torch.float16).contiguous() for k, v in state.items()},
                  os.path.join(folder, "model.safetensors"), metadata={"format": "pt"})
        shutil.copy(tok_path, os.path.join(folder, "tokenizer.json"))
        # Reload, so the reference runs on the F16-rounded values.
        model = AutoModelForCausalLM.from_pretrained(folder, dtype=torch.float32, attn_implementation="eager").eval()
        ids = Tokenizer.from_file(tok_path).encode(prompt).ids
        # The tokenizer knows only the corpus's bytes and drops others without a word: check none was.
        assert Tokenizer.from_file(tok_path).decode(ids) == prompt, prompt
        steps = capture(model, ids)
        gen = model.generate(torch.tensor([ids]), attention_mask=torch.ones(1, len(ids), dtype=torch.long),
                             max_new_tokens=10, do_sample=False, pad_token_id=0, eos_token_id=None)
        greedy = gen[0, len(ids):].tolist()
        kind = ("q/k norms" if cls is Qwen3Config and not kw.get("attention_bias")
                else "sliding window" if "sliding_window" in kw else "biases")
        change = (ablated_logits(model, ids, kind) - steps["logits"]).abs().max().item()
        save_file({f"0/{k}": v for k, v in steps.items()}, os.path.join(folder, "reference.safetensors"))
        with open(os.path.join(folder, "reference.json"), "w") as f:
            json.dump({"model": name, "transformers": transformers.__version__, "torch": torch.__version__,
                       "cases": [{"prompt": prompt, "ids": ids, "greedy": greedy}],
                       "ablation": {"what": kind, "max_logit_change": change}}, f, indent=1)
        print(f"{name}: {len(ids)} tokens, removing the {kind} moves the logits by up to {change:.3f}")
        if name in GGUF_MODELS:
            path = os.path.join(OUT, name + ".gguf")
            write_gguf(model, tok, path, GGUF_MODELS[name])
            try:
                g = AutoModelForCausalLM.from_pretrained(OUT, gguf_file=name + ".gguf", dtype=torch.float32,
                                                         attn_implementation="eager").eval()
                err = (g(input_ids=torch.tensor([ids])).logits[0] - steps["logits"]).abs().max().item()
                print(f"  {name}.gguf read by transformers: logits differ by {err:.2e}")
                assert err < 1e-4, err
            except (ValueError, KeyError, RuntimeError, OSError) as e:
                print(f"  {name}.gguf: transformers cannot read it ({type(e).__name__}: {str(e)[:120]})")
    shutil.rmtree(tok_dir)
    sizes = [os.path.getsize(os.path.join(dp, f)) for dp, _, fs in os.walk(OUT) for f in fs]
    print(f"{n_tok} tokenizer pieces, vocab_size {vocab_size}; total {sum(sizes)} bytes in {len(sizes)} files")


if __name__ == "__main__":
    main()
