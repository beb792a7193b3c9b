import { chmod, rename, writeFile } from 'node:fs/promises';

/**
 * Replaces a file the way the daemons we run must see it: whole or not at all. The mode is set
 * again after writing because the umask narrows the one `writeFile` asks for (dnsmasq re-reads
 * its files as `nobody`).
 */
export async function writeAtomic(path: string, content: string, mode = 0o644): Promise<void> {
  const tmp = `${path}.tmp`;
  await writeFile(tmp, content, { mode });
  await chmod(tmp, mode);
  await rename(tmp, path);
}
