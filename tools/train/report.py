"""Measure a trained folder and write its model card (FOLDER/README.md).

Usage: python report.py FOLDER --work WORKDIR
Loads FOLDER with transformers exactly as a user would (GPT2LMHeadModel, AutoTokenizer), checks that no
weight is missing or unexpected, computes the validation loss, the head scores (measure_heads.py) and a few
greedy samples, and fills the card from those numbers and WORKDIR/metrics.json + corpus/source.json.
"""
import argparse
import json
import os

import torch
from tokenizers import Tokenizer
from transformers import AutoTokenizer, GPT2LMHeadModel

import measure_heads
import train

PROMPTS = [
    "It is a truth universally acknowledged",
    "Mr. Darcy",
    "Emma Woodhouse, handsome, clever, and rich,",
    "\"My dear Jane,\" said Elizabeth,",
    "The ball at Netherfield",
]


@torch.no_grad()
def greedy(model, tok, prompt, n=40):
    ids = torch.tensor([tok(prompt)["input_ids"]])
    for _ in range(n):
        nxt = model(input_ids=ids[:, -model.config.n_positions:]).logits[0, -1].argmax()
        ids = torch.cat([ids, nxt.view(1, 1)], dim=1)
    return tok.decode(ids[0])


def folder_size(folder):
    return sum(os.path.getsize(os.path.join(folder, f)) for f in os.listdir(folder))


