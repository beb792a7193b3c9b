// The event stream: the log as it happens, newest first, filterable without asking the server
// again, each entry expandable to its data and metadata.

import { h, json } from './dom.js';

const MAX_KEPT = 5000;

export const EVENT_FIELDS =
  'cursor id type streamId streamVersion resourceType resourceId projectId recordedAt data metadata { actor tokenName project requestId correlationId causationId raw }';

export class EventStream {
  constructor(list, count) {
    this.list = list;
    this.count = count;
    this.events = [];
    this.filter = { kind: '', resource: '', actor: '', project: '' };
  }

  matches(e) {
    const f = this.filter;
    const actor = f.actor.toLowerCase();
    return (
      (!f.kind || e.resourceType === f.kind || e.type.toLowerCase().includes(f.kind.toLowerCase())) &&
      (!f.resource || e.resourceId.startsWith(f.resource) || e.streamId.includes(f.resource)) &&
      (!actor ||
        [e.metadata?.actor, e.metadata?.tokenName].some((a) =>
          String(a ?? '')
            .toLowerCase()
            .includes(actor),
        )) &&
      (!f.project || e.projectId === f.project)
    );
  }

  row(e) {
    const m = e.metadata ?? {};
    return h(
      'li',
      { class: 'event', 'data-cursor': e.cursor, 'data-type': e.type, 'data-kind': e.resourceType, 'data-resource': e.resourceId },
      h(
        'details',
        {},
        h(
          'summary',
          {},
          h('time', {}, new Date(e.recordedAt).toLocaleTimeString()),
          ' ',
          h('b', {}, e.type),
          ' ',
          h('span', { class: 'muted' }, `${e.resourceType} ${e.resourceId.slice(0, 8)} r${e.streamVersion}`),
          ' ',
          h('span', { class: 'actor' }, m.tokenName ?? m.actor ?? ''),
        ),
        h(
          'div',
          { class: 'cols' },
          h('div', {}, h('h4', {}, 'data'), json(e.data)),
          h('div', {}, h('h4', {}, 'metadata'), json({ ...m.raw, cursor: e.cursor, eventId: e.id })),
        ),
      ),
    );
  }

  /** Older events first (the initial page), then live ones. */
  add(events) {
    const shown = [];
    for (const e of events) {
      this.events.push(e);
      if (this.matches(e)) shown.push(this.row(e));
    }
    if (this.events.length > MAX_KEPT) this.events.splice(0, this.events.length - MAX_KEPT);
    this.list.prepend(...shown.reverse());
    while (this.list.childElementCount > MAX_KEPT) this.list.lastElementChild.remove();
    this.count.textContent = `${this.events.length} events`;
  }

  setFilter(filter) {
    this.filter = { ...this.filter, ...filter };
    this.list.replaceChildren(
      ...this.events
        .filter((e) => this.matches(e))
        .reverse()
        .map((e) => this.row(e)),
    );
  }

  get head() {
    return this.events[this.events.length - 1]?.cursor ?? null;
  }
}
