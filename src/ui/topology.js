// The topology: every change the resourceChanged subscription delivered, in log order, so the
// graph can be drawn as it is now or as it was at any earlier cursor (time travel), and two points
// compared. The layout is Horizon's: networks as vertical bars, devices as boxes wired to them.

import { s, statusClass } from './dom.js';

export const TOPOLOGY_KINDS = [
  'network',
  'subnet',
  'port',
  'router',
  'floatingip',
  'loadbalancer',
  'listener',
  'pool',
  'member',
  'healthmonitor',
];

export class TopologyLog {
  constructor() {
    /** Distinct cursors in log order; a change's `at` indexes this. */
    this.cursors = [];
    this.changes = [];
    this.live = new Map();
  }

  /** One ResourceChange message (already de-duplicated by the subscription). */
  apply(m) {
    if (this.cursors[this.cursors.length - 1] !== m.cursor) this.cursors.push(m.cursor);
    const entry = { at: this.cursors.length - 1, id: m.uuid, kind: m.kind, revision: m.revision, state: m.deleted ? null : m.state };
    this.changes.push(entry);
    if (m.deleted) this.live.delete(m.uuid);
    else this.live.set(m.uuid, entry);
  }

  /** Every resource as it was right after the event at cursor index `at`. */
  asOf(at) {
    if (at >= this.cursors.length - 1) return this.live;
    const out = new Map();
    for (const c of this.changes) {
      if (c.at > at) break;
      if (c.state === null) out.delete(c.id);
      else out.set(c.id, c);
    }
    return out;
  }
}

const COL = 215;
const TOP = 70;
const ROW = 54;
const BOX_W = 160;
const BOX_H = 40;
const BAR_W = 14;
const ORDER = { router: 0, loadbalancer: 1, member: 2, port: 3, floatingip: 4 };

/** The status a node is coloured by. */
export function statusOf(r) {
  const d = r.state;
  // Networks and routers carry no dataplane status: their administrative state stands in for it.
  if (r.kind === 'network' || r.kind === 'subnet' || r.kind === 'router') return d.adminStateUp === false ? 'DOWN' : (d.status ?? 'ACTIVE');
  if (r.kind === 'member') return d.operatingStatus ?? d.provisioningStatus;
  if (r.kind === 'loadbalancer') return d.provisioningStatus === 'ACTIVE' ? d.operatingStatus : d.provisioningStatus;
  return d.status ?? d.provisioningStatus ?? null;
}

const label = (r) =>
  r.state.name || (r.kind === 'floatingip' ? r.state.floatingIpAddress : r.kind === 'member' ? r.state.address : r.id.slice(0, 8));

/** Which resources are drawn, on which networks, linked to what. */
function graphOf(resources, project) {
  const visible = [...resources.values()].filter((r) => !project || r.state.project === project);
  const networks = visible
    .filter((r) => r.kind === 'network')
    .sort((a, b) => String(a.state.createdAt).localeCompare(String(b.state.createdAt)) || a.id.localeCompare(b.id));
  const subnetNet = new Map(visible.filter((r) => r.kind === 'subnet').map((r) => [r.id, r.state.networkId]));
  const subnetsOf = new Map();
  for (const r of visible)
    if (r.kind === 'subnet') subnetsOf.set(r.state.networkId, [...(subnetsOf.get(r.state.networkId) ?? []), r.state.cidr]);
  const owners = new Set(
    visible.filter((r) => r.kind === 'router' || r.kind === 'loadbalancer' || r.kind === 'floatingip').map((r) => r.id),
  );
  const nodes = [];
  for (const r of visible) {
    const d = r.state;
    let nets = [];
    let links = [];
    if (r.kind === 'router') nets = [...(d.gateway ? [d.gateway.networkId] : []), ...(d.interfaces ?? []).map((i) => i.networkId)];
    else if (r.kind === 'loadbalancer') nets = d.vip ? [d.vip.networkId] : [];
    else if (r.kind === 'member') {
      nets = d.subnetId && subnetNet.has(d.subnetId) ? [subnetNet.get(d.subnetId)] : [];
      links = [d.loadBalancerId];
    } else if (r.kind === 'floatingip') {
      nets = [d.floatingNetworkId];
      if (d.association) links = [d.association.portId, d.association.routerId];
    } else if (r.kind === 'port') {
      // Ports a router, load balancer or floating IP owns are drawn as their owner.
      if (String(d.deviceOwner ?? '').startsWith('network:') || d.deviceOwner === 'Octavia' || owners.has(d.deviceId)) continue;
      nets = [d.networkId];
    } else continue;
    nodes.push({ r, nets: [...new Set(nets)], links });
  }
  return { networks, subnetsOf, nodes };
}

/** The three layers drawn into, bottom to top: network bars, wires, boxes. Made on first draw. */
function layers(svg) {
  if (!svg.__layers) {
    svg.__layers = ['bars', 'wires', 'boxes'].map((name) => s('g', { class: `layer-${name}` }));
    svg.replaceChildren(...svg.__layers);
  }
  return svg.__layers;
}

/**
 * Brings a layer to `wanted` (key to { sig, make }), keeping every element whose signature is
 * unchanged: a redraw after one change rebuilds only the elements that change shows in, so a
 * live graph of thousands of resources stays cheap to keep current. Order within a layer does not
 * matter: its elements never overlap.
 */
function reconcile(layer, wanted) {
  const drawn = (layer.__drawn ??= new Map());
  for (const [key, el] of drawn) {
    if (wanted.get(key)?.sig === el.__sig) continue;
    el.remove();
    drawn.delete(key);
  }
  const added = [];
  for (const [key, w] of wanted) {
    if (drawn.has(key)) continue;
    const el = w.make();
    el.__sig = w.sig;
    drawn.set(key, el);
    added.push(el);
  }
  if (added.length > 0) layer.append(...added);
}

