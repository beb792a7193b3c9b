// The dataplane: each agent's applied cursor against the log head, and load balancer member health.

import { h } from './dom.js';
import { logPosition } from './graphql.js';
import { statusClass } from './dom.js';

/** Events between an agent's applied cursor and the head (positions, so an estimate across transactions). */
function lag(applied, head) {
  const a = logPosition(applied);
  const b = logPosition(head);
  if (!a || !b) return '—';
  const d = b.globalPosition - a.globalPosition;
  return d <= 0n ? 'in sync' : `${d} behind`;
}

/** What a host runs, as the topology knows it: the ports bound to it. */
function hosted(resources, host) {
  const ports = [...resources.values()].filter((r) => r.kind === 'port' && r.state.bindingHost === host);
  const names = ports
    .slice(0, 4)
    .map((p) => p.state.name || p.id.slice(0, 8))
    .join(', ');
  return ports.length === 0 ? 'nothing' : `${ports.length} port${ports.length > 1 ? 's' : ''}: ${names}${ports.length > 4 ? ', …' : ''}`;
}

export function renderAgents(el, agents, head, resources) {
  if (agents === null) return el.replaceChildren(h('p', { class: 'muted' }, 'Agents are visible to admins only.'));
  if (agents.length === 0) return el.replaceChildren(h('p', { class: 'muted' }, 'No agent has registered.'));
  el.replaceChildren(
    h(
      'table',
      {},
      h(
        'thead',
        {},
        h(
          'tr',
          {},
          ['host', 'alive', 'last heartbeat', 'hosts', 'applied', 'lag', 'error'].map((t) => h('th', {}, t)),
        ),
      ),
      h(
        'tbody',
        {},
        agents.map((a) =>
          h(
            'tr',
            { class: a.alive ? 'st-active' : 'st-down', 'data-host': a.host },
            h('td', {}, a.host),
            h('td', {}, a.alive ? 'yes' : 'no'),
            h('td', {}, new Date(a.lastHeartbeatAt).toLocaleString()),
            h('td', {}, hosted(resources, a.host)),
            h('td', {}, a.appliedAt ? new Date(a.appliedAt).toLocaleTimeString() : 'never'),
            h('td', {}, lag(a.appliedCursor, head)),
            h('td', {}, a.lastError ?? ''),
          ),
        ),
      ),
    ),
  );
}

export function renderMembers(el, resources, project) {
  const members = [...resources.values()].filter((r) => r.kind === 'member' && (!project || r.state.project === project));
  const lbName = (id) => resources.get(id)?.state.name || id.slice(0, 8);
  el.replaceChildren(
    members.length === 0
      ? h('p', { class: 'muted' }, 'No load balancer member.')
      : h(
          'table',
          {},
          h(
            'thead',
            {},
            h(
              'tr',
              {},
              ['load balancer', 'member', 'address', 'operating', 'provisioning'].map((t) => h('th', {}, t)),
            ),
          ),
          h(
            'tbody',
            {},
            members.map((m) =>
              h(
                'tr',
                { 'data-id': m.id },
                h('td', {}, lbName(m.state.loadBalancerId)),
                h('td', {}, m.state.name || m.id.slice(0, 8)),
                h('td', {}, `${m.state.address}:${m.state.protocolPort ?? ''}`),
                h('td', { class: statusClass(m.state.operatingStatus) }, m.state.operatingStatus ?? ''),
                h('td', { class: statusClass(m.state.provisioningStatus) }, m.state.provisioningStatus ?? ''),
              ),
            ),
          ),
        ),
  );
}
