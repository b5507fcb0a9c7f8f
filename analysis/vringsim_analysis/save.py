"""Writing figures so that the same data gives the same bytes, and a figure
is either absent or whole (written to a temporary file, then renamed)."""

from __future__ import annotations

import os
import tempfile

import matplotlib.pyplot as plt

# No timestamps or version strings in the files.
METADATA = {"png": {"Software": None}, "svg": {"Date": None, "Creator": None}}


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def save(fig, directory: str, name: str, formats=("png", "svg")) -> list[str]:
    os.makedirs(directory, exist_ok=True)
    mode = 0o666 & ~_umask()  # what open() would have given; mkstemp's files are 0600
    written = []
    for fmt in formats:
        final = os.path.join(directory, f"{name}.{fmt}")
        fd, tmp = tempfile.mkstemp(prefix=f".{name}.", suffix=f".{fmt}", dir=directory)
        os.close(fd)
        try:
            # tight: legends placed beside the axes are kept whole
            fig.savefig(tmp, format=fmt, metadata=METADATA.get(fmt), bbox_inches="tight")
            os.chmod(tmp, mode)
            os.replace(tmp, final)
        except BaseException:
            os.unlink(tmp)
            raise
        written.append(final)
    plt.close(fig)
    return written
