"""rss.png from the soak's rss.csv: RSS and each thread's used heap over time, the warm-up shaded, the RSS fit after it.

Usage: python chart.py rss.csv rss.png WARMUP_SECONDS MAX_SLOPE_MB_PER_MIN (run by test/probes/soak.ts from the probes' venv).
"""
import csv
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402


def main(source: str, target: str, warmup_s: float, max_slope: float) -> None:
    with open(source, newline="") as f:
        rows = list(csv.DictReader(f))
    minutes = np.array([float(r["seconds"]) / 60 for r in rows])
    rss = np.array([float(r["rss_mb"]) for r in rows])
    heap_main = np.array([float(r["heap_main_mb"]) for r in rows])
    heap_worker = np.array([float(r["heap_worker_mb"]) for r in rows])
    fig, ax = plt.subplots(figsize=(10, 5), dpi=100)
    ax.plot(minutes, rss, label="RSS (process)", color="tab:blue", linewidth=2)
    ax.plot(minutes, heap_main, label="heap used, main thread", color="tab:orange")
    ax.plot(minutes, heap_worker, label="heap used, worker thread", color="tab:green")
    warm = warmup_s / 60
    ax.axvspan(0, warm, color="grey", alpha=0.15, label="warm-up")
    after = minutes >= warm
    title = "Journey Engine soak: memory over time"
    if after.sum() >= 2:
        slope, intercept = np.polyfit(minutes[after], rss[after], 1)
        ax.plot(minutes[after], slope * minutes[after] + intercept, "--", color="tab:red", label=f"RSS fit: {slope:.2f} MB/min (threshold {max_slope:g})")
        title += f" (RSS slope {slope:.2f} MB/min)"
    ax.set_title(title)
    ax.set_xlabel("minutes")
    ax.set_ylabel("MB")
    ax.set_ylim(bottom=0)
    ax.grid(True, alpha=0.3)
    ax.legend(loc="lower right")
    fig.tight_layout()
    fig.savefig(target)
    print(f"chart: {target}")


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], float(sys.argv[3]), float(sys.argv[4]))
