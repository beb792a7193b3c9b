import type { Decider } from '../decider.js';
import type { SecurityGroupCommand } from './commands.js';
import { decideSecurityGroup } from './decide.js';
import type { SecurityGroupEvent } from './events.js';
import { evolveSecurityGroup } from './evolve.js';
import { initialSecurityGroupState, type SecurityGroupState } from './state.js';

export const securityGroupDecider: Decider<SecurityGroupCommand, SecurityGroupState, SecurityGroupEvent> = {
  initialState: initialSecurityGroupState,
  decide: decideSecurityGroup,
  evolve: evolveSecurityGroup,
};

export function securityGroupStreamId(id: string): string {
  return `securitygroup-${id}`;
}
