#!/usr/bin/env python3
"""Make the tiny random T5 fixtures and their transformers reference outputs.

Writes Tests/StepwiseKitTests/Fixtures/t5/<name>/ with
  config.json        as the Hub's T5 configs are written (t5-small style for v1.0: no feed_forward_proj
                     beyond "relu", no tie_word_embeddings key; flan-t5 style for v1.1: "gated-gelu",
                     "tie_word_embeddings": false), without the keys transformers 5 adds when it saves
                     (scale_decoder_outputs, dense_act_fn, is_gated_act), which real checkpoints lack
  model.safetensors  T5ForConditionalGeneration random init, stored as F16 to stay small (the reference runs
                     on exactly those values promoted to float32); norm weights randomised around 1 so a
                     missing norm shows; the untied fixture gets an lm_head.weight of its own (transformers
                     5 ties lm_head to shared.weight unless the file holds a different one)
  tokenizer.json     a T5-style Unigram tokenizer (runs of spaces replaced by one, Metaspace pre-tokenizer,
                     "$A </s>" template, <pad> = 0, </s> = 1, <unk> = 2, a few <extra_id_N> sentinels): the
                     corpus's words, a few sub-words and single characters with log-probability-like scores,
                     saved with `tokenizers`, shared by all fixtures
  reference.json     transformers (float32, eager attention) on one source sentence and a decoder prefix:
    text, source_ids (the tokenizer's ids, </s> last), decoder_ids (decoder_start_token_id, then the first
    tokens of a target sentence),
    encoder_embed [S, D]            shared[source_ids] (T5 has no position embedding)
    encoder_layers [L][S, D]        each encoder block's output (the residual stream after the block)
    encoder_final [S, D]            encoder.final_layer_norm output, what cross-attention reads
    encoder_position_bias [H, S, S] block 0's relative_attention_bias over the buckets (bidirectional)
    encoder_attentions [L][H, S, S]
    encoder_block0 {ln1, attn_out, ln2, mlp_out} [S, D]   layer_norm / SelfAttention / DenseReluDense outputs
    decoder_embed, decoder_layers [L][T, D], decoder_final [T, D]
    decoder_position_bias [H, T, T] (unidirectional buckets, before the causal mask)
    decoder_attentions [L][H, T, T], cross_attentions [L][H, T, S]
    decoder_block0 {ln1, attn_out, ln2, cross_attn_out, ln3, mlp_out} [T, D]
    logits [T, V]
    greedy   generate(do_sample=False, num_beams=1, max_new_tokens=12, use_cache=False): decoder start first,
             as transformers returns it
and t5/buckets.json: transformers' relative position bucket of every key − query in −300…300, bidirectional
and not, for the fixtures' bucket settings, the Hub's (32 buckets up to 128) and the smallest valid (4, 5).
    hidden_states_note  how transformers' encoder_hidden_states / decoder_hidden_states relate to the above
                        (checked here: [0] is the embedding, [i] block i-1's output for i < L, and [L] is
                        after the final norm, not the last block's raw output)
Shapes (small num_buckets and max_distance so a 20-token source reaches the logarithmic buckets and the clamp):
  t5-relu-tied        v1.0: ReLU DenseReluDense, tied head (logits = decoder · d_model^-0.5 · sharedᵀ),
                      d_model 32, 3 heads of d_kv 12 (36 != 32), d_ff 48, encoder 2 / decoder 3 layers,
                      8 buckets, max distance 12, vocabulary padded 4 past the tokenizer; the attention and MLP
                      output matrices (o, wo) scaled by 10, so that the blocks rather than the embedding pick
                      the greedy tokens (at init the tied head repeats one token)
  flan-gated-untied   v1.1 / Flan: gated-GELU (gelu_new) DenseGatedActDense, untied lm_head, no rescale,
                      d_model 32, 4 heads of d_kv 8, d_ff 40, encoder 3 / decoder 1 layers, 10 buckets,
                      max distance 16
Usage: ~/stepwise-ref/venv/bin/python tools/reference/make_t5_fixtures.py
"""
import json
import os
import tempfile

