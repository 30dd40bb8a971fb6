"""Pictures drawn at build time as inline SVG, with no script: the actor network,
one actor's neighbourhood, and timelines of dated cards.

Pure functions: plain data in, an SVG string out. Layouts are deterministic
(sorted inputs, fixed starting positions, a fixed number of steps, coordinates
rounded), so the same input always gives the same bytes. Colours come from the
page's stylesheet through classes, so the pictures follow dark mode.

Being pure, a drawing can be kept and reused whenever the very same inputs come
again: each `draw_*` function first picks what it will show (cheap), then asks the
memo for the picture of exactly that, which the serve preview's next build reuses.
"""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass, field
from html import escape
from itertools import combinations
from typing import Callable, Collection, Hashable, Iterable, NamedTuple

# ------------------------------------------------------------------ the data


class Node(NamedTuple):
    """Tuples, Node and Edge: the preview compares two builds' networks node by node (reuse.py),
    and the drawing memo hashes them; tuples do both in C, dataclasses in Python."""

    id: str
    label: str
    url: str
    group: str = ""  # e.g. the actor's kind; becomes a class on the node


class Edge(NamedTuple):
    a: str
    b: str  # a < b
    relations: tuple[str, ...] = ()  # "Kim Jong Un leads North Korea", as sentences
    together: int = 0  # how many cards and sentences name both

    @property
    def weight(self) -> int:
        return 3 * len(self.relations) + self.together

    def other(self, node: str) -> str:
        return self.b if node == self.a else self.a


@dataclass
class Network:
    nodes: dict[str, Node]
    edges: list[Edge] = field(default_factory=list)

    def edges_of(self, node: str) -> list[Edge]:
        if not hasattr(self, "_adjacent"):
            self._adjacent: dict[str, list[Edge]] = defaultdict(list)
            for edge in self.edges:
                self._adjacent[edge.a].append(edge)
                self._adjacent[edge.b].append(edge)
        return self._adjacent.get(node, [])

    def edge_between(self, a: str, b: str) -> Edge | None:
        if not hasattr(self, "_between"):
            self._between = {(edge.a, edge.b): edge for edge in self.edges}
        return self._between.get((a, b) if a < b else (b, a))

    def ties(self, node: str) -> list[Edge]:
        """Its edges, strongest first: stated relations, then weight, then the other end's label."""
        if not hasattr(self, "_ties"):
            self._ties: dict[str, list[Edge]] = {}
        if node not in self._ties:  # sorted once: an actor's page lists them, its neighbourhood draws the first
            self._ties[node] = sorted(self.edges_of(node), key=lambda e: (-len(e.relations), -e.weight,
                                                                          self.nodes[e.other(node)].label))
        return self._ties[node]

    def strength(self) -> dict[str, int]:
        total: dict[str, int] = defaultdict(int)
        for edge in self.edges:
            total[edge.a] += edge.weight
            total[edge.b] += edge.weight
        return total


def network(nodes: Iterable[Node], relations: Iterable[tuple[str, str, str]],
            groups: Iterable[Collection[str]]) -> Network:
    """Nodes joined by relations (subject, label, object) and by co-mentions (each group names its nodes together)."""
    table = {node.id: node for node in nodes}
    stated, together = _stated(table, relations), _together(table, groups)
    return Network(table, [_edge(pair, stated, together) for pair in sorted(set(stated) | set(together))])


