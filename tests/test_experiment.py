"""The experiment report: real work on real MNIST (small), and the summary arithmetic."""

import numpy as np

from fastaug import cli
from fastaug.reports.experiment import Run, summarize


def test_first_below_and_summary():
    runs = [
        Run(
            8,
            [],
            {"A": np.array([2.0, 0.5, 0.05, 0.005]), "B": np.array([2.0, 1.5, 0.5, 0.2])},
            {"A": 0.5, "B": 0.6},
        ),
        Run(
            9,
            [],
            {"A": np.array([2.0, 0.9, 0.09, 0.02]), "B": np.array([3.0, 0.8, 0.05, 0.001])},
            {"A": 0.4, "B": 0.6},
        ),
    ]
    assert runs[0].first_below("A", 1.0) == 1 and runs[0].first_below("B", 0.1) is None
    s = summarize(runs)
    assert s["models"]["A"][0.01] == ("3.0 ± 0.0", 1)
    assert s["models"]["B"][0.1] == ("2.0 ± 0.0", 1)
    np.testing.assert_allclose(s["models"]["B"]["accuracy"], (0.6, 0.0))
    diff, se = s["comparisons"][("A", "B")]["accuracy"]
    np.testing.assert_allclose((diff, se), (0.15, 0.05))  # differences 0.1 and 0.2
    # Loss < 1.0: both seeds reached it; B took 1 step more, then as many, as A.
    mean, sooner, n = s["comparisons"][("A", "B")]["steps"][1.0]
    assert (mean, sooner, n) == (0.5, 0, 2)
    assert list(s["comparisons"]) == [("A", "B")]  # models absent from the runs are skipped


def test_experiment_command_on_real_mnist(mnist_dir, tmp_path, capsys):
    out = tmp_path / "rep"
    assert (
        cli.main(
            [
                "experiment",
                "--seeds",
                "2",
                "--steps",
                "60",
                "--lr",
                "0.1",
                "--data",
                str(mnist_dir.folder),
                "--out-dir",
                str(out),
            ]
        )
        == 0
    )
    assert "test accuracy A" in capsys.readouterr().out
    text = (out / "experiment.md").read_text()
    assert "| 8 |" in text and "| 9 |" in text and "## Conclusion" in text
    assert "B, lr/3 vs A" in text and "B vs B, lr/3" in text
    for png in ("experiment_loss.png", "experiment_samples.png"):
        assert (out / png).read_bytes()[:4] == b"\x89PNG"
