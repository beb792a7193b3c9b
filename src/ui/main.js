// The dashboard: log in with a token, then topology, event stream and dataplane views, all kept
// current by subscriptions (no polling), with time travel over the topology's change log.

import { $, h, json } from './dom.js';
import { EVENT_FIELDS, EventStream } from './events.js';
import { renderAgents, renderMembers } from './dataplane.js';
import { Api, LOG_START, follow } from './graphql.js';
import { TOPOLOGY_KINDS, TopologyLog, diffOf, renderTopology } from './topology.js';

const TOKEN_KEY = 'netledger.token';

const state = {
  api: null,
  viewer: null,
  project: '',
  topology: new TopologyLog(),
  events: null,
  followers: [],
  selected: null,
  /** Cursor index shown, or null for live. */
  at: null,
  /** Cursor index to compare against, or null. */
  compareFrom: null,
  connections: {},
};

const CHANGES = `subscription($after: String, $kinds: [String!]) { resourceChanged(after: $after, kinds: $kinds) {
  __typename ... on ResourceChange { cursor kind uuid deleted revision state } ... on SubscriptionCutOff { reason lastCursor } } }`;
const EVENTS = `subscription($after: String) { events(after: $after) { __typename ... on LogEvent { ${EVENT_FIELDS} } ... on SubscriptionCutOff { reason lastCursor } } }`;

// ---- login ----

async function login(token) {
  const api = new Api(token);
  const data = await api.query('{ viewer { tokenName role project { uuid name } } projects { uuid name } }');
  sessionStorage.setItem(TOKEN_KEY, token);
  state.api = api;
  state.viewer = data.viewer;
  state.project = data.viewer.role === 'admin' ? '' : data.viewer.project.uuid;
  $('#who').textContent = `${data.viewer.tokenName} (${data.viewer.role}, ${data.viewer.project.name})`;
  const select = $('#project');
  select.replaceChildren(
    ...(data.viewer.role === 'admin' ? [h('option', { value: '' }, 'all projects')] : []),
    ...data.projects.map((p) => h('option', { value: p.uuid }, p.name)),
  );
  select.value = state.project;
  select.disabled = data.viewer.role !== 'admin';
  $('#login').hidden = true;
  $('#app').hidden = false;
  start();
}

function logout() {
  for (const f of state.followers) f.stop();
  sessionStorage.removeItem(TOKEN_KEY);
  location.reload();
}

// ---- subscriptions ----

function connection(name) {
  return (s, err) => {
    state.connections[name] = s;
    const all = Object.values(state.connections);
    const overall = all.every((x) => x === 'live') ? 'live' : all.some((x) => x === 'reconnecting') ? 'reconnecting' : 'connecting';
    const el = $('#conn');
    el.textContent = overall;
    el.className = `conn conn-${overall}`;
    el.title = err ? String(err.message ?? err) : '';
  };
}

async function start() {
  state.connections = { topology: 'connecting', events: 'connecting' };
  state.events = new EventStream($('#event-list'), $('#event-count'));
  state.events.setFilter({ project: state.project });
  // The topology replays the log from its start: the current state and every earlier one, which
  // time travel needs, from one gap-free stream.
  state.followers.push(
    follow({
      api: state.api,
      query: CHANGES,
      variables: { kinds: TOPOLOGY_KINDS },
      field: 'resourceChanged',
      from: LOG_START,
      key: (m) => `${m.uuid}|${m.deleted}`,
      onMessage: (m) => {
        state.topology.apply(m);
        schedule();
      },
      onState: connection('topology'),
    }),
  );
  // The event stream shows the latest page at once, then follows from its last cursor.
  const page = await state.api.query(`query { events(last: 200) { pageInfo { endCursor } edges { node { ${EVENT_FIELDS} } } } }`);
  state.events.add(page.events.edges.map((e) => e.node));
  state.followers.push(
    follow({
      api: state.api,
      query: EVENTS,
      variables: {},
      field: 'events',
      from: page.events.pageInfo.endCursor ?? LOG_START,
      key: (m) => m.cursor,
      onMessage: (m) => {
        state.events.add([m]);
        if ($('#dataplane-view').classList.contains('active')) refreshAgents();
      },
      onState: connection('events'),
    }),
  );
}

// ---- rendering ----

let dirty = false;
let frame = false;
/**
 * Many changes in a row (a replay) draw once per frame. A hidden tab draws nothing: Chromium
 * throttles a background tab's timers to a CPU budget, so a costly draw there postpones the next
 * one for tens of seconds, and nobody is looking anyway. It draws once when shown again.
 */
function schedule() {
  dirty = true;
  draw();
}

function draw() {
  if (!dirty || frame || document.hidden) return;
  frame = true;
  requestAnimationFrame(() => {
    frame = false;
    dirty = false;
    render();
  });
}
document.addEventListener('visibilitychange', draw);

function shown() {
  const t = state.topology;
  const at = state.at ?? t.cursors.length - 1;
  const now = t.asOf(at);
  if (state.compareFrom === null) return { resources: now, diff: null };
  const before = t.asOf(state.compareFrom);
  const diff = diffOf(before, now);
  const union = new Map(now);
  for (const [id, r] of before) if (!now.has(id)) union.set(id, r);
  return { resources: union, diff };
}

