"""Emulated platforms: a virtual environment whose Python looks like Windows' or macOS' to the
grader (and to the workers it starts: they run the same interpreter, `-I` keeps site-packages)."""
import site
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
KINDS = ("windows", "macos")


def emulated_python(kind: str, folder: Path) -> Path:
    """A virtual environment in `folder` that sees this interpreter's packages (the grader
    included) and imports emulate_<kind> first, in every process it starts."""
    assert kind in KINDS
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(folder)], check=True)
    python = folder / "bin" / "python"
    packages = subprocess.run([str(python), "-c", "import site; print(site.getsitepackages()[0])"],
                              check=True, capture_output=True, text=True).stdout.strip()
    outer = [p for p in [*site.getsitepackages(), site.getusersitepackages()] if Path(p).is_dir()]
    lines = [f"import site; site.addsitedir({p!r})" for p in outer]
    lines.append(f"import sys; sys.path.append({str(HERE)!r}); import emulate_{kind}")
    (Path(packages) / "zz_emulate_platform.pth").write_text("\n".join(lines) + "\n")
    return python
