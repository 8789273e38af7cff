/**
 * Fetching a GitRepository's revision with the git CLI into a cache directory the source owns. The
 * directory is initialised once and then only fetched into (shallow where the ref allows), so a poll that
 * finds nothing new transfers almost nothing; a changed URL starts the cache afresh.
 *
 * Revisions read exactly as Flux's source-controller writes them: `main@sha1:<hex>` for a branch,
 * `v1.0.0@sha1:<hex>` for a tag or a semver range, `refs/heads/main@sha1:<hex>` for a ref name,
 * `sha1:<hex>` for a bare commit, `<branch>@sha1:<hex>` for a commit within a branch. With no ref at all
 * the branch is `master`, as in Flux.
 *
 * Credentials never reach argv or the URL: a password is handed to git through GIT_ASKPASS (a helper that
 * echoes an environment variable of the git process only) and an SSH key through a 0600 temporary file
 * named in GIT_SSH_COMMAND; both are removed when the call ends. Error messages have secrets redacted.
 *
 * Calls for the same `dir` must not overlap; the reconciler runs one per source at a time.
 */
import { chmod, mkdir, mkdtemp, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FledgeError } from '../api/index.js';
import type { RunCommand, RunResult } from './exec.js';
import { isCommandError } from './exec.js';
import { highestMatching } from './semver.js';

import type { GitRef } from './types.js';

export type { GitRef };

export type GitAuth = { username: string; password: string } | { sshPrivateKey: string; knownHosts?: string };

export interface FetchGitOptions {
  url: string;
  ref: GitRef;
  /** A cache directory owned by this source; created when missing. */
  dir: string;
  run: RunCommand;
  auth?: GitAuth;
  /** Per git command; Flux's default GitRepository timeout is 60s. */
  timeoutMs?: number;
}

export interface GitRevision {
  /** Flux's revision string, e.g. `main@sha1:<40 hex>`. */
  revision: string;
  /** The checked-out work tree (the cache directory). */
  dir: string;
  /** The full commit SHA checked out. */
  commit: string;
}

const DEFAULT_TIMEOUT_MS = 60_000;

/** How the ref is described in messages, in Flux's precedence order: commit, name, semver, tag, branch. */
const describeRef = (ref: GitRef): string => {
  if (ref.commit) return ref.branch ? `commit "${ref.commit}" on branch "${ref.branch}"` : `commit "${ref.commit}"`;
  if (ref.name) return `ref "${ref.name}"`;
  if (ref.semver) return `semver "${ref.semver}"`;
  if (ref.tag) return `tag "${ref.tag}"`;
  return `branch "${ref.branch ?? 'master'}"`;
};

/** Refuses values git would read as options or that cannot be ref names, before they reach argv. */
const checkArg = (what: string, value: string): void => {
  // eslint-disable-next-line no-control-regex
  if (value.startsWith('-') || /[\s\x00-\x1f\x7f]/.test(value)) {
    throw new FledgeError('GitOperationFailed', `${what} "${value}" is not valid: it must not start with "-" or contain whitespace or control characters`);
  }
};

/** Hides a URL's password and any literal secret in text from git. */
const redactor =
  (secrets: string[]) =>
  (text: string): string => {
    let out = text.replace(/([a-z][a-z0-9+.-]*:\/\/[^/:@\s]+):[^@\s/]*@/gi, '$1:***@');
    for (const s of secrets) if (s.length > 0) out = out.split(s).join('***');
    return out;
  };

interface Session {
  /** `<url> (branch "main")`, redacted, for messages. */
  subject: string;
  git(args: string[], what: string, allowFail?: boolean): Promise<RunResult>;
  cleanup(): Promise<void>;
}

const exists = async (p: string): Promise<boolean> => stat(p).then(
  () => true,
  () => false,
);

