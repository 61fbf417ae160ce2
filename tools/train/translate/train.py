"""Train Stepwise's built-in translation model: a byte-level BPE tokenizer and a small BART, English -> Spanish.

Usage: python train.py --work WORKDIR --out FOLDER [--steps N] [--seed S] [--threads T]
Reads WORKDIR/pairs/{train,heldout}.jsonl (written by pairs.py), writes a Hugging Face folder to FOLDER
(config.json, model.safetensors, generation_config.json, tokenizer.json, vocab.json, merges.txt,
tokenizer_config.json) and WORKDIR/metrics.json (hyperparameters, timings, loss and evaluation curve).

Conventions (BART's): <s>=0, <pad>=1, </s>=2, <unk>=3. Encoder input: <s> SOURCE </s> (the tokenizer's
post-processor). Labels: TARGET </s>, no leading <s>. Decoder input: decoder_start_token_id (2, </s>)
followed by the target tokens, i.e. the labels shifted right by one.
Everything is seeded: the same step count gives the same model (on the same torch build and thread count).
"""
import argparse
import json
import math
import os
import random
import time

import numpy as np
import torch
import torch.nn.functional as F
from tokenizers import Tokenizer, decoders, models, pre_tokenizers, processors, trainers
from transformers import BartConfig, BartForConditionalGeneration, GenerationConfig

import alignment

SPECIALS = ["<s>", "<pad>", "</s>", "<unk>"]
BOS, PAD, EOS, UNK = 0, 1, 2, 3


def parse_args(argv=None):
    p = argparse.ArgumentParser()
    p.add_argument("--work", required=True)
    p.add_argument("--out", required=True)
    p.add_argument("--steps", type=int, default=4000, help="optimizer steps (the training budget)")
    p.add_argument("--seed", type=int, default=1234)
    p.add_argument("--vocab", type=int, default=2300)
    p.add_argument("--d-model", type=int, default=128)
    p.add_argument("--layers", type=int, default=2, help="encoder layers = decoder layers")
    p.add_argument("--heads", type=int, default=4)
    p.add_argument("--ffn", type=int, default=512)
    p.add_argument("--max-positions", type=int, default=64)
    p.add_argument("--batch", type=int, default=64, help="sentence pairs per step")
    p.add_argument("--lr", type=float, default=2e-3)
    p.add_argument("--min-lr-frac", type=float, default=0.05)
    p.add_argument("--warmup", type=int, default=200)
    p.add_argument("--weight-decay", type=float, default=0.01)
    p.add_argument("--dropout", type=float, default=0.0)
    p.add_argument("--align-heads", default="",
                   help="guided alignment: cross-attention heads to supervise, e.g. '1.0' or '0.1,1.0' "
                        "(decoder layer.head); empty: none")
    p.add_argument("--align-weight", type=float, default=0.5, help="weight of the guided-alignment loss")
    p.add_argument("--eval-every", type=int, default=500)
    p.add_argument("--eval-pairs", type=int, default=300, help="held-out pairs used by the periodic evaluations")
    p.add_argument("--threads", type=int, default=1,
                   help="torch threads; part of what makes a run reproducible (1: see README.md)")
    return p.parse_args(argv)


def read_jsonl(path):
    return [json.loads(line) for line in open(path, encoding="utf-8")]


def train_tokenizer(sentences, vocab_size):
    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=True)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size,
        min_frequency=2,
        special_tokens=SPECIALS,
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    tok.train_from_iterator(sentences, trainer=trainer)
    # BART's post-processor: <s> A </s> (and <s> A </s></s> B </s> for pairs), as real BART checkpoints have.
    tok.post_processor = processors.RobertaProcessing(("</s>", EOS), ("<s>", BOS), trim_offsets=True,
                                                      add_prefix_space=True)
    for i, s in enumerate(SPECIALS):
        assert tok.token_to_id(s) == i, (s, tok.token_to_id(s))
    return tok


class Example:
    """One pair as token ids, with the token -> word maps that the alignment loss and scores need."""
    __slots__ = ("src", "tgt", "src_words", "tgt_words", "align")

    def __init__(self, tok, pair):
        e = tok.encode(pair["en"])  # <s> ... </s>
        t = tok.encode(pair["es"], add_special_tokens=False)
        self.src = e.ids
        self.tgt = t.ids + [EOS]  # the labels
        self.src_words = [-1 if w is None else w for w in e.word_ids]
        self.tgt_words = [-1 if w is None else w for w in t.word_ids] + [-1]
        self.align = pair["align"]


def encode_pairs(tok, pairs):
    return [Example(tok, p) for p in pairs]


