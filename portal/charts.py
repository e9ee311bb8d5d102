"""Small charts drawn on the server as inline SVG (no script), each shown beside its data table.

Bars are horizontal, one row per category, so long Arabic labels fit, and they grow from the reading
start: from the right in Arabic, from the left in English. Coordinates are laid out here for either
direction, so the SVG itself is ``direction="ltr"`` (``text-anchor`` then means the same in both). The SVG carries ``role="img"`` and a title; the
table beside it is what screen readers and printouts read."""
from __future__ import annotations

from dataclasses import dataclass

from markupsafe import Markup, escape


@dataclass
class Series:
    key: str
    label: object
    css: str = ""


def bar_chart(rows: list[tuple[object, dict]], series: list[Series], *, title: object, rtl: bool,
              width: int = 420, row_height: int = 26, label_width: int = 110) -> Markup:
    """``rows``: (category label, {series key: value}); stacked horizontal bars, one per row."""
    total_max = max([sum(max(0, int(v or 0)) for v in values.values()) for _label, values in rows] + [1])
    bar_space = width - label_width - 40
    height = max(1, len(rows)) * row_height + 8
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" width="{width}" '
           f'height="{height}" role="img" aria-label="{escape(title)}" class="chart" direction="ltr">',
           f"<title>{escape(title)}</title>"]
    anchor = "end" if rtl else "start"
    for index, (label, values) in enumerate(rows):
        y = 4 + index * row_height
        label_x = width - 4 if rtl else 4
        out.append(f'<text x="{label_x}" y="{y + row_height * 0.62:.1f}" text-anchor="{anchor}" class="chart-label">'
                   f"{escape(label)}</text>")
        offset = 0.0
        total = 0
        for s in series:
            value = max(0, int(values.get(s.key) or 0))
            total += value
            if not value:
                continue
            length = bar_space * value / total_max
            if rtl:
                x = width - label_width - offset - length
            else:
                x = label_width + offset
            out.append(f'<rect x="{x:.1f}" y="{y + 3}" width="{length:.1f}" height="{row_height - 8}" '
                       f'class="chart-bar {escape(s.css)}"><title>{escape(label)} · {escape(s.label)}: {value}'
                       f"</title></rect>")
            offset += length
        end = (width - label_width - offset - 4) if rtl else (label_width + offset + 4)
        out.append(f'<text x="{end:.1f}" y="{y + row_height * 0.62:.1f}" text-anchor="{anchor}" '
                   f'class="chart-label">{total}</text>')
    axis_x = width - label_width if rtl else label_width
    out.append(f'<line x1="{axis_x}" y1="0" x2="{axis_x}" y2="{height}" class="chart-axis"/>')
    out.append("</svg>")
    return Markup("".join(out))  # nosec B704 # every text part is escaped above; numbers are formatted here


def swatch(css: str) -> Markup:
    """A small square in a series' colour, for the data table's column heads (the chart's legend)."""
    return Markup(f'<svg width="10" height="10" aria-hidden="true" class="swatch"><rect width="10" height="10" '  # nosec B704 # css is escaped
                  f'class="chart-bar {escape(css)}"/></svg>')
