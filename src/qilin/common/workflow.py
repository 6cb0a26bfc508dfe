"""Workflows as explicit transition tables (STYLE.md habit 7): the vocabulary every workflow shares — state
names with their codes, the states allowed next, and how they read in a message.

>>> from qilin.common.messages import Catalog
>>> flow = Workflow(
...     ("new", "done"), frozenset({("new", "done")}), Catalog({
...         "x.state.new": {"zh": "新建", "en": "new"}, "x.state.done": {"zh": "完成", "en": "done"},
...         "x.no_next_state": {"zh": "无", "en": "none"}}), prefix="x")
>>> flow.allowed_next("new"), flow.label("done"), flow.states_text(flow.allowed_next("done"), "en")
(('done',), '完成（done）', 'none')
"""

from __future__ import annotations

from dataclasses import dataclass

from qilin.common.messages import Catalog


@dataclass(frozen=True)
class Workflow:
    states: tuple[str, ...]  # in workflow order
    transitions: frozenset[tuple[str, str]]
    catalog: Catalog
    prefix: str  # message keys: ``{prefix}.state.{code}`` and ``{prefix}.no_next_state``

    def label(self, code: str, lang: str = "zh") -> str:
        """A state's name with its code, which ``--to`` takes: 核实中（verifying）."""
        if code not in self.states:
            return code
        name = self.catalog.t(f"{self.prefix}.state.{code}", lang=lang)
        return f"{name}（{code}）" if lang == "zh" else f"{name} ({code})"

    def allowed_next(self, state: str) -> tuple[str, ...]:
        """The states one may move to from ``state``, in workflow order."""
        return tuple(to for to in self.states if (state, to) in self.transitions)

    def states_text(self, codes: tuple[str, ...], lang: str = "zh") -> str:
        """States for a message, or the catalog's 'none' for a final state."""
        if not codes:
            return self.catalog.t(f"{self.prefix}.no_next_state", lang=lang)
        return ("、" if lang == "zh" else ", ").join(self.label(c, lang) for c in codes)
