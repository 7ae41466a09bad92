"""Reference learning rates for Tests/RNNTests/Training/LearningRateScheduleTests.swift
(testReduceOnPlateauMatchesPyTorch): torch.optim.lr_scheduler.ReduceLROnPlateau fed a fixed
metric sequence; prints the learning rate after each step as Swift array literals.
Run: /tmp/torch-peer/bin/python scripts/plateau_reference.py
"""
import torch

METRICS = [1.0, 0.9, 0.95, 0.9, 0.91, 0.8999, 0.92, 0.93, 0.7, 0.71, 0.72, 0.73, 0.74, 0.75, 0.76, 0.77]
CONFIGS = {
    "minRelative": dict(mode="min", factor=0.5, patience=2, threshold=1e-3, cooldown=1, min_lr=0.02),
    "maxAbsolute": dict(mode="max", factor=0.1, patience=1, threshold=0.05, threshold_mode="abs"),
}
for name, kwargs in CONFIGS.items():
    optimizer = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=0.1)
    scheduler = torch.optim.lr_scheduler.ReduceLROnPlateau(optimizer, **kwargs)
    rates = []
    for metric in METRICS:
        scheduler.step(metric)
        rates.append(optimizer.param_groups[0]["lr"])
    print(f'"{name}": [{", ".join(repr(r) for r in rates)}],')
print("torch", torch.__version__)
