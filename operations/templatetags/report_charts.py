"""Server-drawn SVG charts for the operation report: no script, so WeasyPrint draws them too.

Bars are SVG; their labels and numbers are HTML table cells beside them, so that
Arabic is shaped and ordered by the page's own text layout (WeasyPrint lays SVG text
out letter by letter) and a screen reader reads a plain table. In a right-to-left
language the bars grow from the right, like the table.
"""

import math

from django import template
from django.utils.translation import get_language_bidi

register = template.Library()


def _svg_number(value: float) -> str:
    """A coordinate for an SVG attribute: always a dot, whatever the language's decimal
    separator (the template would write 12,5 in French and Arabic)."""
    return f"{value:.1f}"


BAR_WIDTH = 240
BAR_HEIGHT = 14
DAYS_WIDTH = 960
DAYS_HEIGHT = 150
DAYS_PLOT_TOP = 16
DAYS_PLOT_BOTTOM = 128
DAYS_LABELS_SHOWN = 16


@register.inclusion_tag("operations/_report_bars.html")
def bar_chart(rows: list[dict], heading: str) -> dict:
    """Horizontal bars, one per row (``label``, ``total``, ``validated``), validated
    seizures darker over all the seizures not rejected."""
    rtl = get_language_bidi()
    largest = max((row["total"] for row in rows), default=0) or 1
    bars = []
    for row in rows:
        total = max(BAR_WIDTH * row["total"] / largest, 1)
        validated = BAR_WIDTH * row["validated"] / largest
        bars.append(
            {
                **row,
                "total_x": _svg_number(BAR_WIDTH - total if rtl else 0),
                "total_width": _svg_number(total),
                "validated_x": _svg_number(BAR_WIDTH - validated if rtl else 0),
                "validated_width": _svg_number(validated),
            }
        )
    return {
        "heading": heading,
        "bars": bars,
        "width": str(BAR_WIDTH),
        "height": str(BAR_HEIGHT),
    }


@register.inclusion_tag("operations/_report_days.html")
def day_chart(rows: list[dict], heading: str) -> dict:
    """Columns, one per day with seizures, in date order; dates and numbers are digits,
    which SVG text draws well in every language."""
    count = len(rows)
    largest = max((row["total"] for row in rows), default=0) or 1
    step = DAYS_WIDTH / max(count, 1)
    column = min(step * 0.7, 48)
    plot = DAYS_PLOT_BOTTOM - DAYS_PLOT_TOP
    label_every = math.ceil(count / DAYS_LABELS_SHOWN) if count else 1
    columns = []
    for index, row in enumerate(rows):
        total = max(plot * row["total"] / largest, 1)
        validated = plot * row["validated"] / largest
        centre = step * index + step / 2
        columns.append(
            {
                **row,
                "x": _svg_number(centre - column / 2),
                "centre": _svg_number(centre),
                "total_y": _svg_number(DAYS_PLOT_BOTTOM - total),
                "total_height": _svg_number(total),
                "validated_y": _svg_number(DAYS_PLOT_BOTTOM - validated),
                "validated_height": _svg_number(validated),
                "value_y": _svg_number(DAYS_PLOT_BOTTOM - total - 4),
                "labelled": index % label_every == 0,
            }
        )
    return {
        "heading": heading,
        "columns": columns,
        "column_width": _svg_number(column),
        "width": str(DAYS_WIDTH),
        "height": str(DAYS_HEIGHT),
        "axis_y": str(DAYS_PLOT_BOTTOM),
        "label_y": str(DAYS_PLOT_BOTTOM + 16),
        "values_shown": count <= 40,
    }


@register.filter
def plain_number(value) -> str:
    """A decimal without trailing zeros or an exponent: 12.500 → 12.5, 1E+1 → 10."""
    return format(value.normalize(), "f") if value is not None else ""
