import { chmod, readFile, readdir, rename, writeFile } from 'node:fs/promises';

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

/** A file's text, or null when it is not there (yet, or any more). */
export async function readOrNull(path: string): Promise<string | null> {
  try {
    return await readFile(path, 'utf8');
  } catch {
    return null;
  }
}

export async function dirExists(path: string): Promise<boolean> {
  try {
    await readdir(path);
    return true;
  } catch {
    return false;
  }
}
