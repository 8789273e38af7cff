/**
 * Source reconciliation: fetch a GitRepository (git CLI) or hash a LocalDirectory, and keep each new
 * revision as an immutable artifact directory, so a Kustomization builds exactly the revision it names
 * even while the next fetch is under way. Status follows source-controller's (artifact.revision,
 * Ready / ArtifactInStorage / FetchFailed conditions).
 */
import { cp, mkdir, readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { Clock } from '../api/clock.js';
import { isFledgeError } from '../api/index.js';
import type { KubeApi, KubeObject } from '../kube/api.js';
import type { Condition } from './conditions.js';
import { conditionsOf, rfc3339, withCondition, withoutCondition } from './conditions.js';
import type { Artifact } from './kustomization.js';
import { unchangedBy } from './kustomization.js';
import type { RunCommand } from './exec.js';
import { fetchGitRevision } from './source-git.js';
import { directoryRevision } from './source-dir.js';
import type { Source } from './types.js';
import { GIT_REPOSITORY_API, LOCAL_DIRECTORY_API, REQUESTED_AT } from './types.js';

export interface SourceDeps {
  kube: Pick<KubeApi, 'get' | 'patchStatus'>;
  clock: Clock;
  run: RunCommand;
  /** Where clones and artifacts live. */
  workDir: string;
}

export interface SourceOutcome {
  ready: boolean;
  artifact?: Artifact;
  message: string;
  requeueAfterMs: number;
}

const keyOf = (s: Source): string => `${s.kind}/${s.metadata.namespace}/${s.metadata.name}`;
const safe = (text: string): string => text.replace(/[^A-Za-z0-9._-]/g, '_');

/** Remembers the newest artifact of every source; Kustomizations read it from here. */
export class ArtifactStore {
  private readonly latest = new Map<string, Artifact>();

  get(ref: { kind: string; name: string; namespace: string }): Artifact | undefined {
    return this.latest.get(`${ref.kind}/${ref.namespace}/${ref.name}`);
  }

  set(source: Source, artifact: Artifact): void {
    this.latest.set(keyOf(source), artifact);
  }

  forget(kind: string, namespace: string, name: string): void {
    this.latest.delete(`${kind}/${namespace}/${name}`);
  }
}

const gitAuth = async (s: Source & { kind: 'GitRepository' }, kube: SourceDeps['kube']) => {
  if (!s.spec.secretRef) return undefined;
  const secret = await kube.get({ apiVersion: 'v1', kind: 'Secret', name: s.spec.secretRef, namespace: s.metadata.namespace });
  if (!secret) throw new Error(`spec.secretRef: Secret '${s.metadata.namespace}/${s.spec.secretRef}' not found`);
  const data = Object.fromEntries(Object.entries((secret.data ?? {}) as Record<string, string>).map(([k, v]) => [k, Buffer.from(v, 'base64').toString('utf8')]));
  if (data.identity) return { sshPrivateKey: data.identity, ...(data.known_hosts ? { knownHosts: data.known_hosts } : {}) };
  if (data.username !== undefined && data.password !== undefined) return { username: data.username, password: data.password };
  throw new Error(`spec.secretRef: Secret '${s.metadata.namespace}/${s.spec.secretRef}' needs username and password (https) or identity (ssh)`);
};

/** Copies the checkout into an immutable per-revision directory and drops older ones but the previous. */
const storeArtifact = async (deps: SourceDeps, s: Source, from: string, revision: string): Promise<string> => {
  const base = join(deps.workDir, 'artifacts', s.kind, s.metadata.namespace, s.metadata.name);
  const dir = join(base, safe(revision));
  await mkdir(base, { recursive: true });
  const existing = await readdir(base).catch(() => [] as string[]);
  if (!existing.includes(safe(revision))) {
    await cp(from, `${dir}.tmp`, { recursive: true, filter: (src) => !src.split('/').includes('.git') });
    await rm(dir, { recursive: true, force: true });
    await cp(`${dir}.tmp`, dir, { recursive: true });
    await rm(`${dir}.tmp`, { recursive: true, force: true });
  }
  return dir;
};

const fetchRevision = async (s: Source, deps: SourceDeps): Promise<{ revision: string; dir: string }> => {
  if (s.kind === 'LocalDirectory') return { revision: await directoryRevision(s.spec.path), dir: s.spec.path };
  const auth = await gitAuth(s, deps.kube);
  const checkout = join(deps.workDir, 'checkouts', safe(s.metadata.namespace), safe(s.metadata.name));
  const got = await fetchGitRevision({ url: s.spec.url, ref: s.spec.ref, dir: checkout, run: deps.run, timeoutMs: s.spec.timeout.ms, ...(auth ? { auth } : {}) });
  return { revision: got.revision, dir: got.dir };
};

/** Fetches a source, stores a new artifact when the revision changed, and writes the status. */
export const reconcileSource = async (raw: KubeObject, s: Source, store: ArtifactStore, deps: SourceDeps): Promise<SourceOutcome> => {
  const ref = { apiVersion: s.kind === 'GitRepository' ? GIT_REPOSITORY_API : LOCAL_DIRECTORY_API, kind: s.kind, name: s.metadata.name, namespace: s.metadata.namespace };
  const gen = s.metadata.generation;
  let conditions: Condition[] = conditionsOf(raw.status);
  const now = () => deps.clock.now();
  const requested = s.metadata.annotations[REQUESTED_AT];
  const handled = requested ? { lastHandledReconcileAt: requested } : {};
  try {
    const { revision, dir } = await fetchRevision(s, deps);
    const current = store.get(ref);
    const artifact: Artifact = current?.revision === revision ? current : { revision, dir: await storeArtifact(deps, s, dir, revision), ...(s.kind === 'GitRepository' && s.spec.ignore ? { ignore: s.spec.ignore } : {}) };
    store.set(s, artifact);
    const message = `stored artifact for revision '${revision}'`;
    conditions = withoutCondition(conditions, 'FetchFailed');
    conditions = withCondition(conditions, { type: 'ArtifactInStorage', status: 'True', reason: 'Succeeded', message, observedGeneration: gen }, now());
    conditions = withCondition(conditions, { type: 'Ready', status: 'True', reason: 'Succeeded', message, observedGeneration: gen }, now());
    const previous = (raw.status as { artifact?: { revision?: string; lastUpdateTime?: string } } | undefined)?.artifact;
    const lastUpdateTime = previous?.revision === revision && previous.lastUpdateTime ? previous.lastUpdateTime : rfc3339(now());
    const patch = { ...handled, observedGeneration: gen, conditions, artifact: { revision, path: artifact.dir, lastUpdateTime } };
    if (!unchangedBy((raw.status ?? {}) as Record<string, unknown>, patch)) await deps.kube.patchStatus(ref, patch);
    return { ready: true, artifact, message, requeueAfterMs: s.spec.interval.ms };
  } catch (e) {
    const reason = isFledgeError(e) ? e.code : s.kind === 'GitRepository' ? 'GitOperationFailed' : 'ArtifactFailed';
    const message = e instanceof Error ? e.message : String(e);
    conditions = withCondition(conditions, { type: 'FetchFailed', status: 'True', reason, message, observedGeneration: gen }, now());
    conditions = withCondition(conditions, { type: 'Ready', status: 'False', reason, message, observedGeneration: gen }, now());
    await deps.kube.patchStatus(ref, { ...handled, observedGeneration: gen, conditions }).catch(() => undefined);
    // The last good artifact stays usable: a flaky Git server must not stop deliveries already made.
    const artifact = store.get(ref);
    return { ready: false, ...(artifact ? { artifact } : {}), message, requeueAfterMs: s.spec.interval.ms };
  }
};