import torch
import transformers
from safetensors.torch import load_file, save_file
from tokenizers import Regex, Tokenizer, decoders, models, normalizers, pre_tokenizers, processors
from transformers import PreTrainedTokenizerFast, T5Config, T5ForConditionalGeneration

torch.set_grad_enabled(False)
HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, '..', '..', 'Tests', 'StepwiseKitTests', 'Fixtures', 't5')
CORPUS = ["translate English to German: the cat sat on the mat", "summarize: a dog ran in the park all day",
          "the red car is fast and the blue car is slow", "she reads a long book by the old bridge",
          "we walk to the sea when the sun sets", "they sing and dance at night in the town"] * 20
TEXT = "translate English to German: the red cat ran to the old car and the dog sat on the mat"
TARGET = "the dog sat on the red mat"
SENTINELS = 4


def tokenizer():
    """Unigram pieces written out (the trainer finds too few on so small a corpus): every corpus word with
    its leading ▁, a few sub-word pieces, and every character alone, scored like log-probabilities (whole
    words most likely, single characters least), so the Viterbi split prefers whole words."""
    words = sorted({w for line in CORPUS for w in line.split()})
    chars = sorted({c for line in CORPUS for c in line if c != ' '} | set('GEHIJKLMNOPQRSTUVWXYZ'))
    pieces = [("<pad>", 0.0), ("</s>", 0.0), ("<unk>", 0.0), ("\u2581", -2.0)]
    pieces += [("\u2581" + w, -3.0 - 0.01 * i) for i, w in enumerate(words)]
    pieces += [(p, -6.0 - 0.01 * i) for i, p in enumerate(["ing", "ed", "er", "at", "an", "the", "\u2581s", "\u2581c"])]
    pieces += [(c, -9.0 - 0.01 * i) for i, c in enumerate(chars)]
    tok = Tokenizer(models.Unigram(pieces, unk_id=2, byte_fallback=False))
    tok.normalizer = normalizers.Sequence([normalizers.Replace(Regex(" {2,}"), " ")])
    tok.pre_tokenizer = pre_tokenizers.Metaspace(replacement="\u2581", prepend_scheme="always", split=True)
    tok.add_special_tokens(["<pad>", "</s>", "<unk>"] + [f"<extra_id_{i}>" for i in range(SENTINELS)])
    tok.post_processor = processors.TemplateProcessing(single="$A </s>", pair="$A </s> $B </s>",
                                                       special_tokens=[("</s>", 1)])
    tok.decoder = decoders.Metaspace(replacement="\u2581", prepend_scheme="always", split=True)
    return tok


def randomise_norms(model):
    for n, p in model.named_parameters():
        if n.endswith('layer_norm.weight'):
            p.copy_(1 + 0.3 * torch.randn_like(p))


