"""Train Stepwise's built-in teaching model: a byte-level BPE tokenizer and a small GPT-2 on Jane Austen.

Usage: python train.py --work WORKDIR --out FOLDER [--steps N] [--seed S]
Reads WORKDIR/corpus/{train,val}.txt (written by corpus.py), writes a Hugging Face folder to FOLDER
(config.json, model.safetensors, generation_config.json, tokenizer.json, vocab.json, merges.txt,
tokenizer_config.json) and WORKDIR/metrics.json (hyperparameters, timings, loss and head-score curve).
Everything is seeded: the same step count gives the same model (on the same torch build and thread count).
"""
import argparse
import json
import math
import os
import time

import numpy as np
import torch
import torch.nn.functional as F
from tokenizers import Tokenizer, decoders, models, pre_tokenizers, processors, trainers
from transformers import GPT2Config, GPT2LMHeadModel

import measure_heads

EOT = "<|endoftext|>"


def parse_args():
    p = argparse.ArgumentParser()
    p.add_argument("--work", required=True)
    p.add_argument("--out", required=True)
    p.add_argument("--steps", type=int, default=7000, help="optimizer steps (the training budget)")
    p.add_argument("--seed", type=int, default=1234)
    p.add_argument("--vocab", type=int, default=4096)
    p.add_argument("--d-model", type=int, default=128)
    p.add_argument("--layers", type=int, default=2)
    p.add_argument("--heads", type=int, default=4)
    p.add_argument("--ctx", type=int, default=256)
    p.add_argument("--batch", type=int, default=16)
    p.add_argument("--lr", type=float, default=3e-3)
    p.add_argument("--min-lr-frac", type=float, default=0.1)
    p.add_argument("--warmup", type=int, default=100)
    p.add_argument("--weight-decay", type=float, default=0.1)
    p.add_argument("--p-copy", type=float, default=0.25, help="share of sequences with a copied earlier span")
    p.add_argument("--p-tile", type=float, default=0.15, help="share of sequences that are one passage tiled")
    p.add_argument("--p-random", type=float, default=0.10, help="share of sequences that are random tokens tiled")
    p.add_argument("--p-pairs", type=float, default=0.20,
                   help="share of sequences that are random token pairs (a, b) repeated in shuffled order")
    p.add_argument("--eval-every", type=int, default=500)
    p.add_argument("--wpe-init", choices=["normal", "sinusoidal", "sinusoidal-linear"], default="sinusoidal",
                   help="initial position embeddings: GPT-2's N(0, 0.02), or sinusoids scaled to the same std "
                        "(frequencies spaced geometrically as in the original Transformer, or evenly up to pi)")
    p.add_argument("--threads", type=int, default=2, help="torch threads; part of what makes a run reproducible")
    return p.parse_args()


def train_tokenizer(train_text, vocab_size):
    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    tok.post_processor = processors.ByteLevel(trim_offsets=False)
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size,
        min_frequency=2,
        special_tokens=[EOT],
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    lines = [line for doc in train_text.split(EOT) for line in doc.split("\n")]
    tok.train_from_iterator(lines, trainer=trainer)
    return tok


def encode(tok, text):
    eot = tok.token_to_id(EOT)
    ids = []
    for i, doc in enumerate(text.split(EOT)):
        if i:
            ids.append(eot)
        ids.extend(tok.encode(doc).ids)
    return np.array(ids, dtype=np.int64)


