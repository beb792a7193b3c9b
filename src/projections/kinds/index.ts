import type { EventDefinition } from '../../domain/event-definition.js';
import { networkDecider, networkEvents } from '../../domain/network/index.js';
import { portDecider, portEvents } from '../../domain/port/index.js';
import { subnetDecider, subnetEvents } from '../../domain/subnet/index.js';
import type { AggregateKind } from '../aggregate-kind.js';
import { lifecycleKind } from './lifecycle-kind.js';

/** Every aggregate type the read model folds. */
export const resourceKinds: readonly AggregateKind[] = [
  lifecycleKind({ streamType: 'network', kind: 'network', events: networkEvents, decider: networkDecider, networkId: (n) => n.id }),
  lifecycleKind({ streamType: 'subnet', kind: 'subnet', events: subnetEvents, decider: subnetDecider, networkId: (s) => s.networkId }),
  lifecycleKind({ streamType: 'port', kind: 'port', events: portEvents, decider: portDecider, networkId: (p) => p.networkId }),
];

export const resourceEvents: readonly EventDefinition[] = [...networkEvents, ...subnetEvents, ...portEvents];
