"""Read a submission (a folder of modules, one `.py`, or a notebook) and stage it for a worker.

Whatever the folder is called, its modules become the package `exercises` (the assignment's
package name) inside the worker's temporary folder, which holds nothing else: a student file
named `numpy.py` is `exercises.numpy` there, never `numpy`.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from .errors import GraderError

MAX_SOURCE_BYTES = 2 * 2**20     # per file
MAGIC_CELLS_KEPT = ("%%time", "%%timeit", "%%capture")


@dataclass
class Submission:
    path: Path
    kind: str                      # "package" | "file" | "notebook"
    files: dict = field(default_factory=dict)    # package: {file name: source bytes}
    cells: list = field(default_factory=list)    # file/notebook: [{"label", "source"}]
    notes: list = field(default_factory=list)    # what was dropped or odd, shown in the report

    @property
    def mode(self) -> str:
        return "package" if self.kind == "package" else "cells"

    def sources(self) -> dict:
        """{label: source text} for the static rules check."""
        if self.kind == "package":
            return {name[:-3]: data.decode("utf-8", "replace") for name, data in self.files.items()}
        return {c["label"]: c["source"] for c in self.cells}

    def stage(self, package: str):
        """A function that writes the submission into a worker folder and returns the
        request's submission part."""
        def write(folder: Path) -> dict:
            if self.kind == "package":
                target = folder / package
                target.mkdir()
                for name, data in self.files.items():
                    (target / name).write_bytes(data)
                if "__init__.py" not in self.files:
                    (target / "__init__.py").write_text("")
                return {"mode": "package", "cells": []}
            return {"mode": "cells", "cells": self.cells}
        return write


def load_submission(path: Path, package: str) -> Submission:
    path = Path(path)
    if not path.exists():
        raise GraderError(f"{path}: no such file or folder. Give a folder of modules, a .py file or a .ipynb notebook.")
    if path.is_dir():
        inner = path / package
        folder = inner if (inner / "__init__.py").is_file() or inner.is_dir() and any(inner.glob("*.py")) else path
        files = {}
        for file in sorted(folder.glob("*.py")):
            if file.is_symlink() or not file.is_file():
                continue
            data = file.read_bytes()[:MAX_SOURCE_BYTES + 1]
            if len(data) > MAX_SOURCE_BYTES:
                raise GraderError(f"{file}: larger than {MAX_SOURCE_BYTES // 2**20} MiB; is this really source code?")
            files[file.name] = data
        if not [n for n in files if n != "__init__.py"]:
            raise GraderError(f"{folder}: no Python module found. Put your modules (softmax.py, attention.py, …) "
                              f"in this folder, or give the path of a .py file or a notebook.")
        return Submission(folder, "package", files=files)
    if path.suffix == ".py":
        data = path.read_bytes()
        try:
            source = data.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            raise GraderError(f"{path}: not UTF-8 text (byte {exc.start}); save the file as UTF-8.") from None
        return Submission(path, "file", cells=[{"label": path.name, "source": source}])
    if path.suffix == ".ipynb":
        return load_notebook(path)
    raise GraderError(f"{path}: not a folder, a .py file or a .ipynb notebook.")


def load_notebook(path: Path) -> Submission:
    import nbformat  # only notebooks need it
    try:
        notebook = nbformat.read(str(path), as_version=4)
    except nbformat.reader.NotJSONError:
        raise GraderError(f"{path}: this notebook is not valid JSON (was it saved completely?). "
                          "Open it in Jupyter and save it again.") from None
    except UnicodeDecodeError:
        raise GraderError(f"{path}: this notebook is not UTF-8 text.") from None
    except Exception as exc:  # nbformat's validation and version errors
        raise GraderError(f"{path}: not a notebook Jupyter can read ({type(exc).__name__}: {exc}).") from None
    submission = Submission(path, "notebook")
    for index, cell in enumerate(notebook.cells, start=1):
        if cell.get("cell_type") != "code":
            continue
        source = cell.get("source") or ""
        if not isinstance(source, str):
            continue
        if source.lstrip().startswith("%%") and not source.lstrip().startswith(MAGIC_CELLS_KEPT):
            submission.notes.append(f"cell {index}: a {source.split()[0]} cell is not Python; skipped")
            continue
        kept = []
        for line in source.splitlines():
            if line.lstrip().startswith(("%", "!")):
                kept.append("")  # keep line numbers right
            else:
                kept.append(line)
        text = "\n".join(kept)
        if text.strip():
            submission.cells.append({"label": f"cell {index}", "source": text})
    if not submission.cells:
        raise GraderError(f"{path}: this notebook has no code cell. Write your functions in code cells.")
    return submission


