"""Token grids as HTML tables: one row per name, one column per step, each token in a box.

What Padding the targets shows four times. As plotly figures they were 216 shapes and 216
annotations for four short names, which the browser took a couple of seconds to draw on the
page's first view; a table of coloured cells says the same and draws at once. Every text is
escaped: the names are the visitor's.
"""

from html import escape

BORDER = "#9ca3af"
MUTED = "#6b7280"


def token_grid(cells: list[list[str]], colors: list[list[str]], names: list[str], title: str,
               hover: list[list[str]] | None = None, small: bool = False,
               columns: list[str] | None = None, axis: str = "step t") -> str:
    """An HTML table of `cells` (rows of tokens) on `colors`, rows headed by `names`,
    columns by `columns` (default t=0, t=1, ...), each cell's `hover` as its tooltip."""
    n_cols = max((len(r) for r in cells), default=0)
    columns = columns or [f"t={t}" for t in range(n_cols)]
    box = ("border:1px solid {b};background:{c};padding:4px 4px;min-width:1.9em;"
           "text-align:center;font-family:monospace;font-size:{s}px;border-radius:3px")
    rows = []
    for i, (name, row) in enumerate(zip(names, cells)):
        tds = [f'<th style="text-align:right;padding-right:10px;font-weight:400;'
               f'color:{MUTED};white-space:nowrap">{escape(name)}</th>']
        for t, token in enumerate(row):
            tip = hover[i][t] if hover else token
            size = 11 if len(token) > 1 else 13 if small else 14  # <pad> & co. narrower
            tds.append(f'<td title="{escape(tip, quote=True)}" '
                       f'style="{box.format(b=BORDER, c=escape(colors[i][t]), s=size)}">'
                       f"{escape(token)}</td>")
        rows.append("<tr>" + "".join(tds) + "</tr>")
    foot = "".join(f'<td style="text-align:center;color:{MUTED};font-size:11px">'
                   f"{escape(c)}</td>" for c in columns)
    rows.append(f"<tr><th></th>{foot}</tr>")
    return (f'<div style="overflow-x:auto;margin:0.5rem 0 1rem 0">'
            f'<div style="font-weight:600;margin-bottom:6px">{escape(title)}</div>'
            f'<table style="border-collapse:separate;border-spacing:6px 6px;border:none">'
            f'{"".join(rows)}</table>'
            f'<div style="text-align:center;color:{MUTED};font-size:12px">{escape(axis)}</div>'
            f"</div>")
