/**
 * A preview of what applying a local directory as a Kustomization would do: per object created,
 * configured (with a YAML diff of live vs the server's dry-run result) or deleted (in the inventory,
 * not in the build). Nothing is written: every apply is a server-side dry run. Secret values are
 * masked; a changed value shows as a different mask so the reader knows which key changed.
 */
import { createHash } from 'node:crypto';
import { isDeepStrictEqual } from 'node:util';
import { stringify } from 'yaml';
import type { KubeObject } from '../kube/api.js';
import { refOf } from '../kube/api.js';
import type { ApplyClient } from './apply.js';
import { RECONCILE_ANNOTATION } from './apply.js';
import type { InventoryEntry } from './inventory.js';
import { applyOrder, describe, entryOf, refOfEntry } from './inventory.js';

export interface DiffEntry {
  subject: string;
  action: 'created' | 'configured' | 'deleted' | 'unchanged' | 'skipped';
  /** Unified-style line diff for configured objects. */
  diff?: string;
}

const BOOKKEEPING = ['managedFields', 'resourceVersion', 'generation', 'uid', 'creationTimestamp'];

const shown = (o: KubeObject): Record<string, unknown> => {
  const metadata: Record<string, unknown> = { ...o.metadata };
  for (const key of BOOKKEEPING) delete metadata[key];
  const { status: _status, ...rest } = o;
  const out: Record<string, unknown> = { ...rest, metadata };
  if (o.kind === 'Secret' && o.apiVersion === 'v1') {
    for (const field of ['data', 'stringData']) {
      const values = o[field] as Record<string, string> | undefined;
      if (!values) continue;
      // The same value masks the same way, so a diff shows which keys changed and nothing else.
      out[field] = Object.fromEntries(Object.entries(values).map(([k, v]) => [k, `*** (sha256:${createHash('sha256').update(v).digest('hex').slice(0, 8)})`]));
    }
  }
  return out;
};

/** A line diff by longest common subsequence; small manifests make the quadratic table cheap. */
export const lineDiff = (before: string, after: string): string => {
  const a = before.split('\n');
  const b = after.split('\n');
  const lcs: number[][] = Array.from({ length: a.length + 1 }, () => new Array<number>(b.length + 1).fill(0));
  for (let i = a.length - 1; i >= 0; i--) {
    for (let j = b.length - 1; j >= 0; j--) lcs[i]![j] = a[i] === b[j] ? lcs[i + 1]![j + 1]! + 1 : Math.max(lcs[i + 1]![j]!, lcs[i]![j + 1]!);
  }
  const out: string[] = [];
  let i = 0;
  let j = 0;
  while (i < a.length || j < b.length) {
    if (i < a.length && j < b.length && a[i] === b[j]) {
      out.push(`  ${a[i]}`);
      i++;
      j++;
    } else if (i < a.length && (j >= b.length || lcs[i + 1]![j]! >= lcs[i]![j + 1]!)) out.push(`- ${a[i++]}`);
    else out.push(`+ ${b[j++]}`);
  }
  // Keep changed lines with two lines of context, like a unified diff without the hunk headers.
  const keep = new Set<number>();
  out.forEach((line, n) => {
    if (!line.startsWith('  ')) for (let k = n - 2; k <= n + 2; k++) keep.add(k);
  });
  return out.filter((_, n) => keep.has(n)).join('\n');
};

/**
 * Diffs `objects` (already patched, substituted and labelled, namespaces placed) against the cluster;
 * `inventory` is the Kustomization's current one, for deletions.
 */
export const diffObjects = async (client: ApplyClient, objects: KubeObject[], inventory: InventoryEntry[], fieldManager: string): Promise<DiffEntry[]> => {
  const out: DiffEntry[] = [];
  for (const o of [...objects].sort(applyOrder)) {
    const live = await client.get(refOf(o));
    const subject = describe(o);
    if (!live) {
      out.push({ subject, action: 'created' });
      continue;
    }
    if (live.metadata.annotations?.[RECONCILE_ANNOTATION] === 'disabled') {
      out.push({ subject, action: 'skipped' });
      continue;
    }
    const preview = await client.serverSideApply(o, { fieldManager, dryRun: true, force: true });
    if (isDeepStrictEqual(shown(preview), shown(live))) out.push({ subject, action: 'unchanged' });
    else out.push({ subject, action: 'configured', diff: lineDiff(stringify(shown(live)), stringify(shown(preview))) });
  }
  const built = new Set(objects.map((o) => entryOf(o).id));
  for (const entry of inventory) {
    if (built.has(entry.id)) continue;
    const live = await client.get(refOfEntry(entry));
    if (live) out.push({ subject: describe(live), action: 'deleted' });
  }
  return out;
};
