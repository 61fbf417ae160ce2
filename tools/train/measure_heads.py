"""Score every attention head of a saved GPT-2 folder as a previous-token head and as an induction head.

Definitions (those of TransformerLens's head detector, written out):
  previous-token score = mean over query positions q >= 1 of pattern[q, q-1], on real text;
  induction score      = on a sequence of N random tokens followed by the same N tokens again, mean over
                         the second-copy query positions q of pattern[q, q-N+1] (the token after q's earlier
                         twin). N = 40. By default no BOS token is prepended; --bos prepends <|endoftext|>
                         and shifts every position by one.
Scores are averaged over several texts/seeds and lie in [0, 1].

Usage: python measure_heads.py FOLDER [--text-file F] [--json OUT] [--bos]
Without --text-file the previous-token prompt is the opening of Pride and Prejudice; with it, the scores
are averaged over 8 evenly spaced 128-token windows of the file (the card uses the validation text).
"""
import argparse
import json

import numpy as np
import torch

DEFAULT_TEXT = (
    "It is a truth universally acknowledged, that a single man in possession of a good fortune, must be in "
    "want of a wife.\nHowever little known the feelings or views of such a man may be on his first entering a "
    "neighbourhood, this truth is so well fixed in the minds of the surrounding families, that he is considered "
    "the rightful property of some one or other of their daughters."
)


def head_names(model):
    c = model.config
    return [f"{layer}.{head}" for layer in range(c.n_layer) for head in range(c.n_head)]


@torch.no_grad()
def attentions(model, ids):
    """ids: LongTensor [B, T] -> list over layers of [B, H, T, T] attention patterns (eager attention)."""
    model.eval()
    out = model(input_ids=ids, output_attentions=True)
    return out.attentions


def text_windows(ids, length, count):
    ids = np.asarray(ids)
    starts = np.linspace(0, len(ids) - length, count).astype(int)
    return torch.from_numpy(np.stack([ids[s:s + length] for s in starts])).long()


def previous_token_scores(model, windows):
    att = attentions(model, windows)
    scores = {}
    for layer, a in enumerate(att):
        sub = torch.diagonal(a, offset=-1, dim1=-2, dim2=-1)  # [B, H, T-1]: pattern[q, q-1] for q >= 1
        for head in range(a.shape[1]):
            scores[f"{layer}.{head}"] = sub[:, head].mean().item()
    return scores


def induction_scores(model, vocab, n_special, n=40, batch=16, seed=0, bos_id=None):
    g = torch.Generator().manual_seed(seed)
    r = torch.randint(n_special, vocab, (batch, n), generator=g)
    ids = torch.cat([r, r], dim=1)
    off = 0
    if bos_id is not None:
        ids = torch.cat([torch.full((batch, 1), bos_id), ids], dim=1)
        off = 1
    att = attentions(model, ids)
    q = torch.arange(n, 2 * n) + off
    k = q - n + 1
    scores = {}
    for layer, a in enumerate(att):
        for head in range(a.shape[1]):
            scores[f"{layer}.{head}"] = a[:, head, q, k].mean().item()
    return scores


def main():
    p = argparse.ArgumentParser()
    p.add_argument("folder")
    p.add_argument("--text-file")
    p.add_argument("--json")
    p.add_argument("--bos", action="store_true", help="prepend <|endoftext|> to the induction sequences")
    a = p.parse_args()

    from transformers import AutoTokenizer, GPT2LMHeadModel
    torch.set_num_threads(2)
    tok = AutoTokenizer.from_pretrained(a.folder)
    model = GPT2LMHeadModel.from_pretrained(a.folder, attn_implementation="eager")
    eot = tok.convert_tokens_to_ids("<|endoftext|>")
    if a.text_file:
        ids = tok(open(a.text_file, encoding="utf-8").read())["input_ids"]
        windows = text_windows(ids, 128, 8)
    else:
        windows = torch.tensor([tok(DEFAULT_TEXT)["input_ids"]])
    prev = previous_token_scores(model, windows)
    ind = induction_scores(model, model.config.vocab_size, n_special=eot + 1, bos_id=eot if a.bos else None)
    print(f"{'head':>5}  {'prev-token':>10}  {'induction':>9}")
    for h in head_names(model):
        print(f"{h:>5}  {prev[h]:10.3f}  {ind[h]:9.3f}")
    bp, bi = max(prev, key=prev.get), max(ind, key=ind.get)
    print(f"previous-token head: {bp} ({prev[bp]:.3f}); induction head: {bi} ({ind[bi]:.3f})")
    if a.json:
        json.dump({"previous_token": prev, "induction": ind, "bos": a.bos, "best_previous_token": bp,
                   "best_induction": bi}, open(a.json, "w"), indent=1)


if __name__ == "__main__":
    main()
