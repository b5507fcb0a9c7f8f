"""vringsim's analysis: load the CSV the simulator exports and draw figures.

Run with Debian's interpreter, /usr/bin/python3 (python3-matplotlib,
python3-pandas); `vringsim plot` does that for you.
"""

from .data import InputError, RunSet, SweepSet, load  # noqa: F401
from .figures import FIGURES  # noqa: F401
