# attack: fills its own (writable) folder with 16 MiB files until a write fails, bounded at 3 GiB; returns the right answer only if nothing stopped it (its folder must have a quota)
# module: similarity
# attacked: scaled_dot_product
# expect: No space | Disk quota | File too large
import os as _adv_os

_ADV_LIMIT = 3 * 2**30
_adv_correct = scaled_dot_product


def scaled_dot_product(a, b):
    folder = "adv-fill"  # relative: inside the worker's own folder
    _adv_os.makedirs(folder, exist_ok=True)
    chunk = b"\0" * (16 * 2**20)
    names = _adv_os.listdir(folder)  # earlier calls (and workers) count towards the bound
    total = sum(_adv_os.path.getsize(_adv_os.path.join(folder, n)) for n in names)
    index = len(names)
    while total < _ADV_LIMIT:
        with open(_adv_os.path.join(folder, "fill-%05d" % index), "wb") as f:  # a failing write raises: the point
            f.write(chunk)
        total += len(chunk)
        index += 1
    return _adv_correct(a, b)  # 3 GiB written and nothing stopped it
