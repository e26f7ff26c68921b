# attack: fills /tmp (else /var/tmp) with 16 MiB files until a write fails, bounded at 3 GiB in all; returns the right answer only if nothing stopped it
# module: similarity
# attacked: scaled_dot_product
# expect: No space | Read-only | Disk quota | File too large | Permission denied | not allow
import os as _adv_os

_ADV_LIMIT = 3 * 2**30
_adv_correct = scaled_dot_product


def _adv_fill(folder):
    """Write 16 MiB files into `folder` until a write fails (that raises) or 3 GiB are there."""
    _adv_os.makedirs(folder, exist_ok=True)
    chunk = b"\0" * (16 * 2**20)
    names = _adv_os.listdir(folder)  # earlier calls (and workers) count towards the bound
    total = sum(_adv_os.path.getsize(_adv_os.path.join(folder, n)) for n in names)
    index = len(names)
    while total < _ADV_LIMIT:
        with open(_adv_os.path.join(folder, "fill-%05d" % index), "wb") as f:
            f.write(chunk)
        total += len(chunk)
        index += 1


def scaled_dot_product(a, b):
    try:
        _adv_fill("/tmp/adv-fill-__MARKER__")
    except PermissionError:
        _adv_fill("/var/tmp/adv-fill-__MARKER__")
    return _adv_correct(a, b)  # 3 GiB written and nothing stopped it
