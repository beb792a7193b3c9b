import { onDefaultSecurityGroup, onPortDelete } from '../networking/ports.js';
import { planDefaultSecurityGroup } from '../security/security-groups.js';
import { releaseFloatingIpsOfPort } from './floating-ips.js';

// Imported once by bootstrap: port commands reach floating IPs and default security groups only
// through these hooks, so the networking module does not depend on routing or security.
onPortDelete(releaseFloatingIpsOfPort);
onDefaultSecurityGroup(planDefaultSecurityGroup);
