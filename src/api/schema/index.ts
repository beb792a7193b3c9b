import { lexicographicSortSchema, printSchema, type GraphQLSchema } from 'graphql';
import { builder } from './builder.js';
import './errors.js';
import './resources.js';
import './tenancy.js';
import './networking.js';
import './ip-availability.js';
import './routers.js';
import './router-ha.js';
import './floating-ips.js';
import './security-groups.js';
import './firewalls.js';
import './vpn.js';
import './loadbalancers.js';
import './events.js';
import './history.js';
import './dataplane.js';
import './availability-zones.js';

let built: GraphQLSchema | undefined;

export function schema(): GraphQLSchema {
  built ??= builder.toSchema();
  return built;
}

export function printedSchema(): string {
  return printSchema(lexicographicSortSchema(schema()));
}
