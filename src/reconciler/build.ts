/**
 * Building a Kustomization's objects from a source tree. A directory with a kustomization file is built by
 * `kubectl kustomize`; any other directory is read as plain manifests (*.yaml, *.yml, *.json, recursively,
 * in sorted path order), where a subdirectory holding its own kustomization file is built by kustomize as
 * one unit, as Flux's generated kustomization does.
 *
 * The tree is seen as Flux's source artifact would hold it: Flux's default exclusions and the source's
 * `ignore` rules (gitignore syntax) apply, and only regular files count (no symlinks). When the source's
 * rules exclude something or the tree holds symlinks, kustomize runs over a filtered copy, so such a file
 * cannot reach the output (a file excluded only by the defaults, e.g. an image, stays readable by a
 * kustomization that names it; copying every repository with a .gitignore would cost more than it saves).
 * kustomize keeps its default load restrictor: a kustomization may not read files outside its own
 * directory (bases in other directories are fine).
 */
import { copyFile, mkdir, mkdtemp, readdir, readFile, realpath, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { isAbsolute, join, relative, resolve, sep } from 'node:path';
import type { Node } from 'yaml';
import { Document, isMap, isSeq, parseAllDocuments } from 'yaml';
import { FledgeError } from '../api/index.js';
import type { KubeObject } from '../kube/api.js';
import type { RunCommand } from './exec.js';
import { isCommandError } from './exec.js';
import type { IgnoreMatcher } from './ignore.js';
import { DEFAULT_IGNORE, compileIgnore } from './ignore.js';
import { describe, groupOf } from './inventory.js';

export interface BuildOptions {
  /** The source tree (a Git checkout or a local directory). */
  root: string;
  /** The Kustomization's spec.path, relative to root. */
  path: string;
  run: RunCommand;
  /** The kubectl binary; default `kubectl` from PATH. */
  kubectl?: string;
  /** gitignore-style rules (GitRepository spec.ignore), on top of Flux's default exclusions. */
  ignore?: string;
  /** Per kubectl run; default 2 minutes. */
  timeoutMs?: number;
}

/** One built object with the YAML it came from (quoting kept, for variable substitution) and its origin. */
export interface ManifestDocument {
  object: KubeObject;
  yaml: string;
  /** `deploy/app.yaml document 2`, `kustomize build of overlays/prod document 1`. */
  origin: string;
}

export const KUSTOMIZATION_FILES = ['kustomization.yaml', 'kustomization.yml', 'Kustomization'];
const MANIFEST = /\.(ya?ml|json)$/i;
const DEFAULT_TIMEOUT_MS = 120_000;

const fail = (message: string): never => {
  throw new FledgeError('BuildFailed', message);
};

const isFile = async (p: string): Promise<boolean> => stat(p).then(
  (s) => s.isFile(),
  () => false,
);

const hasKustomization = async (dir: string): Promise<boolean> => {
  for (const f of KUSTOMIZATION_FILES) if (await isFile(join(dir, f))) return true;
  return false;
};

const posix = (p: string): string => p.split(sep).join('/');

const inside = (root: string, p: string): boolean => {
  const rel = relative(root, p);
  return rel === '' || (!rel.startsWith('..') && !isAbsolute(rel));
};

/** The object's checks; `where` names the file and document for the message. */
const validate = (value: unknown, where: string): KubeObject => {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    return fail(`${where}: must be a Kubernetes object (a mapping), found ${Array.isArray(value) ? 'a list' : typeof value}`);
  }
  const o = value as Record<string, unknown>;
  const meta = o.metadata as Record<string, unknown> | undefined;
  const missing = [
    typeof o.apiVersion === 'string' && o.apiVersion !== '' ? undefined : 'apiVersion',
    typeof o.kind === 'string' && o.kind !== '' ? undefined : 'kind',
    meta && typeof meta === 'object' && typeof meta.name === 'string' && meta.name !== '' ? undefined : 'metadata.name',
  ].filter(Boolean);
  if (missing.length > 0) fail(`${where}: missing ${missing.join(', ')}; every object needs apiVersion, kind and metadata.name`);
  return o as unknown as KubeObject;
};