/** The temporary credential files and the environment that hands them to git. */
const prepareAuth = async (auth: GitAuth | undefined): Promise<{ env: Record<string, string>; tmp?: string; secrets: string[] }> => {
  // Never prompt: a missing or wrong credential must fail, not hang the reconciler.
  const env: Record<string, string> = { GIT_TERMINAL_PROMPT: '0' };
  if (!auth) return { env, secrets: [] };
  const tmp = await mkdtemp(join(tmpdir(), 'fledge-git-'));
  await chmod(tmp, 0o700);
  if ('password' in auth) {
    const helper = join(tmp, 'askpass.sh');
    // git asks "Username for ..." then "Password for ..."; the answers come from this process's env only.
    await writeFile(helper, '#!/bin/sh\ncase "$1" in\n  Username*) printf \'%s\\n\' "$FLEDGE_GIT_USERNAME" ;;\n  *) printf \'%s\\n\' "$FLEDGE_GIT_PASSWORD" ;;\nesac\n', { mode: 0o700 });
    Object.assign(env, { GIT_ASKPASS: helper, FLEDGE_GIT_USERNAME: auth.username, FLEDGE_GIT_PASSWORD: auth.password });
    return { env, tmp, secrets: [auth.password] };
  }
  const key = join(tmp, 'identity');
  const knownHosts = join(tmp, 'known_hosts');
  await writeFile(key, auth.sshPrivateKey.endsWith('\n') ? auth.sshPrivateKey : `${auth.sshPrivateKey}\n`, { mode: 0o600 });
  await writeFile(knownHosts, auth.knownHosts ?? '', { mode: 0o600 });
  // Without known_hosts the first key seen is accepted (the file is fresh each call): weaker, and the
  // caller is expected to pass known_hosts as Flux requires.
  const hostCheck = auth.knownHosts ? 'yes' : 'accept-new';
  const q = (p: string) => `'${p.replace(/'/g, `'\\''`)}'`;
  env.GIT_SSH_COMMAND = `ssh -F /dev/null -i ${q(key)} -o IdentitiesOnly=yes -o BatchMode=yes -o UserKnownHostsFile=${q(knownHosts)} -o StrictHostKeyChecking=${hostCheck}`;
  return { env, tmp, secrets: [] };
};

const openSession = async (opts: FetchGitOptions): Promise<Session> => {
  const { env, tmp, secrets } = await prepareAuth(opts.auth);
  const redact = redactor(secrets);
  const timeoutMs = opts.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const subject = `${redact(opts.url)} (${describeRef(opts.ref)})`;
  return {
    subject,
    async git(args, what, allowFail = false) {
      // An empty credential.helper list: no helper of the host may store or supply our password.
      const argv = ['-c', 'credential.helper=', '-c', 'advice.detachedHead=false', ...args];
      let result: RunResult;
      try {
        result = await opts.run('git', argv, { cwd: opts.dir, env, timeoutMs });
      } catch (e) {
        if (isCommandError(e, 'NotFound')) throw new FledgeError('GitOperationFailed', `git is not installed: install git or put it on PATH to fetch ${subject}`);
        if (isCommandError(e, 'TimedOut')) throw new FledgeError('GitOperationFailed', `${what} for ${subject} timed out after ${timeoutMs}ms`);
        throw new FledgeError('GitOperationFailed', `${what} for ${subject} failed: ${redact((e as Error).message)}`);
      }
      if (result.code !== 0 && !allowFail) {
        // One line, as it lands in a status condition message.
        const output = (result.stderr.trim() || result.stdout.trim()).split(/\s*\n\s*/).filter(Boolean).join(' ');
        const detail = redact(output || `exit code ${result.code}`);
        throw new FledgeError('GitOperationFailed', `${what} for ${subject} failed: ${detail}`);
      }
      return result;
    },
    async cleanup() {
      if (tmp) await rm(tmp, { recursive: true, force: true });
    },
  };
};

/** A cache directory holding a repository of `url`: reused, or (re)initialised when new or for another URL. */
const prepareDir = async (opts: FetchGitOptions, s: Session): Promise<void> => {
  if (await exists(join(opts.dir, '.git'))) {
    const origin = await s.git(['config', '--get', 'remote.origin.url'], 'reading the cache', true);
    if (origin.code === 0 && origin.stdout.trim() === opts.url) return;
    await rm(opts.dir, { recursive: true, force: true });
  } else if ((await exists(opts.dir)) && (await readdir(opts.dir)).length > 0) {
    // Not ours to wipe: a misconfigured cache path must not delete someone's files.
    throw new FledgeError('GitOperationFailed', `cache directory ${opts.dir} is not empty and holds no Git repository; refusing to use it`);
  }
  await mkdir(opts.dir, { recursive: true });
  await s.git(['init', '--quiet'], 'git init');
  await s.git(['remote', 'add', 'origin', opts.url], 'git remote add');
};

const isShallow = async (s: Session): Promise<boolean> =>
  (await s.git(['rev-parse', '--is-shallow-repository'], 'git rev-parse', true)).stdout.trim() === 'true';

/** Fetches refs with their whole history (needed to find a commit that is not a tip). */
const fetchFull = async (s: Session, refspecs: string[]): Promise<void> => {
  const unshallow = (await isShallow(s)) ? ['--unshallow'] : [];
  await s.git(['fetch', '--quiet', '--no-tags', '--force', ...unshallow, 'origin', ...refspecs], 'git fetch');
};

const fetchTip = async (s: Session, ref: string): Promise<string> => {
  await s.git(['fetch', '--quiet', '--depth=1', '--no-tags', '--force', 'origin', ref], 'git fetch');
  return (await s.git(['rev-parse', '--verify', 'FETCH_HEAD^{commit}'], 'git rev-parse')).stdout.trim();
};

const resolveSemver = async (s: Session, range: string, subject: string): Promise<string> => {
  const listed = await s.git(['ls-remote', '--tags', '--refs', 'origin'], 'git ls-remote');
  const tags = listed.stdout
    .split('\n')
    .map((line) => line.split('\t')[1] ?? '')
    .filter((r) => r.startsWith('refs/tags/'))
    .map((r) => r.slice('refs/tags/'.length));
  let tag: string | undefined;
  try {
    tag = highestMatching(tags, range);
  } catch (e) {
    throw new FledgeError('GitOperationFailed', `semver range "${range}" of ${subject} is invalid: ${(e as Error).message}`);
  }
  if (!tag) throw new FledgeError('GitOperationFailed', `no tag of ${subject} matches semver "${range}" (tags: ${tags.slice(0, 20).join(', ') || 'none'})`);
  return tag;
};

/** Resolves the ref to a commit in the cache (fetching what is needed) and returns it with Flux's label. */
const resolve = async (opts: FetchGitOptions, s: Session): Promise<{ commit: string; label?: string }> => {
  const { ref } = opts;
  const { subject } = s;
  if (ref.commit) {
    const sha = ref.commit.toLowerCase();
    if (!/^[0-9a-f]{4,40}$/.test(sha)) throw new FledgeError('GitOperationFailed', `commit "${ref.commit}" of ${subject} is not a hexadecimal SHA`);
    if (ref.branch) {
      checkArg('branch', ref.branch);
      await fetchFull(s, [`refs/heads/${ref.branch}`]);
    } else {
      // Most servers serve a full SHA directly; otherwise (or for a short SHA) fetch every branch and tag.
      const direct = sha.length === 40 ? await s.git(['fetch', '--quiet', '--depth=1', '--no-tags', 'origin', sha], 'git fetch', true) : undefined;
      if (direct?.code !== 0) await fetchFull(s, ['+refs/heads/*:refs/remotes/origin/*', '+refs/tags/*:refs/tags/*']);
    }
    const found = await s.git(['rev-parse', '--verify', '--quiet', `${sha}^{commit}`], 'git rev-parse', true);
    const commit = found.stdout.trim();
    if (found.code !== 0 || !commit) throw new FledgeError('GitOperationFailed', `${subject}: commit not found in the repository`);
    if (ref.branch) {
      const inBranch = await s.git(['merge-base', '--is-ancestor', commit, 'FETCH_HEAD'], 'git merge-base', true);
      if (inBranch.code !== 0) throw new FledgeError('GitOperationFailed', `${subject}: the commit is not on branch "${ref.branch}"`);
    }
    return { commit, ...(ref.branch ? { label: ref.branch } : {}) };
  }
  if (ref.name) {
    checkArg('ref name', ref.name);
    // Flux labels a ref name with the full name (refs/heads/main@sha1:...).
    return { commit: await fetchTip(s, ref.name), label: ref.name };
  }
  if (ref.semver) {
    const tag = await resolveSemver(s, ref.semver, subject);
    return { commit: await fetchTip(s, `refs/tags/${tag}`), label: tag };
  }
  if (ref.tag) {
    checkArg('tag', ref.tag);
    return { commit: await fetchTip(s, `refs/tags/${ref.tag}`), label: ref.tag };
  }
  const branch = ref.branch ?? 'master';
  checkArg('branch', branch);
  return { commit: await fetchTip(s, `refs/heads/${branch}`), label: branch };
};

export const fetchGitRevision = async (opts: FetchGitOptions): Promise<GitRevision> => {
  // eslint-disable-next-line no-control-regex
  if (opts.url.startsWith('-') || /[\s\x00-\x1f\x7f]/.test(opts.url)) {
    throw new FledgeError('GitOperationFailed', `the repository URL ${redactor([])(opts.url)} is not valid: it must not start with "-" or contain whitespace`);
  }
  const s = await openSession(opts);
  try {
    await prepareDir(opts, s);
    const { commit, label } = await resolve(opts, s);
    await s.git(['checkout', '--quiet', '--force', '--detach', commit], 'git checkout');
    // Files a previous revision's build left behind must not leak into this one.
    await s.git(['clean', '-ffdxq'], 'git clean');
    return { revision: label ? `${label}@sha1:${commit}` : `sha1:${commit}`, dir: opts.dir, commit };
  } finally {
    await s.cleanup();
  }
};