class Batches:
    """Random windows of the training stream, some of them rewritten so that copying pays off.

    copy:   a natural window in which a span of 8-64 tokens is pasted again further on;
    tile:   one natural passage of 16-128 tokens repeated to fill the window;
    random: 10-64 uniformly random tokens repeated to fill the window (loss only on the repeats);
    pairs:  random token pairs (a, b) drawn in random order (loss only on b after an already-seen a);
    the rest are untouched natural windows.
    """

    def __init__(self, data, args, n_special):
        self.data, self.a = data, args
        self.rng = np.random.default_rng(args.seed)
        self.n_special = n_special

    def window(self, n):
        s = int(self.rng.integers(0, len(self.data) - n))
        return self.data[s:s + n].copy()

    def one(self):
        a, rng, W = self.a, self.rng, self.a.ctx + 1
        r = rng.random()
        mask_upto = 0
        if r < a.p_copy:
            w = self.window(W)
            L = int(rng.integers(8, 65))
            s = int(rng.integers(0, W - 2 * L + 1))
            d = int(rng.integers(s + L, W - L + 1))
            w[d:d + L] = w[s:s + L]
        elif r < a.p_copy + a.p_tile:
            P = int(rng.integers(16, 129))
            w = np.resize(self.window(P), W)
        elif r < a.p_copy + a.p_tile + a.p_random:
            P = int(rng.integers(10, 65))
            w = np.resize(rng.integers(self.n_special, a.vocab, size=P), W)
            mask_upto = P - 1  # the first copy cannot be predicted: no loss on it
        elif r < a.p_copy + a.p_tile + a.p_random + a.p_pairs:
            return self.pairs(W)
        else:
            w = self.window(W)
        x, y = w[:-1].copy(), w[1:].copy()
        y[:mask_upto] = -100
        return x, y

    def pairs(self, W):
        """K random pairs (a, b), drawn one at a time in random order: the token after an a is its b, which only
        a head that looks exactly one position back can find (a blurred look also matches the pair before)."""
        rng, a = self.rng, self.a
        K = int(rng.integers(4, 33))
        pairs = rng.integers(self.n_special, a.vocab, size=(K, 2))
        order = rng.integers(0, K, size=W // 2 + 1)
        shift = int(rng.integers(0, 2))  # half the sequences start mid-pair, so the a's are not all at even positions
        w = pairs[order].reshape(-1)[shift:shift + W]
        x, y = w[:-1].copy(), w[1:].copy()
        seen = np.zeros(K, dtype=bool)
        keep = np.zeros(W - 1, dtype=bool)
        for i, k in enumerate(order):
            pos = 2 * i - shift  # position of this pair's a in w
            if 0 <= pos < W - 1:
                keep[pos] = seen[k]  # predict b from a, once the pair has been seen
            seen[k] = True
        y[~keep] = -100
        return x, y

    def next(self):
        xs, ys = zip(*(self.one() for _ in range(self.a.batch)))
        return torch.from_numpy(np.stack(xs)), torch.from_numpy(np.stack(ys))


@torch.no_grad()
def val_loss(model, val, ctx, batch=32):
    """Mean cross-entropy (nats/token) over consecutive non-overlapping ctx-token windows of the validation text."""
    model.eval()
    n = (len(val) - 1) // ctx
    xs = torch.from_numpy(val[: n * ctx].reshape(n, ctx))
    ys = torch.from_numpy(val[1: n * ctx + 1].reshape(n, ctx))
    tot, cnt = 0.0, 0
    for i in range(0, n, batch):
        logits = model(input_ids=xs[i:i + batch]).logits
        tot += F.cross_entropy(logits.reshape(-1, logits.size(-1)), ys[i:i + batch].reshape(-1), reduction="sum").item()
        cnt += ys[i:i + batch].numel()
    model.train()
    return tot / cnt


def lr_at(step, a):
    if step < a.warmup:
        return a.lr * (step + 1) / a.warmup
    t = (step - a.warmup) / max(1, a.steps - a.warmup)
    return a.lr * (a.min_lr_frac + (1 - a.min_lr_frac) * 0.5 * (1 + math.cos(math.pi * t)))


def probe_heads(model, val_ids, eot):
    model.set_attn_implementation("eager")
    prev = measure_heads.previous_token_scores(model, measure_heads.text_windows(val_ids, 128, 8))
    ind = measure_heads.induction_scores(model, vocab=model.config.vocab_size, n_special=eot + 1)
    model.set_attn_implementation("sdpa")
    model.train()
    return prev, ind


def main():
    a = parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(a.seed)
    t_start = time.time()

    train_text = open(os.path.join(a.work, "corpus", "train.txt"), encoding="utf-8").read()
    val_text = open(os.path.join(a.work, "corpus", "val.txt"), encoding="utf-8").read()
    tok = train_tokenizer(train_text, a.vocab)
    eot = tok.token_to_id(EOT)
    assert tok.get_vocab_size() == a.vocab, tok.get_vocab_size()
    train_ids, val_ids = encode(tok, train_text), encode(tok, val_text)
    t_tok = time.time() - t_start
    print(f"tokenizer: {tok.get_vocab_size()} tokens, eot id {eot}; train {len(train_ids)} tokens "
          f"({len(train_text) / len(train_ids):.2f} chars/token), val {len(val_ids)} tokens; {t_tok:.0f}s", flush=True)

    config = GPT2Config(
        vocab_size=a.vocab, n_positions=a.ctx, n_embd=a.d_model, n_layer=a.layers, n_head=a.heads,
        n_inner=4 * a.d_model, activation_function="gelu_new", layer_norm_epsilon=1e-5,
        resid_pdrop=0.0, embd_pdrop=0.0, attn_pdrop=0.0, tie_word_embeddings=True,
        bos_token_id=eot, eos_token_id=eot,
    )
    model = GPT2LMHeadModel(config)
    if a.wpe_init.startswith("sinusoidal"):
        # The original Transformer's sinusoids as a starting point for the learned position embeddings:
        # "one position back" is then a fixed rotation, which a previous-token head can find quickly.
        pos = torch.arange(a.ctx, dtype=torch.float32)[:, None]
        if a.wpe_init == "sinusoidal":
            freq = 10000.0 ** (-torch.arange(0, a.d_model, 2, dtype=torch.float32) / a.d_model)
        else:
            freq = math.pi * (torch.arange(a.d_model // 2, dtype=torch.float32) + 0.5) / (a.d_model // 2)
        pe = torch.zeros(a.ctx, a.d_model)
        pe[:, 0::2], pe[:, 1::2] = torch.sin(pos * freq), torch.cos(pos * freq)
        with torch.no_grad():
            model.transformer.wpe.weight.copy_(pe * (config.initializer_range / pe.std()))
    model.set_attn_implementation("sdpa")
    model.train()
    n_params = sum(p.numel() for p in model.parameters())
    # Weight decay on the weight matrices only: not on biases, LayerNorm or the embeddings (decaying the
    # position embeddings slows down the previous-token head, which needs them).
    decay = [p for n, p in model.named_parameters() if p.dim() >= 2 and ".wte." not in n and ".wpe." not in n]
    no_decay = [p for n, p in model.named_parameters() if not (p.dim() >= 2 and ".wte." not in n and ".wpe." not in n)]
    opt = torch.optim.AdamW([{"params": decay, "weight_decay": a.weight_decay},
                             {"params": no_decay, "weight_decay": 0.0}], lr=a.lr, betas=(0.9, 0.95), eps=1e-8)
    batches = Batches(train_ids, a, n_special=eot + 1)
    print(f"model: {n_params} parameters; {a.steps} steps of {a.batch}x{a.ctx} tokens", flush=True)

    curve = []
    t0 = time.time()
    ema = None
    for step in range(a.steps):
        for g in opt.param_groups:
            g["lr"] = lr_at(step, a)
        x, y = batches.next()
        logits = model(input_ids=x).logits
        loss = F.cross_entropy(logits.reshape(-1, logits.size(-1)), y.reshape(-1), ignore_index=-100)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        ema = loss.item() if ema is None else 0.98 * ema + 0.02 * loss.item()
        done = step + 1
        if done % 50 == 0:
            el = time.time() - t0
            print(f"step {done} loss {ema:.3f} lr {lr_at(step, a):.2e} {el:.0f}s ({el / done:.2f}s/step)", flush=True)
        if done % a.eval_every == 0 or done == a.steps:
            el = time.time() - t0
            vl = val_loss(model, val_ids, a.ctx)
            prev, ind = probe_heads(model, val_ids, eot)
            bp = max(prev, key=prev.get)
            bi = max(ind, key=ind.get)
            curve.append({"step": done, "minutes": round(el / 60, 2), "train_loss_ema": round(ema, 4),
                          "val_loss": round(vl, 4), "best_prev": [bp, round(prev[bp], 3)],
                          "best_induction": [bi, round(ind[bi], 3)]})
            print(f"eval step {done}: val {vl:.4f}; prev-token {bp} {prev[bp]:.3f}; induction {bi} {ind[bi]:.3f}", flush=True)
            t0 = time.time() - el  # the evaluation does not count as training time
    train_seconds = time.time() - t0

    os.makedirs(a.out, exist_ok=True)
    model.eval()
    model.save_pretrained(a.out)
    tok.save(os.path.join(a.out, "tokenizer.json"))
    tok.model.save(a.out)  # vocab.json + merges.txt
    json.dump({
        "tokenizer_class": "GPT2Tokenizer",
        "bos_token": EOT, "eos_token": EOT, "unk_token": EOT,
        "add_prefix_space": False, "add_bos_token": False,
        "model_max_length": a.ctx,
    }, open(os.path.join(a.out, "tokenizer_config.json"), "w"), indent=2)

    metrics = {
        "args": vars(a), "n_params": n_params, "eot_id": eot,
        "train_tokens": int(len(train_ids)), "val_tokens": int(len(val_ids)),
        "chars_per_token_train": len(train_text) / len(train_ids),
        "tokens_seen": a.steps * a.batch * a.ctx,
        "tokenizer_seconds": round(t_tok, 1), "train_seconds": round(train_seconds, 1),
        "total_seconds": round(time.time() - t_start, 1),
        "torch": torch.__version__, "curve": curve,
    }
    json.dump(metrics, open(os.path.join(a.work, "metrics.json"), "w"), indent=1)
    print(f"trained in {train_seconds / 60:.1f} min; wrote {a.out}", flush=True)


if __name__ == "__main__":
    main()
