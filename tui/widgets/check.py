"""A checkbox whose state reads without colour: `[x]` ticked, `[ ]` not.

Textual's checkbox shows its state only by the colour of an `X`: in NO_COLOR, in 16 colours,
to a screen reader or in a plain capture every box reads the same. This one draws the state.
"""

from __future__ import annotations

from textual.content import Content
from textual.widgets import Checkbox


class Check(Checkbox):
    @property
    def _button(self) -> Content:
        return Content.assemble("[", ("x" if self.value else " ", "bold"), "]")
