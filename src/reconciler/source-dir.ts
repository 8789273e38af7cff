/**
 * A local directory as a source, for development: the revision is a digest of the tree, so editing a
 * manifest is a new revision and touching nothing is not. Only regular files count (symlinks and other
 * special files are skipped, as a Git checkout would not carry them as content either); `.git`
 * directories are skipped so committing does not change the revision of an unchanged tree.
 */
import { createHash } from 'node:crypto';
import { readFile, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { FledgeError } from '../api/index.js';

/** Relative POSIX paths of the regular files under `dir`, sorted by code unit so the order is stable. */
const listFiles = async (dir: string, prefix = ''): Promise<string[]> => {
  const entries = await readdir(join(dir, prefix), { withFileTypes: true });
  const files: string[] = [];
  for (const entry of entries) {
    const rel = prefix ? `${prefix}/${entry.name}` : entry.name;
    if (entry.isDirectory()) {
      if (entry.name !== '.git') files.push(...(await listFiles(dir, rel)));
    } else if (entry.isFile()) {
      files.push(rel);
    }
  }
  return files;
};

/**
 * `sha256:<hex>` over every regular file's relative path and content. Each path and content is preceded
 * by its length, so moving bytes between a name and a content (or between two files) changes the digest.
 */
export const directoryRevision = async (dir: string): Promise<string> => {
  let files: string[];
  try {
    files = (await listFiles(dir)).sort();
  } catch (e) {
    throw new FledgeError('ArtifactFailed', `local directory ${dir} cannot be read: ${(e as Error).message}`, { cause: e });
  }
  const hash = createHash('sha256');
  for (const rel of files) {
    const content = await readFile(join(dir, rel));
    const name = Buffer.from(rel, 'utf8');
    hash.update(`${name.length}:`).update(name).update(`${content.length}:`).update(content);
  }
  return `sha256:${hash.digest('hex')}`;
};
