"""Check boxes whose state reads without colour: `[x]` ticked, `[ ]` not.

Textual's checkbox and selection list show their state only by the colour of an `X`: in
NO_COLOR, in 16 colours, to a screen reader or in a plain capture every box reads the same.
These draw the state.
"""

from __future__ import annotations

from rich.segment import Segment
from textual.content import Content
from textual.strip import Strip
from textual.widgets import Checkbox, SelectionList
from textual.widgets._toggle_button import ToggleButton


class Check(Checkbox):
    @property
    def _button(self) -> Content:
        return Content.assemble("[", ("x" if self.value else " ", "bold"), "]")


class CheckList(SelectionList[str]):
    """A selection list whose rows start `[x]` or `[ ]`."""

    def render_line(self, y: int) -> Strip:
        line = super().render_line(y)
        segments = list(line)
        if len(segments) < 4 or segments[1].text != ToggleButton.BUTTON_INNER:
            return line  # a line past the options: no button on it
        index = self.scroll_offset.y + y
        ticked = self.get_option_at_index(index).value in self.selected
        plain = segments[3].style  # the prompt's own style, for the brackets
        return Strip(
            [
                Segment("[", plain),
                Segment("x" if ticked else " ", segments[1].style),
                Segment("]", plain),
                *segments[3:],
            ],
            line.cell_length,
        )
