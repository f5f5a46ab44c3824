"""Run logs: a CSV of the loss and a PNG loss curve in the run folder."""
from __future__ import annotations

import csv
from pathlib import Path

import numpy as np

from cinegen.common.atomic import atomic_path

FIELDS = ["step", "loss", "lr", "steps_per_s", "elapsed_s"]


class LossLog:
    def __init__(self, run: Path, resume_step: int):
        self.path = run / "loss.csv"
        rows = []
        if self.path.exists():  # keep the rows up to the resumed step; later ones are being redone
            with self.path.open() as f:
                rows = [r for r in csv.DictReader(f) if int(r["step"]) <= resume_step]
        self.rows = rows

    def add(self, **row: float) -> None:
        self.rows.append({k: row[k] for k in FIELDS})

    def save(self) -> None:
        with atomic_path(self.path) as tmp, tmp.open("w", newline="") as f:
            w = csv.DictWriter(f, fieldnames=FIELDS)
            w.writeheader()
            w.writerows(self.rows)
        self.plot()

    def plot(self) -> None:
        if len(self.rows) < 2:
            return
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt

        steps = np.array([float(r["step"]) for r in self.rows])
        loss = np.array([float(r["loss"]) for r in self.rows])
        k = max(1, len(loss) // 50)
        smooth = np.convolve(loss, np.ones(k) / k, mode="valid")
        fig, ax = plt.subplots(figsize=(6, 3.5), dpi=100)
        ax.plot(steps, loss, alpha=0.3, label="loss")
        ax.plot(steps[k - 1 :], smooth, label=f"mean of {k}")
        ax.set_xlabel("step")
        ax.set_ylabel("loss")
        ax.set_yscale("log")
        ax.legend()
        fig.tight_layout()
        with atomic_path(self.path.with_suffix(".png")) as tmp:
            fig.savefig(tmp, format="png")
        plt.close(fig)
