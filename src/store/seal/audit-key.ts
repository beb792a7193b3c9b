import { createHash, createPrivateKey, createPublicKey, generateKeyPairSync, type KeyObject } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';

/** The Ed25519 key that signs log checkpoints. It lives in a file, never in PostgreSQL. */
export interface AuditKey {
  readonly privateKey: KeyObject | null;
  readonly publicKey: KeyObject;
  /** sha256 of the public key (DER), hex: names the key in checkpoints. */
  readonly keyId: string;
  readonly publicPem: string;
}

export function auditKeyPath(config: { dataDir: string; NETLEDGER_AUDIT_KEY?: string | undefined }): string {
  return config.NETLEDGER_AUDIT_KEY ? path.resolve(config.NETLEDGER_AUDIT_KEY) : path.join(config.dataDir, 'audit-key.pem');
}

export function publicAuditKey(publicKey: KeyObject): AuditKey {
  const der = publicKey.export({ type: 'spki', format: 'der' });
  return {
    privateKey: null,
    publicKey,
    keyId: createHash('sha256').update(der).digest('hex'),
    publicPem: publicKey.export({ type: 'spki', format: 'pem' }).toString(),
  };
}

/** Reads a PEM file holding either the private key or only the public one (an auditor's copy). */
export function readAuditKey(file: string): AuditKey {
  const pem = fs.readFileSync(file, 'utf8');
  if (pem.includes('PRIVATE KEY')) {
    const privateKey = createPrivateKey(pem);
    return { ...publicAuditKey(createPublicKey(privateKey)), privateKey };
  }
  return publicAuditKey(createPublicKey(pem));
}

/**
 * The signing key, created on first use (mode 0600). Several processes may race to create it:
 * each writes a file of its own and links it into place, so exactly one key wins and all use it.
 */
export function loadOrCreateAuditKey(file: string): AuditKey {
  if (!fs.existsSync(file)) {
    fs.mkdirSync(path.dirname(file), { recursive: true });
    const { privateKey } = generateKeyPairSync('ed25519');
    const tmp = `${file}.${process.pid}.tmp`;
    fs.writeFileSync(tmp, privateKey.export({ type: 'pkcs8', format: 'pem' }), { mode: 0o600 });
    try {
      fs.linkSync(tmp, file);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    } finally {
      fs.rmSync(tmp, { force: true });
    }
  }
  return readAuditKey(file);
}
