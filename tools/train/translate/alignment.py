"""Cross-attention against the known word alignments of the pairs: the score and the guided-alignment loss.

Where a target word is "read" from: the decoder position whose output is that word's token, i.e. the
position whose input is the token before it (label position t; decoder input t is the previous token or
the decoder start). The attention of that position over the source positions, without <s> and </s>, is
summed over the tokens of each source word (a word of several tokens gets the sum of its tokens), averaged
over the target word's tokens if it has several, and the source word with the most attention is the
head's answer. The answer is right when it is one of the source words the target word translates.
Target words with no source word (the personal "a") and </s> are not scored.

Guided alignment (Garg et al. 2019, "Jointly Learning to Align and Translate with Transformer Models"):
the cross-entropy between a head's attention distribution at label position t and the alignment
distribution of t (uniform over the source tokens of the aligned source words), averaged over the
positions that have an alignment.
"""
import numpy as np
import torch


def target_matrix(ex, T, S):
    """[T, S] alignment distribution for label positions (rows of zeros where nothing is aligned)."""
    m = np.zeros((T, S), dtype=np.float32)
    src_words = np.array(ex.src_words)
    for t, j in enumerate(ex.tgt_words):
        if j < 0 or not ex.align[j]:
            continue
        cols = np.isin(src_words, ex.align[j])
        m[t, :len(src_words)][cols] = 1.0 / cols.sum()
    return m


def guided_loss(cross_attentions, target, heads):
    """Mean cross-entropy between the supervised heads' attention ([B, H, T, S] per layer) and `target` [B, T, S]."""
    rows = target.sum(-1) > 0
    total = 0.0
    for layer, head in heads:
        attn = cross_attentions[layer][:, head]
        ce = -(target * torch.log(attn.clamp_min(1e-9))).sum(-1)
        total = total + ce[rows].mean()
    return total / len(heads)


def word_answers(attn, ex):
    """For one pair and one [T, S] attention map: list of (predicted source word, aligned source words)."""
    src_words = np.array(ex.src_words)
    n_src = src_words.max() + 1
    out = []
    tgt_words = np.array(ex.tgt_words)
    for j, al in enumerate(ex.align):
        if not al:
            continue
        ts = np.nonzero(tgt_words == j)[0]
        if len(ts) == 0:
            continue
        per_word = np.zeros(n_src)
        for s, w in enumerate(src_words):
            if w >= 0:
                per_word[w] += attn[ts, s].mean()
        out.append((int(per_word.argmax()), al))
    return out


@torch.no_grad()
def cross_attentions(model, examples, batch=100):
    """Teacher-forced cross-attention of every pair: a list (one per pair) of arrays [layers, heads, T, S]."""
    from train import collate  # noqa: avoid a circular import at load time
    impl = model.config._attn_implementation
    model.set_attn_implementation("eager")
    model.eval()
    out = []
    for i in range(0, len(examples), batch):
        chunk = examples[i:i + batch]
        b = collate(chunk)
        res = model(input_ids=b["input_ids"], attention_mask=b["attention_mask"],
                    decoder_input_ids=b["decoder_input_ids"], output_attentions=True)
        ca = torch.stack(res.cross_attentions, dim=1).numpy()  # [B, L, H, T, S]
        for k, ex in enumerate(chunk):
            out.append(ca[k, :, :, :len(ex.tgt), :len(ex.src)])
    model.set_attn_implementation(impl)
    return out


def scores(model, examples, maps=None):
    """Share of aligned target words whose strongest cross-attention falls on an aligned source word.

    Returns {"heads": {"L.H": share}, "layers": {"L": share of the map averaged over layer L's heads},
    "all": share of the map averaged over all heads and layers, "mean_of_heads": mean of the per-head shares,
    "words": number of target words scored}.
    """
    maps = maps if maps is not None else cross_attentions(model, examples)
    L, H = maps[0].shape[:2]
    right = {f"{l}.{h}": 0 for l in range(L) for h in range(H)}
    right_layer = {str(l): 0 for l in range(L)}
    right_all, n = 0, 0
    for ex, m in zip(examples, maps):
        for l in range(L):
            for h in range(H):
                right[f"{l}.{h}"] += sum(p in al for p, al in word_answers(m[l, h], ex))
            right_layer[str(l)] += sum(p in al for p, al in word_answers(m[l].mean(0), ex))
        answers = word_answers(m.mean((0, 1)), ex)
        right_all += sum(p in al for p, al in answers)
        n += len(answers)
    heads = {k: v / n for k, v in right.items()}
    return {"heads": heads, "layers": {k: v / n for k, v in right_layer.items()}, "all": right_all / n,
            "mean_of_heads": sum(heads.values()) / len(heads), "words": n}
