"""benchmarks/diagnose_model.py runs end to end on the tiny model (it samples through the pipeline's API)."""
import importlib.util
from pathlib import Path

from PIL import Image

SCRIPT = Path(__file__).resolve().parents[2] / "benchmarks" / "diagnose_model.py"


def test_diagnose_model_writes_one_row_per_look_for_each_clip(tiny_model, tmp_path):
    spec = importlib.util.spec_from_file_location("diagnose_model", SCRIPT)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    out = tmp_path / "sheet.png"
    assert mod.main([str(tiny_model), "--clips", "1", "--frames", "5", "--steps", "2", "-o", str(out)]) == 0
    h = Image.open(out).size[1]
    assert h > len(mod.ROWS) * 32, "a row per look (decode, denoise, samples, clean estimate)"
    assert mod.main([str(tmp_path / "missing"), "-o", str(tmp_path / "x.png")]) == 2
    assert not (tmp_path / "x.png").exists()
