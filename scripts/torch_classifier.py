"""Load a swift-rnn classifier directory into PyTorch and check it agrees with swift-rnn.

    python scripts/torch_classifier.py MODEL_DIR [--rnn PATH_TO_rnn] "text one" "text two" ...

Builds nn.Embedding + nn.RNN/LSTM/GRU + pooling + nn.Linear from config.json, loads
model.safetensors by its PyTorch parameter names, tokenizes with the HuggingFace `tokenizers`
library from tokenizer.json, and prints PyTorch's probabilities next to those of
`rnn classify predict --json`. Exits non-zero if any probability differs by more than 1e-4.
Needs torch, safetensors and tokenizers (shared/bench/setup-torch.sh installs them).
"""
import json, subprocess, sys
import torch, torch.nn as nn
from safetensors.torch import load_file
from tokenizers import Tokenizer


class Classifier(nn.Module):
    def __init__(self, config):
        super().__init__()
        r = config["recurrent"]
        assert r["merge"] == "concat" and not r["goBackwards"], "PyTorch layers concatenate directions only"
        self.pooling = config["pooling"]
        self.hidden = r["hiddenSize"]
        self.bidirectional = r["bidirectional"]
        self.embedding = nn.Embedding(config["vocabularySize"], config["embeddingDimension"], padding_idx=config["paddingId"])
        kwargs = dict(num_layers=r["layers"], bias=r["bias"], bidirectional=r["bidirectional"], batch_first=True)
        if r["cell"] == "lstm":
            self.rnn = nn.LSTM(r["inputSize"], r["hiddenSize"], **kwargs)
        elif r["cell"] == "gru":
            self.rnn = nn.GRU(r["inputSize"], r["hiddenSize"], **kwargs)
        else:
            assert r["activation"] in ("tanh", "relu"), "nn.RNN has no linear activation"
            self.rnn = nn.RNN(r["inputSize"], r["hiddenSize"], nonlinearity=r["activation"], **kwargs)
        outputs = 1 if len(config["labels"]) == 2 else len(config["labels"])
        self.fc = nn.Linear(r["hiddenSize"] * (2 if r["bidirectional"] else 1), outputs)

    def forward(self, ids, lengths):
        packed = nn.utils.rnn.pack_padded_sequence(self.embedding(ids), lengths, batch_first=True, enforce_sorted=False)
        out, state = self.rnn(packed)
        y, _ = nn.utils.rnn.pad_packed_sequence(out, batch_first=True)
        if self.pooling == "mean":
            pooled = y.sum(1) / lengths.unsqueeze(1).to(y.dtype)
        elif self.pooling == "max":
            mask = torch.arange(y.shape[1]).unsqueeze(0) < lengths.unsqueeze(1)
            pooled = y.masked_fill(~mask.unsqueeze(2), float("-inf")).max(1).values
        else:  # last: the final states of the top layer, [forward ; backward]
            h = state[0] if isinstance(state, tuple) else state
            pooled = torch.cat([h[-2], h[-1]], 1) if self.bidirectional else h[-1]
        return self.fc(pooled)


def main():
    args = sys.argv[1:]
    rnn = "rnn"
    if "--rnn" in args:
        i = args.index("--rnn"); rnn = args[i + 1]; del args[i:i + 2]
    model_dir, texts = args[0], args[1:]
    config_file = json.load(open(f"{model_dir}/config.json"))
    config, training = config_file["model"], config_file["training"]
    model = Classifier(config).eval()
    model.load_state_dict(load_file(f"{model_dir}/model.safetensors"))
    tokenizer = Tokenizer.from_file(f"{model_dir}/tokenizer.json")
    max_length, keep = int(training["max_length"]), training["truncation"]
    sequences = []
    for text in texts:
        ids = tokenizer.encode(text).ids
        ids = ids[-max_length:] if keep == "tail" else ids[:max_length]
        sequences.append(ids or [tokenizer.token_to_id("[UNK]")])
    lengths = torch.tensor([len(s) for s in sequences])
    ids = torch.zeros(len(sequences), int(lengths.max()), dtype=torch.long) + config["paddingId"]
    for row, s in enumerate(sequences):
        ids[row, :len(s)] = torch.tensor(s)
    with torch.no_grad():
        logits = model(ids, lengths)
    probabilities = torch.sigmoid(logits[:, 0]) if logits.shape[1] == 1 else torch.softmax(logits, 1)[:, 1]
    ours = [json.loads(line) for line in subprocess.run([rnn, "classify", "predict", "--model", model_dir, "--json", *texts],
                                                         check=True, capture_output=True, text=True).stdout.splitlines()]
    worst = 0.0
    for text, p, mine in zip(texts, probabilities.tolist(), ours):
        q = mine["probabilities"][config["labels"][1]]
        worst = max(worst, abs(p - q))
        print(f"torch {p:.6f}  swift-rnn {q:.6f}  {text[:60]}")
    print(f"largest difference {worst:.2e}")
    sys.exit(0 if worst <= 1e-4 else 1)


if __name__ == "__main__":
    main()
