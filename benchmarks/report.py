"""Tables and figures of the suite's results (the dicts that ``benchmarks.suite`` saves as JSON).

A task's result: ``{library: {"train_s", "predict_s", "train_mem_mib", "peak_rss_mib", "metric",
"train_x_ours", "predict_x_ours", "train_mem_x_ours", "train_s_rounds"}}`` (and ``"train_x_ours_paired"``
from two rounds) or ``{library: {"error": message}}``. Ratios are the peer's seconds (training MiB)
over ours: above 1 we are faster (use less memory).
"""
from pathlib import Path

import numpy as np

COLUMNS = (("train s", "train_s", "{:9.3f}"), ("predict s", "predict_s", "{:9.3f}"),
           ("train MiB", "train_mem_mib", "{:9.1f}"), ("peak MiB", "peak_rss_mib", "{:9.1f}"))


def add_ratios(results):
    """Fill ``train_x_ours``, ``predict_x_ours`` and ``train_mem_x_ours`` of every library that ran, in place."""
    ours = results.get("ours", {})
    for r in results.values():
        if "error" not in r and "error" not in ours and ours:
            for key in ("train", "predict"):
                r[f"{key}_x_ours"] = r[f"{key}_s"] / ours[f"{key}_s"]
            if ours["train_mem_mib"] > 0:
                r["train_mem_x_ours"] = r["train_mem_mib"] / ours["train_mem_mib"]
    return results


def add_paired_ratios(results, runs):
    """With two or more rounds (``runs``: {library: [result of each round]}), fill
    ``train_x_ours_paired`` of every library that ran: the median over rounds of its train seconds
    over ours in the same round. Less sensitive than the ratio of the fastest runs to a machine
    whose speed drifts between rounds."""
    ours = runs.get("ours", [])
    for library, library_runs in runs.items():
        ratios = [r["train_s"] / o["train_s"] for r, o in zip(library_runs, ours)
                  if "error" not in r and "error" not in o]
        if len(ratios) >= 2 and "error" not in results[library]:
            results[library]["train_x_ours_paired"] = float(np.median(ratios))
    return results


def task_table(title, metric, results):
    """The printable table of one task."""
    width = max([10] + [len(library) + 1 for library in results])
    head = f"{'library':{width}s}" + "".join(f"{name:>10s}" for name, _, _ in COLUMNS)
    paired = any("train_x_ours_paired" in r for r in results.values())
    head += f"{metric:>10s}{'train x ours':>14s}{'pred x ours':>13s}{'MiB x ours':>12s}"
    head += f"{'paired':>8s}" if paired else ""
    lines = [title, head]
    for library, r in results.items():
        if "error" in r:
            lines.append(f"{library:{width}s} not run: {r['error']}")
            continue
        row = f"{library:{width}s}" + "".join(" " + fmt.format(r[key]) for _, key, fmt in COLUMNS)
        row += f" {r['metric']:9.5f}"
        row += f" {r['train_x_ours']:13.2f} {r['predict_x_ours']:12.2f}" if "train_x_ours" in r else ""
        row += f" {r['train_mem_x_ours']:11.2f}" if "train_mem_x_ours" in r else ""
        row += f" {r['train_x_ours_paired']:7.2f}" if "train_x_ours_paired" in r else ""
        lines.append(row)
    if paired:
        lines.append("paired: median over rounds of train s / ours in the same round")
    return "\n".join(lines)


def _pyplot():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _caption(machine, setting):
    return (f"{machine['cpu']}, {machine['cores']} cores; {setting['trees']} trees, depth {setting['depth']}, "
            f"{setting['bins']} bins")


def suite_figure(payload, path):
    """Per task: each library's train and predict seconds over ours (log scale; ours = 1, above 1
    we are faster) and its training memory (MiB)."""
    plt = _pyplot()
    tasks = list(payload["tasks"])
    libraries = sorted({lib for t in tasks for lib in payload["tasks"][t]["results"]},
                       key=lambda lib: (lib != "ours", lib))
    fig, axes = plt.subplots(1, 3, figsize=(15, 4.5))
    width = 0.8 / max(len(libraries), 1)
    panels = (("train s / ours", "train_x_ours"), ("predict s / ours", "predict_x_ours"),
              ("training memory, MiB", "train_mem_mib"))
    for ax, (label, key) in zip(axes, panels):
        for i, lib in enumerate(libraries):
            x = [j + (i - (len(libraries) - 1) / 2) * width for j in range(len(tasks))]
            values = [payload["tasks"][t]["results"].get(lib, {}).get(key, float("nan")) for t in tasks]
            if key == "train_mem_mib":
                ax.bar(x, values, width, label=lib, color=f"C{i}")
            else:
                ax.plot(x, values, "o", markersize=8, label=lib, color=f"C{i}")
        if key != "train_mem_mib":
            ax.axhline(1.0, color="grey", lw=0.8)
            ax.set_yscale("log")
        ax.set_xticks(range(len(tasks)), tasks, rotation=20)
        ax.set(ylabel=label)
    axes[0].legend()
    fig.suptitle(f"{_caption(payload['machine'], payload['setting'])}, {payload['setting']['threads']} threads")
    return _save(fig, path)


def scaling_figure(payload, path):
    """Train seconds against threads, one line per library, one panel per task."""
    plt = _pyplot()
    tasks = list(payload["tasks"])
    fig, axes = plt.subplots(1, len(tasks), figsize=(5 * len(tasks), 4.2), squeeze=False)
    for ax, task in zip(axes[0], tasks):
        for lib, by_threads in payload["tasks"][task]["results"].items():
            points = sorted((int(t), r["train_s"]) for t, r in by_threads.items() if "error" not in r)
            if points:
                ax.plot(*zip(*points), marker="o", label=lib)
        ax.set(title=task, xlabel="threads", ylabel="train s", xscale="log", yscale="log")
        ax.set_xticks(payload["threads"], [str(t) for t in payload["threads"]])
        ax.legend()
    fig.suptitle(_caption(payload["machine"], payload["setting"]))
    return _save(fig, path)


def _save(fig, path):
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    _pyplot().close(fig)
    return path