class Networks:
    """network(), made again and again (serve builds after every save), from sources of groups
    (a card's actors, a body's sentences): only the groups of the sources that are new objects
    since the last one are made and counted again.

    At 5,000 explainers, counting the 29,000 groups and making the 18,000 edges took 85 ms
    of every build; after a card's edit, the network now takes a few.
    """

    SHARE = 8  # counted again while at most one source in SHARE is new; else counted whole

    def __init__(self) -> None:
        self._last: _Counted | None = None

    def network(self, nodes: list[Node], relations: list[tuple[str, str, str]], sources: dict[Hashable, object],
                groups_of: Callable[[Hashable, object], list[Collection[str]]]) -> Network:
        """network(nodes, relations, the groups of every source), each source's got by groups_of(key, source)."""
        table = {node.id: node for node in nodes}
        counted = self._counted_again(table, nodes, relations, sources, groups_of) if self._last is not None else None
        if counted is None:
            groups = {key: groups_of(key, source) for key, source in sources.items()}
            stated = _stated(table, relations)
            together = _together(table, (group for found in groups.values() for group in found))
            edges = {pair: _edge(pair, stated, together) for pair in sorted(set(stated) | set(together))}
            counted = _Counted(nodes, relations, sources, groups, stated, together, edges, list(edges))
        self._last = counted
        return Network(table, [counted.edges[pair] for pair in counted.order])

    def _counted_again(self, table: dict[str, Node], nodes: list[Node], relations: list[tuple[str, str, str]],
                       sources: dict[Hashable, object], groups_of) -> _Counted | None:
        """The last count, with the pairs of the new sources' old groups taken out and those of their
        groups put in; None if the nodes, the relations or the sources' keys changed, or many sources."""
        last = self._last
        if last.nodes != nodes or last.relations != relations or last.sources.keys() != sources.keys():
            return None
        new = [key for key, source in sources.items() if last.sources[key] is not source]
        if len(new) * self.SHARE > len(sources):
            return None
        groups, together, edges, order = dict(last.groups), dict(last.together), dict(last.edges), last.order
        touched = set()
        for key in new:
            for pair in (pair for group in last.groups[key] for pair in _pairs(table, group)):
                together[pair] -= 1
                touched.add(pair)
            groups[key] = groups_of(key, sources[key])
            for pair in (pair for group in groups[key] for pair in _pairs(table, group)):
                together[pair] = together.get(pair, 0) + 1
                touched.add(pair)
        for pair in touched:
            if not together[pair]:
                del together[pair]
            if pair in together or pair in last.stated:
                order = order if pair in edges else None
                edges[pair] = _edge(pair, last.stated, together)
            elif pair in edges:
                del edges[pair]
                order = None
        return _Counted(nodes, relations, sources, groups, last.stated, together, edges, order or sorted(edges))


class _Counted(NamedTuple):
    """What Networks made a network of, and the counts on the way."""

    nodes: list[Node]
    relations: list[tuple[str, str, str]]
    sources: dict[Hashable, object]
    groups: dict[Hashable, list[Collection[str]]]  # by source
    stated: dict[tuple[str, str], list[str]]  # pair -> sentences stating its relations
    together: dict[tuple[str, str], int]  # pair -> how many groups name both
    edges: dict[tuple[str, str], Edge]  # by pair
    order: list[tuple[str, str]]  # the pairs, sorted


def _stated(table: dict[str, Node], relations: Iterable[tuple[str, str, str]]) -> dict[tuple[str, str], list[str]]:
    """Each pair of nodes' relations (subject, label, object) as sentences."""
    stated: dict[tuple[str, str], list[str]] = defaultdict(list)
    for subject, label, obj in relations:
        if subject != obj and subject in table and obj in table:
            sentence = f"{table[subject].label} {label} {table[obj].label}"
            key = tuple(sorted((subject, obj)))
            if sentence not in stated[key]:
                stated[key].append(sentence)
    return dict(stated)


def _together(table: dict[str, Node], groups: Iterable[Collection[str]]) -> dict[tuple[str, str], int]:
    """How many groups name each pair of nodes together."""
    together: dict[tuple[str, str], int] = defaultdict(int)
    for group in groups:
        for pair in _pairs(table, group):
            together[pair] += 1
    return together


def _pairs(table: dict[str, Node], group: Collection[str]) -> Iterable[tuple[str, str]]:
    """The pairs of nodes a group names together, each (a, b) with a < b."""
    if len(group) < 2:  # most groups are a sentence naming one actor
        return ()
    return combinations(sorted({n for n in group if n in table}), 2)