const nodeYaml = (node: unknown): string => {
  const d = new Document();
  d.contents = node as Node;
  return d.toString();
};

const isList = (o: Record<string, unknown>): boolean => o.kind === 'List' || (typeof o.kind === 'string' && o.kind.endsWith('List') && Array.isArray(o.items));

/** Every object of a multi-document YAML/JSON text, empty documents skipped and Lists expanded. */
export const parseManifests = (text: string, origin: string): ManifestDocument[] => {
  const out: ManifestDocument[] = [];
  parseAllDocuments(text, { merge: true, prettyErrors: true }).forEach((doc, i) => {
    const where = `${origin} document ${i + 1}`;
    if (doc.errors.length > 0) fail(`${where}: invalid YAML: ${doc.errors[0]!.message}`);
    const value: unknown = doc.toJS({ maxAliasCount: 1000 });
    if (value === null || value === undefined) return;
    if (typeof value === 'object' && !Array.isArray(value) && isList(value as Record<string, unknown>)) {
      const items = (value as { items?: unknown }).items ?? [];
      if (!Array.isArray(items)) fail(`${where}: a List's items must be a list`);
      const nodes = isMap(doc.contents) ? doc.contents.get('items', true) : undefined;
      (items as unknown[]).forEach((item, j) => {
        const itemWhere = `${where} item ${j + 1}`;
        const node = isSeq(nodes) ? nodes.items[j] : undefined;
        out.push({ object: validate(item, itemWhere), yaml: node ? nodeYaml(node) : JSON.stringify(item), origin: itemWhere });
      });
      return;
    }
    out.push({ object: validate(value, where), yaml: doc.toString(), origin: where });
  });
  return out;
};

/** Whether root holds anything an artifact would lack: an ignored entry or a symlink. */
const hasExclusions = async (root: string, ignored: IgnoreMatcher, prefix = ''): Promise<boolean> => {
  for (const e of await readdir(join(root, prefix), { withFileTypes: true })) {
    const rel = prefix ? `${prefix}/${e.name}` : e.name;
    if (e.isDirectory() && e.name === '.git') continue; // kustomize never reads it
    if (e.isSymbolicLink() || ignored(rel, e.isDirectory())) return true;
    if (e.isDirectory() && (await hasExclusions(root, ignored, rel))) return true;
  }
  return false;
};

/** Copies the regular files of root that are not ignored (the artifact's content) into dest. */
const copyTree = async (root: string, dest: string, ignored: IgnoreMatcher, prefix = ''): Promise<void> => {
  await mkdir(join(dest, prefix), { recursive: true });
  for (const e of await readdir(join(root, prefix), { withFileTypes: true })) {
    const rel = prefix ? `${prefix}/${e.name}` : e.name;
    if (ignored(rel, e.isDirectory())) continue;
    if (e.isDirectory()) await copyTree(root, dest, ignored, rel);
    else if (e.isFile()) await copyFile(join(root, rel), join(dest, rel));
  }
};

interface Context {
  opts: BuildOptions;
  root: string;
  ignored: IgnoreMatcher;
  /** The tree kustomize runs over: root itself, or a filtered copy made on first need. */
  kustomizeRoot?: string;
  tmp?: string;
}