def make(name, cfg_json, tok_path, seed, untied, boost=1.0):
    torch.manual_seed(seed)
    cfg = T5Config(**{k: v for k, v in cfg_json.items() if k != 'model_type'})
    model = T5ForConditionalGeneration(cfg).eval()
    randomise_norms(model)
    for n, p in model.named_parameters():
        if n.endswith('.o.weight') or n.endswith('.wo.weight'):
            p.mul_(boost)
    out = os.path.join(OUT, name)
    os.makedirs(out, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        model.save_pretrained(tmp)
        state = load_file(os.path.join(tmp, 'model.safetensors'))
    if untied:
        state['lm_head.weight'] = torch.randn(cfg.vocab_size, cfg.d_model)
    save_file({k: v.to(torch.float16).contiguous() for k, v in state.items()}, os.path.join(out, 'model.safetensors'),
              metadata={'format': 'pt'})
    os.chmod(os.path.join(out, 'model.safetensors'), 0o644)
    json.dump(cfg_json, open(os.path.join(out, 'config.json'), 'w'), indent=2, sort_keys=True)
    open(os.path.join(out, 'tokenizer.json'), 'w').write(open(tok_path).read())

    model = T5ForConditionalGeneration.from_pretrained(out, dtype=torch.float32, attn_implementation='eager').eval()
    file = load_file(os.path.join(out, 'model.safetensors'))
    head = file['lm_head.weight' if untied else 'shared.weight'].float()
    assert torch.equal(model.lm_head.weight, head), 'lm_head is not the file tensor expected'
    assert model.config.scale_decoder_outputs == (not untied)

    hf_tok = PreTrainedTokenizerFast(tokenizer_file=os.path.join(out, 'tokenizer.json'), pad_token='<pad>',
                                     eos_token='</s>', unk_token='<unk>')
    src = hf_tok(TEXT).input_ids
    dec = [cfg_json['decoder_start_token_id']] + hf_tok(TARGET, add_special_tokens=False).input_ids[:8]
    assert src[-1] == 1 and 18 <= len(src) <= 24, src

    rec = {}

    def keep(key):
        return lambda m, i, o: rec.__setitem__(key, (o[0] if isinstance(o, tuple) else o)[0])
    hooks = []
    for stack in ('encoder', 'decoder'):
        s = getattr(model, stack)
        for L, block in enumerate(s.block):
            hooks.append(block.register_forward_hook(keep((stack, L))))
        hooks.append(s.final_layer_norm.register_forward_hook(keep((stack, 'final'))))
        b0 = s.block[0].layer
        hooks.append(b0[0].layer_norm.register_forward_hook(keep((stack, 'ln1'))))
        hooks.append(b0[0].SelfAttention.register_forward_hook(keep((stack, 'attn_out'))))
        if stack == 'decoder':
            hooks.append(b0[1].layer_norm.register_forward_hook(keep((stack, 'ln2'))))
            hooks.append(b0[1].EncDecAttention.register_forward_hook(keep((stack, 'cross_attn_out'))))
        hooks.append(b0[-1].layer_norm.register_forward_hook(keep((stack, 'ln3' if stack == 'decoder' else 'ln2'))))
        hooks.append(b0[-1].DenseReluDense.register_forward_hook(keep((stack, 'mlp_out'))))
    res = model(input_ids=torch.tensor([src]), decoder_input_ids=torch.tensor([dec]), output_attentions=True,
                output_hidden_states=True, use_cache=False)
    for h in hooks:
        h.remove()
    S, T = len(src), len(dec)
    enc_bias = model.encoder.block[0].layer[0].SelfAttention.compute_bias(S, S)[0]
    dec_bias = model.decoder.block[0].layer[0].SelfAttention.compute_bias(T, T)[0]

    # What transformers' hidden-state tuples hold, so the Swift test compares the right steps.
    for stack, hs in (('encoder', res.encoder_hidden_states), ('decoder', res.decoder_hidden_states)):
        n = len(getattr(model, stack).block)
        emb = model.shared.weight[src if stack == 'encoder' else dec]
        assert len(hs) == n + 1 and torch.equal(hs[0][0], emb), stack
        for i in range(1, n):
            assert torch.equal(hs[i][0], rec[(stack, i - 1)]), (stack, i)
        assert torch.equal(hs[n][0], rec[(stack, 'final')]), stack
    assert torch.allclose(res.encoder_last_hidden_state[0], rec[('encoder', 'final')])

    # use_cache=False: generate() sizes its cache from the top-level config's num_layers (the encoder's), so
    # a decoder deeper than the encoder (t5-relu-tied: 3 vs 2) fails with a cache; each step then runs the
    # whole prefix again, which gives the same tokens.
    greedy = model.generate(input_ids=torch.tensor([src]), do_sample=False, num_beams=1, max_new_tokens=12,
                            use_cache=False)[0].tolist()

    r = lambda t: [float(f'{v:.8g}') for v in t.reshape(-1).tolist()]
    doc = {'model': name, 'transformers': transformers.__version__, 'torch': torch.__version__,
           'text': TEXT, 'target': TARGET, 'source_ids': src, 'decoder_ids': dec,
           'hidden_states_note': 'transformers encoder_hidden_states/decoder_hidden_states: [0] = embedding, '
                                 '[i] = block i-1 output for 0 < i < L, [L] = final_layer_norm output (not the '
                                 'raw last block); here *_layers are every block output and *_final the norm output',
           'encoder_embed': r(model.shared.weight[src]),
           'encoder_layers': [r(rec[('encoder', L)]) for L in range(len(model.encoder.block))],
           'encoder_final': r(rec[('encoder', 'final')]),
           'encoder_position_bias': r(enc_bias),
           'encoder_attentions': [r(a[0]) for a in res.encoder_attentions],
           'encoder_block0': {k: r(rec[('encoder', k)]) for k in ('ln1', 'attn_out', 'ln2', 'mlp_out')},
           'decoder_embed': r(model.shared.weight[dec]),
           'decoder_layers': [r(rec[('decoder', L)]) for L in range(len(model.decoder.block))],
           'decoder_final': r(rec[('decoder', 'final')]),
           'decoder_position_bias': r(dec_bias),
           'decoder_attentions': [r(a[0]) for a in res.decoder_attentions],
           'cross_attentions': [r(a[0]) for a in res.cross_attentions],
           'decoder_block0': {k: r(rec[('decoder', k)]) for k in ('ln1', 'attn_out', 'ln2', 'cross_attn_out', 'ln3', 'mlp_out')},
           'logits': r(res.logits[0]),
           'greedy': greedy}
    json.dump(doc, open(os.path.join(out, 'reference.json'), 'w'))
    print(name, S, 'source tokens,', T, 'decoder tokens, greedy', greedy,
          os.path.getsize(os.path.join(out, 'model.safetensors')), 'bytes of weights')


def buckets():
    """transformers' _relative_position_bucket for key − query from −300 to 300, both directions, for the
    fixtures' bucket settings and the Hub checkpoints' (32 buckets, max distance 128)."""
    from transformers.models.t5.modeling_t5 import T5Attention
    rel = torch.arange(-300, 301)
    cases = []
    for nb, md in ((8, 12), (10, 16), (32, 128), (4, 5)):
        for bidirectional in (True, False):
            b = T5Attention._relative_position_bucket(rel, bidirectional=bidirectional, num_buckets=nb, max_distance=md)
            cases.append({'num_buckets': nb, 'max_distance': md, 'bidirectional': bidirectional, 'buckets': b.tolist()})
    json.dump({'relative_from': -300, 'cases': cases}, open(os.path.join(OUT, 'buckets.json'), 'w'))


def main():
    buckets()
    os.makedirs(OUT, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        tok_path = os.path.join(tmp, 'tokenizer.json')
        tokenizer().save(tok_path)
        V = Tokenizer.from_file(tok_path).get_vocab_size()
        base = {'model_type': 't5', 'decoder_start_token_id': 0, 'eos_token_id': 1, 'pad_token_id': 0,
                'initializer_factor': 1.0, 'dropout_rate': 0.1, 'is_encoder_decoder': True}
        v10 = dict(base, vocab_size=V + 4, d_model=32, d_kv=12, d_ff=48, num_layers=2, num_decoder_layers=3,
                   num_heads=3, relative_attention_num_buckets=8, relative_attention_max_distance=12,
                   layer_norm_epsilon=1e-6, n_positions=512)
        make('t5-relu-tied', v10, tok_path, 3, untied=False, boost=10.0)
        v11 = dict(base, vocab_size=V, d_model=32, d_kv=8, d_ff=40, num_layers=3, num_decoder_layers=1,
                   num_heads=4, relative_attention_num_buckets=10, relative_attention_max_distance=16,
                   layer_norm_epsilon=1e-6, feed_forward_proj='gated-gelu', tie_word_embeddings=False)
        make('flan-gated-untied', v11, tok_path, 9, untied=True)


main()