def _edge(pair: tuple[str, str], stated: dict[tuple[str, str], list[str]],
          together: dict[tuple[str, str], int]) -> Edge:
    return Edge(*pair, tuple(stated.get(pair, ())), together.get(pair, 0))


# ------------------------------------------------------------- the drawings


def draw_network(net: Network, title: str, desc: str, limit: int = 40, id_prefix: str = "net") -> str:
    """The whole network (its `limit` best-connected nodes), laid out by a deterministic force simulation."""
    strength = net.strength()
    chosen = sorted((n for n in net.nodes if strength.get(n)), key=lambda n: (-strength[n], net.nodes[n].label, n))[:limit]
    if not chosen:
        return ""
    keep = set(chosen)
    edges = tuple(e for e in net.edges if e.a in keep and e.b in keep)
    return _drawings.get(_draw_network, tuple(net.nodes[n] for n in chosen), tuple(strength[n] for n in chosen),
                         edges, title, desc, id_prefix)


def _draw_network(nodes: tuple[Node, ...], strengths: tuple[int, ...], edges: tuple[Edge, ...],
                  title: str, desc: str, id_prefix: str) -> str:
    """The network's picture, from exactly what it shows (the memo's key)."""
    width, height = 760, 520
    chosen = [node.id for node in nodes]
    positions = _force_layout(chosen, edges, width - 240, height - 90)
    positions = {n: (x + 120, y + 45) for n, (x, y) in positions.items()}
    radius = {n: 5 + min(9, math.sqrt(s)) for n, s in zip(chosen, strengths)}
    return _svg(width, height, title, desc, id_prefix, "graph-network",
                _edges_svg(edges, positions) + _nodes_svg(nodes, positions, radius, (width / 2, height / 2)))


def draw_neighbourhood(net: Network, center: str, title: str, desc: str, limit: int = 12,
                       id_prefix: str = "hood") -> str:
    """One node in the middle, its strongest ties around it; '' when it has none."""
    ties = tuple(net.ties(center)[:limit])
    if not ties:
        return ""
    around = tuple(net.nodes[e.other(center)] for e in ties)
    # the stated relations among its neighbours (co-mentions there would only clutter);
    # looked up pair by pair, not by a scan of every edge of the network for every actor
    among = tuple(e for a, b in combinations(around, 2) if (e := net.edge_between(a.id, b.id)) and e.relations)
    return _drawings.get(_draw_neighbourhood, net.nodes[center], around, ties, among, title, desc, id_prefix)


def _draw_neighbourhood(center: Node, around: tuple[Node, ...], ties: tuple[Edge, ...], among: tuple[Edge, ...],
                        title: str, desc: str, id_prefix: str) -> str:
    """The neighbourhood's picture, from exactly what it shows (the memo's key)."""
    width, height = 600, 440
    cx, cy = width / 2, height / 2
    rx, ry = 140, 150
    positions = {center.id: (cx, cy)}
    for i, node in enumerate(around):
        angle = -math.pi / 2 + 2 * math.pi * i / len(around)
        positions[node.id] = (cx + rx * math.cos(angle), cy + ry * math.sin(angle))
    radius = {node.id: 7.0 for node in around}
    radius[center.id] = 14.0
    return _svg(width, height, title, desc, id_prefix, "graph-network graph-neighbourhood",
                _edges_svg(ties + among, positions, emphasis=center.id)
                + _nodes_svg(around, positions, radius, (cx, cy))
                + _center_svg(center, positions[center.id], radius[center.id]))


@dataclass(frozen=True)
class Moment:
    """One dated item on a timeline."""

    day: int  # an ordinal day, for spacing (the first day of a partial date's period)
    year: int
    label: str  # e.g. "18 June 2024"
    title: str
    href: str


def draw_timeline(moments: list[Moment], title: str, desc: str, id_prefix: str = "tl") -> str:
    """A drawn line of dated items, numbered in order; a long gap is shortened and marked with a break."""
    if not moments:
        return ""
    return _drawings.get(_draw_timeline, tuple(moments), title, desc, id_prefix)


