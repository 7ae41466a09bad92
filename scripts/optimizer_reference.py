"""Reference values for Tests/RNNTests/Training/OptimizersTests.swift (testMatchesPyTorch).

Minimizes L(θ) = Σ ½ cᵢ θᵢ² for 5 steps with torch.optim and prints θ after the last step,
as Swift array literals. Run: /tmp/torch-peer/bin/python scripts/optimizer_reference.py
"""
import torch

THETA0 = [0.5, -1.0, 2.0, 0.1, -0.3]
CURVATURE = [1.0, 2.0, 0.5, 3.0, 0.25]

CONFIGS = {
    "sgd": lambda p: torch.optim.SGD(p, lr=0.1, momentum=0.9, weight_decay=0.01),
    "sgdNesterov": lambda p: torch.optim.SGD(p, lr=0.1, momentum=0.9, nesterov=True),
    "adam": lambda p: torch.optim.Adam(p, lr=0.05, weight_decay=0.1),
    "adamW": lambda p: torch.optim.AdamW(p, lr=0.05, weight_decay=0.1),
    "rmsprop": lambda p: torch.optim.RMSprop(p, lr=0.01, alpha=0.9, momentum=0.5, centered=True, weight_decay=0.01),
    "adagrad": lambda p: torch.optim.Adagrad(p, lr=0.1, lr_decay=0.05, initial_accumulator_value=0.1, weight_decay=0.01),
}

for name, make in CONFIGS.items():
    theta = torch.tensor(THETA0, dtype=torch.float32, requires_grad=True)
    curvature = torch.tensor(CURVATURE, dtype=torch.float32)
    optimizer = make([theta])
    for _ in range(5):
        optimizer.zero_grad()
        loss = 0.5 * (curvature * theta * theta).sum()
        loss.backward()
        optimizer.step()
    values = ", ".join(repr(float(v)) for v in theta.detach())
    print(f'"{name}": [{values}],')
print("torch", torch.__version__)