def collate(examples, with_align=False):
    B = len(examples)
    S = max(len(e.src) for e in examples)
    T = max(len(e.tgt) for e in examples)
    src = torch.full((B, S), PAD, dtype=torch.long)
    mask = torch.zeros((B, S), dtype=torch.long)
    dec = torch.full((B, T), PAD, dtype=torch.long)
    labels = torch.full((B, T), -100, dtype=torch.long)
    for i, e in enumerate(examples):
        src[i, :len(e.src)] = torch.tensor(e.src)
        mask[i, :len(e.src)] = 1
        dec[i, :len(e.tgt)] = torch.tensor([EOS] + e.tgt[:-1])
        labels[i, :len(e.tgt)] = torch.tensor(e.tgt)
    batch = {"input_ids": src, "attention_mask": mask, "decoder_input_ids": dec, "labels": labels}
    if with_align:
        batch["align_target"] = torch.from_numpy(np.stack([alignment.target_matrix(e, T, S) for e in examples]))
    return batch


def lr_at(step, a):
    if step < a.warmup:
        return a.lr * (step + 1) / a.warmup
    t = (step - a.warmup) / max(1, a.steps - a.warmup)
    return a.lr * (a.min_lr_frac + (1 - a.min_lr_frac) * 0.5 * (1 + math.cos(math.pi * t)))


def make_config(a, vocab_size):
    return BartConfig(
        vocab_size=vocab_size, d_model=a.d_model, max_position_embeddings=a.max_positions,
        encoder_layers=a.layers, decoder_layers=a.layers, encoder_attention_heads=a.heads,
        decoder_attention_heads=a.heads, encoder_ffn_dim=a.ffn, decoder_ffn_dim=a.ffn,
        activation_function="gelu", dropout=a.dropout, attention_dropout=0.0, activation_dropout=0.0,
        init_std=0.02, scale_embedding=False, tie_word_embeddings=True,
        pad_token_id=PAD, bos_token_id=BOS, eos_token_id=EOS, decoder_start_token_id=EOS,
        forced_eos_token_id=None, is_encoder_decoder=True, use_cache=True,
    )


def generation_config(max_positions):
    return GenerationConfig(
        decoder_start_token_id=EOS, bos_token_id=BOS, eos_token_id=EOS, pad_token_id=PAD,
        forced_bos_token_id=None, forced_eos_token_id=None, max_length=max_positions,
        do_sample=False, num_beams=1,
    )


def parse_heads(spec):
    return [tuple(int(x) for x in h.split(".")) for h in spec.split(",") if h.strip()]


@torch.no_grad()
def greedy(model, examples, max_new_tokens=40, batch=100):
    """Greedy translations (token ids after the decoder start, up to and without </s>) of the examples."""
    model.eval()
    outs = []
    for i in range(0, len(examples), batch):
        b = collate(examples[i:i + batch])
        gen = model.generate(input_ids=b["input_ids"], attention_mask=b["attention_mask"], do_sample=False,
                             num_beams=1, max_length=1 + max_new_tokens)  # the decoder start + new tokens
        for row in gen.tolist():
            row = row[1:]  # the decoder start token
            outs.append(row[:row.index(EOS)] if EOS in row else row)
    return outs


def evaluate(model, tok, examples):
    """Exact-match share of greedy translations and cross-attention alignment scores (teacher-forced)."""
    hyps = greedy(model, examples)
    exact = sum(h == e.tgt[:-1] for h, e in zip(hyps, examples)) / len(examples)
    scores = alignment.scores(model, examples)
    model.train()
    return exact, scores