/**
 * Draws the graph into `svg`. `diff` (optional) maps ids to 'added' | 'removed' | 'changed'.
 * Answers how many nodes it drew.
 */
export function renderTopology(svg, resources, { project, selected, diff, onSelect }) {
  const { networks, subnetsOf, nodes } = graphOf(resources, project);
  const column = new Map(networks.map((n, i) => [n.id, i]));
  const loose = networks.length;
  const rows = new Map();
  const placed = new Map();
  for (const n of nodes) n.key = `${ORDER[n.r.kind]}|${label(n.r)}|${n.r.id}`;
  nodes.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  for (const n of nodes) {
    const home = n.nets.map((id) => column.get(id)).filter((c) => c !== undefined);
    const c = home.length ? Math.min(...home) : loose;
    const row = rows.get(c) ?? 0;
    rows.set(c, row + 1);
    placed.set(n.r.id, { n, x: 40 + c * COL + BAR_W + 22, y: TOP + 20 + row * ROW, c });
  }
  const height = Math.max(300, TOP + 40 + Math.max(1, ...rows.values()) * ROW);
  const width = Math.max(600, 40 + (loose + (rows.has(loose) ? 1 : 0)) * COL);
  const barX = (c) => 40 + c * COL;
  const mark = (id) => (diff?.get(id) ? ` diff-${diff.get(id)}` : '') + (id === selected ? ' selected' : '');
  const pick = (id) => (e) => {
    e.stopPropagation();
    onSelect(id);
  };

  const wires = new Map();
  const boxes = new Map();
  for (const { n, x, y, c } of placed.values()) {
    const cy = y + BOX_H / 2;
    const wire = (cls, x1, y1, x2, y2) => {
      const sig = `${cls} ${x1} ${y1} ${x2} ${y2}`;
      let key = sig;
      for (let i = 2; wires.has(key); i++) key = `${sig}#${i}`;
      wires.set(key, { sig, make: () => s('line', { class: cls, x1, y1, x2, y2 }) });
    };
    for (const net of n.nets) {
      const nc = column.get(net);
      if (nc === undefined) continue;
      const x1 = nc <= c ? barX(nc) + BAR_W : x + BOX_W;
      const x2 = nc <= c ? x : barX(nc);
      wire('wire', x1, cy, x2, cy);
    }
    for (const to of n.links) {
      const p = placed.get(to);
      if (p) wire('link', x + BOX_W / 2, cy, p.x + BOX_W / 2, p.y + BOX_H / 2);
    }
    const status = statusOf(n.r);
    const attrs = {
      class: `node kind-${n.r.kind} ${statusClass(status)}${mark(n.r.id)}`,
      'data-id': n.r.id,
      'data-kind': n.r.kind,
      'data-status': status ?? '',
      transform: `translate(${x},${y})`,
    };
    const title = `${n.r.kind} ${label(n.r)} (${status ?? 'no status'})`;
    const name = label(n.r).slice(0, 21);
    const sub = `${n.r.kind} · ${status ?? '—'}`;
    boxes.set(n.r.id, {
      sig: JSON.stringify([attrs, title, name, sub]),
      make: () =>
        s(
          'g',
          { ...attrs, onclick: pick(n.r.id) },
          s('title', {}, title),
          s('rect', { width: BOX_W, height: BOX_H, rx: 6 }),
          s('text', { x: 10, y: 17, class: 'name' }, name),
          s('text', { x: 10, y: 32, class: 'sub' }, sub),
        ),
    });
  }
  const bars = new Map();
  networks.forEach((net, c) => {
    const status = statusOf(net);
    const attrs = {
      class: `network ${statusClass(status)}${mark(net.id)}`,
      'data-id': net.id,
      'data-kind': 'network',
      'data-status': status ?? '',
    };
    const name = label(net).slice(0, 26);
    const cidrs = (subnetsOf.get(net.id) ?? []).join(', ').slice(0, 32) || 'no subnet';
    const external = Boolean(net.state.external || net.state.routerExternal);
    bars.set(net.id, {
      sig: JSON.stringify([attrs, c, height, name, cidrs, external]),
      make: () =>
        s(
          'g',
          { ...attrs, onclick: pick(net.id) },
          s('title', {}, `network ${label(net)}`),
          s('rect', { class: 'bar', x: barX(c), y: TOP, width: BAR_W, height: height - TOP - 10, rx: 4 }),
          s('text', { x: barX(c), y: 24, class: 'name' }, name),
          s('text', { x: barX(c), y: 40, class: 'sub' }, cidrs),
          external ? s('text', { x: barX(c), y: 56, class: 'sub' }, 'external') : null,
        ),
    });
  });
  const [barLayer, wireLayer, boxLayer] = layers(svg);
  reconcile(barLayer, bars);
  reconcile(wireLayer, wires);
  reconcile(boxLayer, boxes);
  svg.setAttribute('width', width);
  svg.setAttribute('height', height);
  svg.setAttribute('viewBox', `0 0 ${width} ${height}`);
  return networks.length + nodes.length;
}

/** What differs between two points: ids added, removed or changed from `before` to `after`. */
export function diffOf(before, after) {
  const diff = new Map();
  for (const [id, r] of after) {
    const b = before.get(id);
    if (!b) diff.set(id, 'added');
    else if (b.revision !== r.revision || b !== r)
      diff.set(id, b.revision === r.revision && JSON.stringify(b.state) === JSON.stringify(r.state) ? undefined : 'changed');
    if (diff.get(id) === undefined) diff.delete(id);
  }
  for (const id of before.keys()) if (!after.has(id)) diff.set(id, 'removed');
  return diff;
}