function render() {
  const t = state.topology;
  const slider = $('#time');
  slider.max = String(Math.max(0, t.cursors.length - 1));
  if (state.at === null) slider.value = slider.max;
  const started = performance.now();
  const { resources, diff } = shown();
  let drawn;
  try {
    drawn = renderTopology($('#graph'), resources, { project: state.project, selected: state.selected, diff, onSelect: select });
  } catch (e) {
    // A document the page does not understand must not stop every later update from drawing.
    console.error('drawing the topology failed', e);
    drawn = 'drawing failed:';
  }
  const ms = performance.now() - started;
  $('#graph').dataset.renderMs = ms.toFixed(1);
  $('#time-label').textContent =
    state.at === null ? `live · ${t.cursors.length} changes` : `as of change ${state.at + 1} of ${t.cursors.length}`;
  $('#compare-label').textContent =
    state.compareFrom === null ? '' : `compared with change ${state.compareFrom + 1}: ${diff.size} differences`;
  $('#stats').textContent = `${drawn} shown · ${ms.toFixed(0)} ms`;
  $('#live').disabled = state.at === null;
  if ($('#dataplane-view').classList.contains('active')) renderMembers($('#members'), t.live, state.project);
}

async function select(id) {
  state.selected = id;
  schedule();
  const t = state.topology;
  const panel = $('#details');
  const at = state.at === null ? null : t.cursors[state.at];
  const r = (at === null ? t.live : t.asOf(state.at)).get(id);
  panel.replaceChildren(
    h('h3', {}, `${r?.kind ?? 'resource'} ${r?.state.name ?? ''}`),
    h('p', { class: 'muted' }, id),
    h('p', {}, 'loading…'),
  );
  try {
    const data = await state.api.query(
      `query($id: ID!, $asOf: String!, $past: Boolean!) {
      history(id: $id) { entries { cursor eventType revision recordedAt summary metadata { tokenName actor } } }
      resourceAsOf(id: $id, asOf: $asOf) @include(if: $past) { exists revision state } }`,
      { id, asOf: at ?? LOG_START, past: at !== null },
    );
    const doc = at !== null ? data.resourceAsOf?.state : r?.state;
    panel.replaceChildren(
      h('h3', {}, `${r?.kind ?? 'resource'} ${r?.state.name ?? ''}`),
      h('p', { class: 'muted' }, id, at !== null ? ' · as of the time slider (resourceAsOf)' : ''),
      h('h4', {}, 'history'),
      h(
        'ol',
        { class: 'history' },
        (data.history?.entries ?? []).map((e) =>
          h(
            'li',
            {},
            h('b', {}, e.eventType),
            ` r${e.revision} `,
            h(
              'span',
              { class: 'muted' },
              `${new Date(e.recordedAt).toLocaleString()} by ${e.metadata.tokenName ?? e.metadata.actor ?? '?'}`,
            ),
            h('div', {}, e.summary),
          ),
        ),
      ),
      h('h4', {}, 'state'),
      doc ? json(doc) : h('p', { class: 'muted' }, 'does not exist at this point'),
    );
  } catch (e) {
    panel.append(h('p', { class: 'error' }, String(e.message)));
  }
}

let agentsLoading = null;
let agentsStale = false;
/** The agents, asked again after a burst of events at most once per answer. */
async function refreshAgents() {
  if (agentsLoading) {
    agentsStale = true;
    return agentsLoading;
  }
  agentsLoading = (async () => {
    try {
      const data = await state.api.query('{ agents { host alive lastHeartbeatAt appliedCursor appliedAt lastError } }');
      renderAgents($('#agents'), data.agents, state.events.head, state.topology.live);
    } catch {
      renderAgents($('#agents'), null, null);
    }
  })();
  await agentsLoading;
  agentsLoading = null;
  if (agentsStale) {
    agentsStale = false;
    void refreshAgents();
  }
}

// ---- controls ----

function show(view) {
  for (const el of document.querySelectorAll('.view')) el.classList.toggle('active', el.id === `${view}-view`);
  for (const el of document.querySelectorAll('nav button')) el.classList.toggle('active', el.dataset.view === view);
  if (view === 'dataplane') {
    void refreshAgents();
    renderMembers($('#members'), state.topology.live, state.project);
  }
}

addEventListener('DOMContentLoaded', () => {
  $('#login').addEventListener('submit', (e) => {
    e.preventDefault();
    login($('#token').value.trim()).catch((err) => ($('#login-error').textContent = `Could not log in: ${err.message}`));
  });
  $('#logout').addEventListener('click', logout);
  $('#project').addEventListener('change', (e) => {
    state.project = e.target.value;
    state.events.setFilter({ project: state.project });
    schedule();
  });
  for (const b of document.querySelectorAll('nav button')) b.addEventListener('click', () => show(b.dataset.view));
  $('#time').addEventListener('input', (e) => {
    const v = Number(e.target.value);
    state.at = v >= state.topology.cursors.length - 1 ? null : v;
    schedule();
  });
  $('#live').addEventListener('click', () => {
    state.at = null;
    schedule();
  });
  $('#compare').addEventListener('click', () => {
    state.compareFrom = state.compareFrom === null ? Number($('#time').value) : null;
    $('#compare').textContent = state.compareFrom === null ? 'Compare from here' : 'Stop comparing';
    schedule();
  });
  $('#graph').addEventListener('click', () => {
    state.selected = null;
    $('#details').replaceChildren(h('p', { class: 'muted' }, 'Click a node for its details and history.'));
    schedule();
  });
  for (const [input, key] of [
    ['#filter-kind', 'kind'],
    ['#filter-resource', 'resource'],
    ['#filter-actor', 'actor'],
  ]) {
    $(input).addEventListener('input', (e) => state.events.setFilter({ [key]: e.target.value.trim() }));
  }
  const saved = sessionStorage.getItem(TOKEN_KEY);
  if (saved) login(saved).catch(() => sessionStorage.removeItem(TOKEN_KEY));
});