def _draw_timeline(moments: tuple[Moment, ...], title: str, desc: str, id_prefix: str) -> str:
    """The timeline's picture (its arguments are the memo's key)."""
    unit, margin, axis = 30.0, 28.0, 42.0
    xs, breaks, x = [], [], margin
    for i, moment in enumerate(moments):
        if i:
            days = max(0, moment.day - moments[i - 1].day)
            step = unit * (1 + min(3.0, math.log2(1 + days / 30)))
            if days > 400:
                breaks.append(x + step / 2)
            x += step
        xs.append(x)
    width = max(600.0, x + margin)
    if x > margin:  # stretch a short timeline to the full width
        stretch = (width - 2 * margin) / (x - margin)
        xs = [margin + (p - margin) * stretch for p in xs]
        breaks = [margin + (b - margin) * stretch for b in breaks]
    else:
        xs = [width / 2]
    height = 92
    parts = [f'<line class="tl-axis" x1="{_n(margin / 2)}" y1="{_n(axis)}" x2="{_n(width - margin / 2)}" y2="{_n(axis)}"/>']
    for b in breaks:
        parts.append(f'<path class="tl-break" d="M{_n(b - 7)} {_n(axis + 8)} l6 -16 M{_n(b - 1)} {_n(axis + 8)} l6 -16"/>')
    last_year = None
    for i, (moment, px) in enumerate(zip(moments, xs), start=1):
        if moment.year != last_year:
            parts.append(f'<line class="tl-tick" x1="{_n(px)}" y1="{_n(axis + 12)}" x2="{_n(px)}" y2="{_n(axis + 20)}"/>'
                         f'<text class="tl-year" x="{_n(px)}" y="{_n(axis + 36)}" text-anchor="middle">{moment.year}</text>')
            last_year = moment.year
        r = 11 if i < 100 else 13
        parts.append(f'<a href="{escape(moment.href)}"><title>{escape(moment.label)}: {escape(moment.title)}</title>'
                     f'<circle class="tl-dot" cx="{_n(px)}" cy="{_n(axis)}" r="{r}"/>'
                     f'<text class="tl-num" x="{_n(px)}" y="{_n(axis + 4.5)}" text-anchor="middle">{i}</text></a>')
    return _svg(width, height, title, desc, id_prefix, "graph-timeline", "".join(parts))


# ------------------------------------------------------------------ the memo


class _Memo:
    """Drawings by the drawing function and its arguments: everything the SVG is made from.

    Those functions are pure and take plain frozen data, so a picture kept under its exact
    inputs is right by construction. After each plan the memo keeps only the drawings its
    pages show (`keep_only`), whether drawn for them or held by pages the plan took over
    from the last build (reuse.py): a long preview session holds one site's pictures.
    """

    def __init__(self, limit: int = 200_000):
        self.drawings: dict[tuple, str] = {}
        self.limit = limit  # a backstop for callers that never say what to keep

    def get(self, draw: Callable[..., str], *args) -> str:
        key = (draw, args)
        svg = self.drawings.get(key)
        if svg is None:
            svg = draw(*args)
            if len(self.drawings) >= self.limit:
                self.drawings.clear()
            self.drawings[key] = svg
        return svg

    def keep_only(self, shown: Iterable[str | None]) -> None:
        held = {id(svg) for svg in shown}  # the very strings get() handed out
        kept = list(self.drawings.items())  # at once: serve's first looks may draw meanwhile, in another thread
        # only the others are dropped: a key is hashed again each time it is put in a dict (a tuple
        # of the drawing's inputs, not cached), and making a new dict of the 15,000 drawings kept
        # at 5,000 explainers took 23 ms of every build
        for key in [key for key, svg in kept if id(svg) not in held]:
            self.drawings.pop(key, None)


_drawings = _Memo()


def keep_only(shown: Iterable[str | None]) -> None:
    """A plan is made: of the drawings kept, only those its pages show are kept for the next."""
    _drawings.keep_only(shown)


