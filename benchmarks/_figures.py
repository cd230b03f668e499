"""Where benchmarks put their figures: benchmarks/figures/<name>.png (created on first use)."""
from pathlib import Path


def save_figure(fig, name):
    """Lay out and write ``fig`` as benchmarks/figures/<name>.png; prints and returns the path."""
    out = Path(__file__).parent / "figures" / f"{name}.png"
    out.parent.mkdir(exist_ok=True)
    fig.tight_layout()
    fig.savefig(out, dpi=100)
    print(f"figure: {out}")
    return out
