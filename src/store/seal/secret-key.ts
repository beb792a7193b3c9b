import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';

/**
 * The key that seals secrets the API takes but must never show again (VPN pre-shared keys).
 * Like the audit key it lives in a file beside the data (mode 0600), never in PostgreSQL: the log
 * and the read model only hold `v1:<key id>:<iv>:<ciphertext>:<tag>` (AES-256-GCM), so a database
 * dump or an event export reveals no PSK, and the agent, which reads the same file, unseals them.
 */
export interface SecretKey {
  readonly key: Buffer;
  /** First 16 hex of sha256(key): names the key in sealed values. */
  readonly keyId: string;
}

export function secretKeyPath(config: { dataDir: string; NETLEDGER_SECRET_KEY?: string | undefined }): string {
  return config.NETLEDGER_SECRET_KEY ? path.resolve(config.NETLEDGER_SECRET_KEY) : path.join(config.dataDir, 'secret-key');
}

function fromText(text: string): SecretKey {
  const key = Buffer.from(text.trim(), 'base64');
  if (key.length !== 32) throw new Error('secret key file must hold 32 bytes, base64');
  return { key, keyId: createHash('sha256').update(key).digest('hex').slice(0, 16) };
}

/** The key, created on first use; racing creators link their own file into place, so one key wins. */
export function loadOrCreateSecretKey(file: string): SecretKey {
  if (!fs.existsSync(file)) {
    fs.mkdirSync(path.dirname(file), { recursive: true });
    const tmp = `${file}.${process.pid}.tmp`;
    fs.writeFileSync(tmp, `${randomBytes(32).toString('base64')}\n`, { mode: 0o600 });
    try {
      fs.linkSync(tmp, file);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    } finally {
      fs.rmSync(tmp, { force: true });
    }
  }
  return fromText(fs.readFileSync(file, 'utf8'));
}

export function sealSecret(k: SecretKey, plaintext: string): string {
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', k.key, iv);
  const body = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
  return ['v1', k.keyId, iv.toString('base64'), body.toString('base64'), cipher.getAuthTag().toString('base64')].join(':');
}

/** The plaintext, or null when the value was sealed with another key or was tampered with. */
export function openSecret(k: SecretKey, sealed: string): string | null {
  const [v, keyId, iv, body, tag] = sealed.split(':');
  if (v !== 'v1' || keyId !== k.keyId || iv === undefined || body === undefined || tag === undefined) return null;
  try {
    const decipher = createDecipheriv('aes-256-gcm', k.key, Buffer.from(iv, 'base64'));
    decipher.setAuthTag(Buffer.from(tag, 'base64'));
    return Buffer.concat([decipher.update(Buffer.from(body, 'base64')), decipher.final()]).toString('utf8');
  } catch {
    return null;
  }
}