# ------------------------------------------------------------------ helpers


def _svg(width: float, height: float, title: str, desc: str, prefix: str, cls: str, body: str) -> str:
    return (f'<svg class="{cls}" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {_n(width)} {_n(height)}" '
            f'width="{_n(width)}" height="{_n(height)}" role="group" '
            f'aria-labelledby="{prefix}-title" aria-describedby="{prefix}-desc">'
            f'<title id="{prefix}-title">{escape(title)}</title><desc id="{prefix}-desc">{escape(desc)}</desc>'
            f'{body}</svg>')


def _edges_svg(edges: Iterable[Edge], positions: dict[str, tuple[float, float]], emphasis: str = "") -> str:
    parts = ['<g class="net-edges" aria-hidden="true">']
    for edge in sorted(edges, key=lambda e: (e.weight, e.a, e.b)):
        (x1, y1), (x2, y2) = positions[edge.a], positions[edge.b]
        kind = "net-relation" if edge.relations else "net-together"
        if emphasis and emphasis not in (edge.a, edge.b):
            kind += " net-faint"
        width = 1 + min(4.0, math.log2(edge.weight)) if edge.weight > 1 else 1
        parts.append(f'<line class="{kind}" x1="{_n(x1)}" y1="{_n(y1)}" x2="{_n(x2)}" y2="{_n(y2)}" '
                     f'stroke-width="{_n(width)}"/>')
    parts.append("</g>")
    return "".join(parts)


def _nodes_svg(nodes: Iterable[Node], positions: dict[str, tuple[float, float]], radius: dict[str, float],
               center: tuple[float, float]) -> str:
    parts = ['<g class="net-nodes">']
    for node in sorted(nodes, key=lambda n: n.id):
        x, y = positions[node.id]
        r = radius[node.id]
        dx = x - center[0]
        anchor = "middle" if abs(dx) < 30 else ("start" if dx > 0 else "end")
        lines = _wrap(node.label)
        tx = x + (0 if anchor == "middle" else (r + 5 if anchor == "start" else -r - 5))
        if anchor == "middle":  # above or below the dot, away from the middle
            ty = y + r + 16 if y >= center[1] else y - r - 6 - 18 * (len(lines) - 1)
        else:
            ty = y + 5 - 9 * (len(lines) - 1)
        parts.append(f'<a href="{escape(node.url)}" class="net-node net-{escape(node.group)}">'
                     f'<circle cx="{_n(x)}" cy="{_n(y)}" r="{_n(r)}"/>'
                     f'{_text(lines, tx, ty, anchor)}</a>')
    parts.append("</g>")
    return "".join(parts)


def _center_svg(node: Node, position: tuple[float, float], r: float) -> str:
    x, y = position
    lines = _wrap(node.label)
    return (f'<g class="net-center net-{escape(node.group)}"><circle cx="{_n(x)}" cy="{_n(y)}" r="{_n(r)}"/>'
            f'{_text(lines, x, y + r + 18, "middle")}</g>')


def _text(lines: list[str], x: float, y: float, anchor: str) -> str:
    spans = "".join(f'<tspan x="{_n(x)}" dy="{0 if i == 0 else "1.15em"}">{escape(line)}</tspan>'
                    for i, line in enumerate(lines))
    return f'<text x="{_n(x)}" y="{_n(y)}" text-anchor="{anchor}">{spans}</text>'


def _wrap(label: str, width: int = 16) -> list[str]:
    """A label on one line, or two at a space near the middle when it is long."""
    if len(label) <= width or " " not in label:
        return [label]
    middle = len(label) / 2
    cut = min((i for i, ch in enumerate(label) if ch == " "), key=lambda i: (abs(i - middle), i))
    return [label[:cut], label[cut + 1:]]


