/**
 * Who is asking: the one fact every policy rule starts from. An API caller (a bearer token), an
 * audit reader and a command's actor are all principals; the platform acting on its own ports is
 * an admin principal of the resource's project.
 */
export interface Principal {
  readonly projectId: string;
  readonly isAdmin: boolean;
}

/** The platform acting for `projectId` on resources it manages itself (gateway, interface, VIP and floating IP ports). */
export const platformPrincipal = (projectId: string): Principal => ({ projectId, isAdmin: true });