const kustomize = async (ctx: Context, dir: string): Promise<ManifestDocument[]> => {
  const rel = posix(relative(ctx.root, dir)) || '.';
  if (ctx.kustomizeRoot === undefined) {
    // Only the source's own rules (and symlinks) make a copy worth its cost: the default exclusions are
    // VCS, CI and image files that a kustomization does not read, and most repositories have some.
    if (await hasExclusions(ctx.root, ctx.opts.ignore ? compileIgnore(ctx.opts.ignore) : () => false)) {
      ctx.tmp = await mkdtemp(join(tmpdir(), 'fledge-build-'));
      await copyTree(ctx.root, ctx.tmp, ctx.ignored);
      ctx.kustomizeRoot = ctx.tmp;
    } else {
      ctx.kustomizeRoot = ctx.root;
    }
  }
  const kubectl = ctx.opts.kubectl ?? 'kubectl';
  const target = join(ctx.kustomizeRoot, rel);
  const timeoutMs = ctx.opts.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  let result;
  try {
    result = await ctx.opts.run(kubectl, ['kustomize', target], { cwd: ctx.kustomizeRoot, timeoutMs });
  } catch (e) {
    if (isCommandError(e, 'NotFound')) {
      return fail(`kubectl was not found (${kubectl}); it builds the kustomization in ${rel}: install kubectl or put it on PATH`);
    }
    if (isCommandError(e, 'TimedOut')) return fail(`kubectl kustomize ${rel} timed out after ${timeoutMs}ms`);
    return fail(`kubectl kustomize ${rel} could not run: ${(e as Error).message}`);
  }
  if (result.code !== 0) {
    // Messages name paths in the copy; show them as paths in the source.
    const stderr = result.stderr.trim().split(ctx.kustomizeRoot).join(ctx.root);
    fail(`kubectl kustomize ${rel} failed (exit code ${result.code}): ${stderr || 'no error output'}`);
  }
  return parseManifests(result.stdout, `kustomize build of ${rel}`);
};

/** Plain manifests under dir, in sorted path order; subdirectories with a kustomization built whole. */
const walk = async (ctx: Context, dir: string): Promise<ManifestDocument[]> => {
  const entries = (await readdir(dir, { withFileTypes: true })).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  const out: ManifestDocument[] = [];
  for (const e of entries) {
    const full = join(dir, e.name);
    const rel = posix(relative(ctx.root, full));
    if (ctx.ignored(rel, e.isDirectory())) continue;
    if (e.isDirectory()) {
      out.push(...((await hasKustomization(full)) ? await kustomize(ctx, full) : await walk(ctx, full)));
    } else if (e.isFile() && MANIFEST.test(e.name)) {
      out.push(...parseManifests(await readFile(full, 'utf8'), rel));
    }
  }
  return out;
};

const identity = (o: KubeObject): string => `${groupOf(o.apiVersion)}/${o.kind}/${o.metadata.namespace ?? ''}/${o.metadata.name}`;

const rejectDuplicates = (docs: readonly ManifestDocument[]): void => {
  const seen = new Map<string, string>();
  for (const d of docs) {
    const id = identity(d.object);
    const first = seen.get(id);
    if (first !== undefined) fail(`duplicate object ${describe(d.object)}: defined in ${first} and in ${d.origin}`);
    seen.set(id, d.origin);
  }
};

/** The build as documents (each object with its YAML text and origin); see buildManifests. */
export const buildDocuments = async (opts: BuildOptions): Promise<ManifestDocument[]> => {
  const lexicalRoot = resolve(opts.root);
  const lexicalTarget = resolve(lexicalRoot, opts.path || '.');
  if (!inside(lexicalRoot, lexicalTarget)) fail(`path "${opts.path}" is outside the source root; it must stay inside the source`);
  let root: string;
  let target: string;
  try {
    root = await realpath(lexicalRoot);
    target = await realpath(lexicalTarget);
  } catch {
    return fail(`path "${opts.path}" does not exist in the source`);
  }
  // A symlink must not lead the build out of the source either.
  if (!inside(root, target)) fail(`path "${opts.path}" leads outside the source root through a symlink`);
  if (!(await stat(target)).isDirectory()) fail(`path "${opts.path}" is not a directory`);
  const ctx: Context = { opts, root, ignored: compileIgnore(`${DEFAULT_IGNORE}\n${opts.ignore ?? ''}`) };
  try {
    const docs = (await hasKustomization(target)) ? await kustomize(ctx, target) : await walk(ctx, target);
    rejectDuplicates(docs);
    return docs;
  } finally {
    if (ctx.tmp) await rm(ctx.tmp, { recursive: true, force: true });
  }
};

/**
 * The objects of `<root>/<path>`: kustomize output when the directory has a kustomization file, else every
 * plain manifest under it. Throws FledgeError BuildFailed naming the file and document for a bad object,
 * both origins for a duplicate (same group, kind, namespace and name), or kubectl's error output.
 */
export const buildManifests = async (opts: BuildOptions): Promise<KubeObject[]> => (await buildDocuments(opts)).map((d) => d.object);