def _force_layout(order: list[str], edges: Iterable[Edge], width: float, height: float,
                  steps: int = 160) -> dict[str, tuple[float, float]]:
    """Fruchterman-Reingold from fixed starting points on a circle; scaled into width x height."""
    n = len(order)
    if n == 1:
        return {order[0]: (width / 2, height / 2)}
    index = {node: i for i, node in enumerate(order)}
    xs = [math.cos(2 * math.pi * i / n) * (1 + 0.1 * (i % 3)) for i in range(n)]
    ys = [math.sin(2 * math.pi * i / n) * (1 + 0.1 * (i % 3)) for i in range(n)]
    links = [(index[e.a], index[e.b], min(2.5, 1 + math.log2(e.weight) / 2)) for e in edges]
    k = math.sqrt(4.0 / n)
    temperature = 0.25
    for _ in range(steps):
        dx, dy = [0.0] * n, [0.0] * n
        for i in range(n):
            for j in range(i + 1, n):
                ddx, ddy = xs[i] - xs[j], ys[i] - ys[j]
                dist2 = ddx * ddx + ddy * ddy or 1e-6
                force = k * k / dist2
                dx[i] += ddx * force
                dy[i] += ddy * force
                dx[j] -= ddx * force
                dy[j] -= ddy * force
        for i, j, weight in links:
            ddx, ddy = xs[i] - xs[j], ys[i] - ys[j]
            dist = math.sqrt(ddx * ddx + ddy * ddy) or 1e-6
            force = dist * weight / k
            dx[i] -= ddx / dist * force
            dy[i] -= ddy / dist * force
            dx[j] += ddx / dist * force
            dy[j] += ddy / dist * force
        for i in range(n):
            # a weak pull to the middle keeps loose nodes on the canvas
            dx[i] -= xs[i] * 0.3
            dy[i] -= ys[i] * 0.3
            length = math.sqrt(dx[i] * dx[i] + dy[i] * dy[i])
            if length > 0:
                step = min(length, temperature)
                xs[i] += dx[i] / length * step
                ys[i] += dy[i] / length * step
        temperature = max(0.005, temperature * 0.97)
    # Outliers would squeeze the rest into the middle: pull distances from the centre in a little.
    mx, my = sum(xs) / n, sum(ys) / n
    for i in range(n):
        dist = math.hypot(xs[i] - mx, ys[i] - my)
        if dist > 0:
            scale = dist ** 0.6 / dist
            xs[i], ys[i] = mx + (xs[i] - mx) * scale, my + (ys[i] - my) * scale
    low_x, high_x, low_y, high_y = min(xs), max(xs), min(ys), max(ys)
    span_x, span_y = (high_x - low_x) or 1.0, (high_y - low_y) or 1.0
    xs = [(x - low_x) / span_x * width for x in xs]
    ys = [(y - low_y) / span_y * height for y in ys]
    _spread(xs, ys, width, height)
    return {node: (xs[i], ys[i]) for node, i in index.items()}


def _spread(xs: list[float], ys: list[float], width: float, height: float, gap: float = 46.0) -> None:
    """Push apart nodes that sit closer than `gap` (labels are wide: horizontal distance counts half)."""
    n = len(xs)
    for _ in range(60):
        moved = False
        for i in range(n):
            for j in range(i + 1, n):
                dx, dy = (xs[i] - xs[j]) / 2.2, ys[i] - ys[j]
                dist = math.hypot(dx, dy)
                if dist < gap:
                    if dist == 0:
                        dx, dy, dist = 0.0, 1.0, 1.0
                    push = (gap - dist) / 2 / dist
                    xs[i] += dx * push * 2.2
                    ys[i] += dy * push
                    xs[j] -= dx * push * 2.2
                    ys[j] -= dy * push
                    moved = True
        for i in range(n):
            xs[i] = min(width, max(0.0, xs[i]))
            ys[i] = min(height, max(0.0, ys[i]))
        if not moved:
            break


def _n(value: float) -> str:
    """A coordinate, rounded so that the bytes do not depend on floating-point noise."""
    text = f"{value:.1f}"
    if text.endswith(".0"):
        text = text[:-2]
    return "0" if text == "-0" else text