def main():
    p = argparse.ArgumentParser()
    p.add_argument("folder")
    p.add_argument("--work", required=True)
    a = p.parse_args()
    torch.set_num_threads(2)
    m = json.load(open(os.path.join(a.work, "metrics.json")))
    src = json.load(open(os.path.join(a.work, "corpus", "source.json")))
    args = m["args"]

    model, info = GPT2LMHeadModel.from_pretrained(a.folder, attn_implementation="eager", output_loading_info=True)
    assert not info["missing_keys"] and not info["unexpected_keys"], info
    model.eval()
    tok = AutoTokenizer.from_pretrained(a.folder)
    raw_tok = Tokenizer.from_file(os.path.join(a.folder, "tokenizer.json"))
    val_text = open(os.path.join(a.work, "corpus", "val.txt"), encoding="utf-8").read()
    val_ids = train.encode(raw_tok, val_text)
    para = val_text.split("\n")[1]
    assert tok(para)["input_ids"] == raw_tok.encode(para).ids  # transformers' loader = the trained tokenizer
    vl = train.val_loss(model, val_ids, args["ctx"])
    eot = raw_tok.token_to_id(train.EOT)

    prev = measure_heads.previous_token_scores(model, measure_heads.text_windows(val_ids, 128, 8))
    ind = measure_heads.induction_scores(model, model.config.vocab_size, n_special=eot + 1)
    ind_bos = measure_heads.induction_scores(model, model.config.vocab_size, n_special=eot + 1, bos_id=eot)
    prev_default = measure_heads.previous_token_scores(
        model, torch.tensor([tok(measure_heads.DEFAULT_TEXT)["input_ids"]]))
    heads = measure_heads.head_names(model)
    bp, bi = max(prev, key=prev.get), max(ind, key=ind.get)
    # Where the best previous-token head looks: mean attention 0-3 positions back, and on the first token.
    windows = measure_heads.text_windows(val_ids, 128, 8)
    pat = measure_heads.attentions(model, windows)[int(bp.split(".")[0])][:, int(bp.split(".")[1])]
    back = [torch.diagonal(pat, offset=-o, dim1=-2, dim2=-1)[:, max(0, 1 - o):].mean().item() for o in range(4)]
    first = pat[:, 1:, 0].mean().item()
    samples = [(pr, greedy(model, tok, pr)) for pr in PROMPTS]
    size = folder_size(a.folder)
    n_merges = sum(1 for line in open(os.path.join(a.folder, "merges.txt"), encoding="utf-8")
                   if line.strip() and not line.startswith("#version"))

    results = {"val_loss": vl, "previous_token": prev, "previous_token_default_prompt": prev_default,
               "induction": ind, "induction_bos": ind_bos, "samples": samples, "folder_bytes": size}
    json.dump(results, open(os.path.join(a.work, "results.json"), "w"), indent=1)

    c = model.config
    L = []
    w = L.append
    w("# Stepwise built-in teaching model: a tiny GPT-2 trained on Jane Austen")
    w("")
    ok_p, ok_i = prev[bp] >= 0.9, ind[bi] >= 0.5
    w("A deliberately small GPT-2 (same architecture and weight names as OpenAI's GPT-2, so Hugging Face "
      "`transformers` loads it unchanged) for stepping through a forward pass by hand: small enough to read "
      "every matrix. It writes Austen-flavoured English that is grammatical in short stretches and makes "
      "little sense beyond that; do not expect a useful language model.")
    w("")
    if ok_p and ok_i:
        w(f"Two classic circuits show up clearly: a **previous-token head, {bp}** (layer {bp.split('.')[0]} "
          f"head {bp.split('.')[1]}, score {prev[bp]:.3f}) and an **induction head, {bi}** (layer "
          f"{bi.split('.')[0]} head {bi.split('.')[1]}, score {ind[bi]:.3f}).")
    elif ok_i:
        w(f"An **induction head, {bi}** (layer {bi.split('.')[0]} head {bi.split('.')[1]}, score {ind[bi]:.2f}) "
          f"shows up clearly. **One target not met:** the aim was also a previous-token head scoring >= 0.9; "
          f"the best, {bp}, scores {prev[bp]:.3f}: it looks mostly one position back but spreads the rest over "
          f"the tokens just before (on average {back[1]:.2f} one back, {back[2]:.2f} two back, "
          f"{back[3]:.2f} three back, {back[0]:.2f} on itself). See the scores and the training curve below.")
    else:
        w(f"**Targets not met.** The aim was a previous-token head scoring >= 0.9 and an induction head "
          f"scoring >= 0.5. The best heads score {prev[bp]:.3f} (previous-token, {bp}) and {ind[bi]:.3f} "
          f"(induction, {bi}). "
          + ("In this run the attention stayed close to uniform. " if prev[bp] < 0.2 and ind[bi] < 0.2 else "")
          + "See the scores and the training curve below.")
    w("")
    w("## Files")
    w("")
    w("| file | what |")
    w("| --- | --- |")
    w("| `config.json` | `GPT2LMHeadModel` configuration |")
    w("| `model.safetensors` | weights, float32; `lm_head` is tied to `transformer.wte` and not stored separately |")
    w("| `tokenizer.json` | the byte-level BPE tokenizer (Hugging Face `tokenizers` format) |")
    w("| `vocab.json`, `merges.txt` | the same tokenizer in GPT-2's two-file format |")
    w("| `tokenizer_config.json`, `generation_config.json` | small extras that `transformers` reads |")
    w("")
    w(f"Total size: {size / 1e6:.2f} MB.")
    w("")
    w("## Corpus and licence")
    w("")
    w("Jane Austen's six completed novels — *Sense and Sensibility* (1811), *Pride and Prejudice* (1813), "
      "*Mansfield Park* (1814), *Emma* (1815), *Northanger Abbey* and *Persuasion* (1817) — as shipped in "
      f"Debian's package `{src['package']}` (`{src['origin']}`), which packages the CRAN package `janeaustenr` "
      "(the Project Gutenberg texts, one element per line). The novels themselves are in the public domain "
      "(Austen died in 1817); the `janeaustenr` packaging is under the MIT licence (Copyright 2016-2017 "
      "Julia Silge). The trained weights and tokenizer are derived from public-domain text only.")
    w("")
    w("Preparation (`tools/train/corpus.py`): hard-wrapped lines are joined into one line per paragraph, runs "
      "of spaces become one space, paragraphs are separated by `\\n`, novels by `<|endoftext|>`. The last 5% "
      "of each novel's paragraphs is held out as the validation set (never trained on, not even by the "
      f"tokenizer). Training text: {src['train_chars']:,} characters = {m['train_tokens']:,} tokens; "
      f"validation: {src['val_chars']:,} characters = {m['val_tokens']:,} tokens.")
    w("")
    w("## Tokenizer")
    w("")
    w(f"Byte-level BPE trained with Hugging Face `tokenizers` on the training text: vocabulary {c.vocab_size} "
      f"(256 byte tokens, {n_merges} merges, 1 special token), GPT-2's ByteLevel pre-tokenizer with "
      f"`add_prefix_space=false`, ByteLevel decoder, minimum pair frequency 2. `<|endoftext|>` has id {eot} "
      f"and is the model's `bos_token_id` and `eos_token_id`. About {m['chars_per_token_train']:.2f} characters "
      "per token on Austen. No BOS token is added when encoding.")
    w("")
    w("## Architecture")
    w("")
    w("| | |")
    w("| --- | --- |")
    w("| model | GPT-2 (`GPT2LMHeadModel`), pre-LayerNorm, learned absolute positions |")
    w(f"| layers x heads | {c.n_layer} x {c.n_head} (head size {c.n_embd // c.n_head}) |")
    w(f"| d_model / MLP | {c.n_embd} / {c.n_inner} |")
    w(f"| context (n_positions) | {c.n_positions} |")
    w(f"| vocabulary | {c.vocab_size} |")
    w(f"| activation | `{c.activation_function}` (GPT-2's tanh approximation of GELU) |")
    w(f"| layer_norm_epsilon | {c.layer_norm_epsilon:g} |")
    w("| embeddings | tied (`tie_word_embeddings: true`) |")
    w("| dropout | 0 |")
    w(f"| parameters | {m['n_params']:,} |")
    w("")
    w("## Training")
    w("")
    a_ = args
    w(f"- {a_['steps']} AdamW steps (betas 0.9/0.95, weight decay {a_['weight_decay']} on the attention and MLP "
      f"matrices, none on the embeddings, biases and LayerNorm), batch {a_['batch']} x {a_['ctx']} tokens = "
      f"{m['tokens_seen'] / 1e6:.1f}M tokens seen (~{m['tokens_seen'] / m['train_tokens']:.0f} passes over the "
      "training text), gradient clipping at 1.0.")
    w(f"- Learning rate: linear warmup over {a_['warmup']} steps to {a_['lr']:g}, then cosine decay to "
      f"{a_['lr'] * a_['min_lr_frac']:g}.")
    w(f"- Seed {a_['seed']} for the initialisation and for the batch sampler; {a_['threads']} torch "
      f"thread(s) (torch {m['torch']}). The run is fixed by its step count, not by the clock, so rerunning "
      "it gives the same model with the same software and thread count.")
    wpe_start = {
        "sinusoidal": "the original Transformer's sinusoids scaled to std 0.02. They are trained like any other "
                      "weight; the start only makes \"the previous position\" easy to find (with GPT-2's random "
                      "start, runs of this length showed no previous-token head at all).",
        "sinusoidal-linear": "sinusoids scaled to std 0.02 whose frequencies are spaced evenly up to pi (so "
                             "neighbouring positions start orthogonal). They are trained like any other weight.",
    }.get(a_.get("wpe_init"))
    w("- Initialisation: GPT-2's (normal, std 0.02; residual projections scaled down)"
      + (f", except that the learned position embeddings start from {wpe_start}" if wpe_start else
         ", position embeddings included."))
    w("- Each training sequence is a random window of the training text, except that, to make copying pay "
      "off early (so that an induction head forms in a short run):")
    w(f"  - {a_['p_copy']:.0%} carry a copied span: 8-64 tokens of the window are pasted again later in the "
      "same window;")
    w(f"  - {a_['p_tile']:.0%} are one natural passage of 16-128 tokens tiled to fill the context;")
    w(f"  - {a_['p_random']:.0%} are 10-64 uniformly random tokens tiled to fill the context (no loss on the "
      "first copy, which cannot be predicted)" + (";" if a_.get("p_pairs", 0) > 0 else "."))
    if a_.get("p_pairs", 0) > 0:
        w(f"  - {a_['p_pairs']:.0%} are 4-32 random token pairs (a, b) drawn again and again in random order; "
          "the loss is only on predicting b after an a whose pair appeared before. To find that b, a later layer "
          "looks for an earlier position whose previous token is this a; if that \"previous token\" is a blur of "
          "the last few tokens, the b's of other pairs match too. These sequences reward a head that looks "
          "exactly one position back, and are what made the previous-token head sharp.")
    w("  The validation loss below is measured on untouched held-out text only.")
    w(f"- Training time: {m['train_seconds'] / 60:.1f} minutes for the {a_['steps']} steps "
      f"({m['train_seconds'] / a_['steps']:.2f} s/step) on 2 CPU cores shared with other jobs; the whole "
      f"command (tokenizer, training, periodic evaluations) took {m['total_seconds'] / 60:.1f} minutes "
      "after the environment was installed.")
    w("")
    w("## Results")
    w("")
    w(f"**Validation loss: {vl:.3f} nats/token** (perplexity {torch.tensor(vl).exp().item():.0f}), mean "
      f"cross-entropy over all {len(val_ids) // args['ctx']} non-overlapping {args['ctx']}-token windows of "
      "the held-out text.")
    w("")
    w("Head scores (definitions of TransformerLens's head detector; `tools/train/measure_heads.py`):")
    w("")
    w("- *previous-token*: mean of `pattern[q, q-1]` over query positions q >= 1, averaged over 8 evenly "
      "spaced 128-token windows of the validation text (the last column: the opening paragraph of *Pride "
      "and Prejudice*, the script's default prompt);")
    w("- *induction*: 40 uniformly random non-special tokens followed by the same 40 tokens, mean of "
      "`pattern[q, q-39]` (the token after q's earlier twin) over the 40 second-copy positions, averaged "
      "over 16 random sequences (seed 0). Main column: no BOS token; last column: with `<|endoftext|>` "
      "prepended (all positions shifted by one).")
    w("")
    w("| head (layer.head) | previous-token | induction | induction, with BOS | previous-token, default prompt |")
    w("| --- | --- | --- | --- | --- |")
    for h in heads:
        mark = (" (previous-token head)" if ok_p else " (best previous-token score)") if h == bp else \
            ((" (induction head)" if ok_i else " (best induction score)") if h == bi else "")
        w(f"| {h}{mark} | {prev[h]:.3f} | {ind[h]:.3f} | {ind_bos[h]:.3f} | {prev_default[h]:.3f} |")
    w("")
    w(f"Targets: a previous-token head scoring >= 0.9 — {'met' if ok_p else 'NOT met'} by {bp} "
      f"({prev[bp]:.3f}); an induction head scoring >= 0.5 — {'met' if ok_i else 'NOT met'} by {bi} "
      f"({ind[bi]:.3f}).")
    w("")
    w(f"Where {bp} looks, averaged over the same validation windows: {back[1]:.3f} of its attention one position "
      f"back, {back[2]:.3f} two back, {back[3]:.3f} three back, {back[0]:.3f} on the token itself and "
      f"{first:.3f} on the first token.")
    w("")
    w("During training (evaluations every few hundred steps; minutes of training time):")
    w("")
    w("| step | minutes | train loss (smoothed) | val loss | best previous-token head | best induction head |")
    w("| --- | --- | --- | --- | --- | --- |")
    for r in m["curve"]:
        w(f"| {r['step']} | {r['minutes']:.1f} | {r['train_loss_ema']:.3f} | {r['val_loss']:.3f} | "
          f"{r['best_prev'][0]} {r['best_prev'][1]:.3f} | {r['best_induction'][0]} {r['best_induction'][1]:.3f} |")
    w("")
    w("The training loss includes the easy copied and tiled sequences, so it sits below the validation loss.")
    w("")
    w("## Greedy samples")
    w("")
    w("40 new tokens each, greedy (argmax) decoding, no BOS:")
    w("")
    for pr, out in samples:
        w("```text")
        w(out)
        w("```")
        w("")
    w("## Retraining and checking")
    w("")
    w("From the repository root, with Python 3.11, `apt-get` and access to Debian's archive and PyPI:")
    w("")
    w("```sh")
    w("bash tools/train/train.sh Sources/StepwiseKit/Resources/builtin")
    w("```")
    w("")
    w("This makes a venv from `tools/train/requirements.txt` (exact versions; `torch==2.13.0+cpu` is the "
      "CPU-only wheel), downloads the Debian package with `apt-get download` and unpacks it with `dpkg -x` "
      "(no root needed), trains, and rewrites this folder including this card. `--steps N` (and the other "
      "options of `tools/train/train.py`) can follow the folder. To recompute only the head scores:")
    w("")
    w("```sh")
    w("PY=tools/train/.work/venv/bin/python   # the venv that train.sh made")
    w("$PY tools/train/measure_heads.py Sources/StepwiseKit/Resources/builtin            # default prompt")
    w("$PY tools/train/measure_heads.py Sources/StepwiseKit/Resources/builtin --bos      # BOS before the repeats")
    w("$PY tools/train/measure_heads.py Sources/StepwiseKit/Resources/builtin --text-file tools/train/.work/corpus/val.txt")
    w("```")
    w("")
    open(os.path.join(a.folder, "README.md"), "w", encoding="utf-8").write("\n".join(L))
    print(f"val loss {vl:.4f}; previous-token {bp} {prev[bp]:.3f}; induction {bi} {ind[bi]:.3f}; "
          f"folder {size / 1e6:.2f} MB")
    for pr, out in samples:
        print(repr(out))


if __name__ == "__main__":
    main()