def main(argv=None):
    a = parse_args(argv)
    torch.set_num_threads(a.threads)
    torch.manual_seed(a.seed)
    t_start = time.time()
    train_pairs = read_jsonl(os.path.join(a.work, "pairs", "train.jsonl"))
    held_pairs = read_jsonl(os.path.join(a.work, "pairs", "heldout.jsonl"))

    tok = train_tokenizer([s for p in train_pairs for s in (p["en"], p["es"])], a.vocab)
    train = encode_pairs(tok, train_pairs)
    held = encode_pairs(tok, held_pairs[:a.eval_pairs])
    t_tok = time.time() - t_start
    max_len = max(max(len(e.src), len(e.tgt)) for e in train)
    assert max_len <= a.max_positions, (max_len, a.max_positions)
    print(f"tokenizer: {tok.get_vocab_size()} tokens; {len(train)} training pairs, longest sequence {max_len} "
          f"tokens; {t_tok:.0f}s", flush=True)

    config = make_config(a, tok.get_vocab_size())
    model = BartForConditionalGeneration(config)
    model.generation_config = generation_config(a.max_positions)
    heads = parse_heads(a.align_heads)
    # the guided-alignment loss needs the attention probabilities, which only eager attention returns
    model.set_attn_implementation("eager" if heads else "sdpa")
    model.train()
    n_params = sum(p.numel() for p in model.parameters())
    decay = [p for n, p in model.named_parameters() if p.dim() >= 2 and "embed" not in n and "shared" not in n]
    no_decay = [p for n, p in model.named_parameters() if not (p.dim() >= 2 and "embed" not in n and "shared" not in n)]
    opt = torch.optim.AdamW([{"params": decay, "weight_decay": a.weight_decay},
                             {"params": no_decay, "weight_decay": 0.0}], lr=a.lr, betas=(0.9, 0.98), eps=1e-8)
    rng = random.Random(a.seed)
    order = list(range(len(train)))
    print(f"model: {n_params} parameters; {a.steps} steps of {a.batch} pairs; guided alignment on "
          f"{heads or 'no head'}", flush=True)

    curve, ema, ema_al, pos, t0 = [], None, None, len(order), time.time()
    for step in range(a.steps):
        for g in opt.param_groups:
            g["lr"] = lr_at(step, a)
        if pos + a.batch > len(order):
            rng.shuffle(order)
            pos = 0
        batch = collate([train[i] for i in order[pos:pos + a.batch]], with_align=bool(heads))
        pos += a.batch
        target = batch.pop("align_target", None)
        out = model(**batch, output_attentions=bool(heads))
        loss = out.loss
        if heads:
            al = alignment.guided_loss(out.cross_attentions, target, heads)
            loss = loss + a.align_weight * al
            ema_al = al.item() if ema_al is None else 0.98 * ema_al + 0.02 * al.item()
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        ema = out.loss.item() if ema is None else 0.98 * ema + 0.02 * out.loss.item()
        done = step + 1
        if done % 100 == 0:
            el = time.time() - t0
            extra = f" align {ema_al:.3f}" if heads else ""
            print(f"step {done} loss {ema:.4f}{extra} lr {lr_at(step, a):.2e} {el:.0f}s ({el / done:.3f}s/step)",
                  flush=True)
        if done % a.eval_every == 0 or done == a.steps:
            el = time.time() - t0
            exact, sc = evaluate(model, tok, held)
            model.set_attn_implementation("eager" if heads else "sdpa")
            best = max(sc["heads"], key=sc["heads"].get)
            curve.append({"step": done, "minutes": round(el / 60, 2), "train_loss_ema": float(f"{ema:.4g}"),
                          "align_loss_ema": round(ema_al, 4) if heads else None,
                          "heldout_exact": round(exact, 4), "best_head": [best, round(sc["heads"][best], 4)],
                          "all_heads_mean_map": round(sc["all"], 4)})
            print(f"eval step {done}: exact {exact:.3f}; best cross-attention head {best} {sc['heads'][best]:.3f}; "
                  f"all heads averaged {sc['all']:.3f}; per head "
                  + " ".join(f"{h}:{v:.2f}" for h, v in sc["heads"].items()), flush=True)
            t0 = time.time() - el  # the evaluation does not count as training time
    train_seconds = time.time() - t0

    os.makedirs(a.out, exist_ok=True)
    model.eval()
    model.set_attn_implementation("eager")
    model.save_pretrained(a.out)
    tok.save(os.path.join(a.out, "tokenizer.json"))
    tok.model.save(a.out)  # vocab.json + merges.txt
    json.dump({
        "tokenizer_class": "BartTokenizer",
        "bos_token": "<s>", "eos_token": "</s>", "sep_token": "</s>", "cls_token": "<s>",
        "pad_token": "<pad>", "unk_token": "<unk>", "mask_token": None,
        "add_prefix_space": True, "trim_offsets": True,
        "model_max_length": a.max_positions,
    }, open(os.path.join(a.out, "tokenizer_config.json"), "w"), indent=2)

    metrics = {
        "args": vars(a), "n_params": n_params, "vocab_size": tok.get_vocab_size(),
        "train_pairs": len(train), "longest_sequence": max_len,
        "tokenizer_seconds": round(t_tok, 1), "train_seconds": round(train_seconds, 1),
        "total_seconds": round(time.time() - t_start, 1), "threads": a.threads,
        "torch": torch.__version__, "curve": curve,
    }
    json.dump(metrics, open(os.path.join(a.work, "metrics.json"), "w"), indent=1)
    print(f"trained in {train_seconds / 60:.1f} min; wrote {a.out}", flush=True)


if __name__ == "__main__":
    main()
