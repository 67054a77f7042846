"""Rendered Markdown tables scroll sideways inside the page (sharehub.css), so they must be focusable
for a keyboard to scroll them (axe: scrollable-region-focusable)."""

from __future__ import annotations

from sharehub.catalog.markdown import render_markdown


def test_tables_are_focusable_so_a_keyboard_can_scroll_them():
    html = render_markdown("| 项目 | 下限 |\n|---|---|\n| 缴费基数 | 4,462 |\n\n段落")
    assert html.count('<table tabindex="0">') == 1
    assert html.count("tabindex") == 1, "only tables are made focusable"
