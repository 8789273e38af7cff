/** Git and local-directory sources: real repositories made with git in a temporary directory. */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { cp, mkdir, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { isFledgeError } from '../../src/api/index.js';
import type { RunCommand, RunOptions } from '../../src/reconciler/exec.js';
import { CommandError, createRunCommand, isCommandError } from '../../src/reconciler/exec.js';
import { directoryRevision } from '../../src/reconciler/source-dir.js';
import { highestMatching } from '../../src/reconciler/semver.js';
import { fetchGitRevision } from '../../src/reconciler/source-git.js';

let tmp: string;
let run: RunCommand;
let work: string; // a working repository the tests commit to
let bare: string; // the bare repository fetched from, as a file:// URL
let url: string;

const git = async (cwd: string, ...args: string[]): Promise<string> => {
  const r = await run('git', args, { cwd });
  assert.equal(r.code, 0, `git ${args.join(' ')}: ${r.stderr}`);
  return r.stdout.trim();
};

const commitFile = async (file: string, content: string, message: string): Promise<string> => {
  await mkdir(join(work, file, '..'), { recursive: true });
  await writeFile(join(work, file), content);
  await git(work, 'add', '-A');
  await git(work, 'commit', '-q', '-m', message);
  return git(work, 'rev-parse', 'HEAD');
};

const push = () => git(work, 'push', '-q', '--force', 'origin', 'main', '--tags');

const rejectsWith = async (p: Promise<unknown>, pattern: RegExp): Promise<Error> => {
  try {
    await p;
  } catch (e) {
    assert.ok(isFledgeError(e, 'GitOperationFailed'), `expected GitOperationFailed, got ${String(e)}`);
    assert.match(e.message, pattern);
    return e;
  }
  assert.fail('expected a rejection');
};

before(async () => {
  tmp = await mkdtemp(join(tmpdir(), 'fledge-source-test-'));
  const home = join(tmp, 'home');
  await mkdir(home);
  // A machine with no git configuration: identity from the environment, no system or global config.
  run = createRunCommand({
    PATH: process.env.PATH,
    HOME: home,
    GIT_CONFIG_NOSYSTEM: '1',
    GIT_AUTHOR_NAME: 'Fledge Test',
    GIT_AUTHOR_EMAIL: 'test@fledge.invalid',
    GIT_COMMITTER_NAME: 'Fledge Test',
    GIT_COMMITTER_EMAIL: 'test@fledge.invalid',
  });
  work = join(tmp, 'work');
  bare = join(tmp, 'origin.git');
  url = `file://${bare}`;
  await git(tmp, 'init', '-q', '--bare', '-b', 'main', bare);
  await git(tmp, 'init', '-q', '-b', 'main', work);
  await git(work, 'remote', 'add', 'origin', bare);
  await commitFile('deploy/app.yaml', 'kind: ConfigMap\n', 'first');
  await git(work, 'tag', '-a', 'v1.0.0', '-m', 'release 1.0.0');
  await commitFile('deploy/app.yaml', 'kind: ConfigMap # 1.1\n', 'second');
  await git(work, 'tag', 'v1.1.0');
  await commitFile('deploy/app.yaml', 'kind: ConfigMap # rc\n', 'third');
  await git(work, 'tag', 'v2.0.0-rc.1');
  await push();
  await git(work, 'push', '-q', 'origin', 'main:master');
});

after(async () => {
  await rm(tmp, { recursive: true, force: true });
});

describe('fetchGitRevision', () => {
  test('a branch is fetched into the cache and labelled like Flux', async () => {
    const head = await git(work, 'rev-parse', 'HEAD');
    const dir = join(tmp, 'cache-branch');
    const r = await fetchGitRevision({ url, ref: { branch: 'main' }, dir, run });
    assert.deepEqual(r, { revision: `main@sha1:${head}`, dir, commit: head });
    assert.match(r.revision, /^main@sha1:[0-9a-f]{40}$/);
    assert.equal(await readFile(join(dir, 'deploy/app.yaml'), 'utf8'), 'kind: ConfigMap # rc\n');
  });

  test('with no ref the branch is master, as in Flux', async () => {
    const master = await git(work, 'rev-parse', 'HEAD');
    const r = await fetchGitRevision({ url, ref: {}, dir: join(tmp, 'cache-default'), run });
    assert.equal(r.revision, `master@sha1:${master}`);
  });

  test('an annotated tag resolves to its commit', async () => {
    const tagged = await git(work, 'rev-parse', 'v1.0.0^{commit}');
    const tagObject = await git(work, 'rev-parse', 'v1.0.0');
    assert.notEqual(tagged, tagObject, 'the fixture tag is annotated');
    const dir = join(tmp, 'cache-tag');
    const r = await fetchGitRevision({ url, ref: { tag: 'v1.0.0' }, dir, run });
    assert.equal(r.revision, `v1.0.0@sha1:${tagged}`);
    assert.equal(r.commit, tagged);
    assert.equal(await readFile(join(dir, 'deploy/app.yaml'), 'utf8'), 'kind: ConfigMap\n');
  });

  test('a commit is labelled sha1:<hex>, or <branch>@sha1:<hex> within a branch', async () => {
    const first = await git(work, 'rev-list', '--max-parents=0', 'HEAD');
    const bareCommit = await fetchGitRevision({ url, ref: { commit: first }, dir: join(tmp, 'cache-commit'), run });
    assert.equal(bareCommit.revision, `sha1:${first}`);
    assert.equal(await readFile(join(tmp, 'cache-commit', 'deploy/app.yaml'), 'utf8'), 'kind: ConfigMap\n');
    const onBranch = await fetchGitRevision({ url, ref: { branch: 'main', commit: first }, dir: join(tmp, 'cache-commit-branch'), run });
    assert.equal(onBranch.revision, `main@sha1:${first}`);
    const short = await fetchGitRevision({ url, ref: { commit: first.slice(0, 10) }, dir: join(tmp, 'cache-commit-short'), run });
    assert.equal(short.revision, `sha1:${first}`, 'a short SHA is expanded');
  });

  test('a ref name is labelled with the full name', async () => {
    const head = await git(work, 'rev-parse', 'HEAD');
    const r = await fetchGitRevision({ url, ref: { name: 'refs/heads/main' }, dir: join(tmp, 'cache-name'), run });
    assert.equal(r.revision, `refs/heads/main@sha1:${head}`);
  });

  test('a semver range picks the highest matching release tag', async () => {
    const v110 = await git(work, 'rev-parse', 'v1.1.0^{commit}');
    const r = await fetchGitRevision({ url, ref: { semver: '^1.0' }, dir: join(tmp, 'cache-semver'), run });
    assert.equal(r.revision, `v1.1.0@sha1:${v110}`);
    const pre = await fetchGitRevision({ url, ref: { semver: '>=2.0.0-rc.0' }, dir: join(tmp, 'cache-semver-pre'), run });
    assert.match(pre.revision, /^v2\.0\.0-rc\.1@sha1:/, 'a range naming a pre-release admits pre-releases');
    await rejectsWith(fetchGitRevision({ url, ref: { semver: '>=3' }, dir: join(tmp, 'cache-semver-none'), run }), /no tag .* matches semver ">=3"/);
  });

  test('a later fetch follows a new commit without cloning again', async () => {
    const dir = join(tmp, 'cache-follow');
    const first = await fetchGitRevision({ url, ref: { branch: 'main' }, dir, run });
    // A file in the cache's .git survives only if the cache is fetched into, not re-cloned.
    await writeFile(join(dir, '.git', 'fledge-marker'), 'kept');
    const unchanged = await fetchGitRevision({ url, ref: { branch: 'main' }, dir, run });
    assert.equal(unchanged.revision, first.revision);
    await git(work, 'rm', '-q', 'deploy/app.yaml');
    const next = await commitFile('deploy/other.yaml', 'kind: Secret\n', 'fourth');
    await push();
    const second = await fetchGitRevision({ url, ref: { branch: 'main' }, dir, run });
    assert.equal(second.revision, `main@sha1:${next}`);
    assert.notEqual(second.revision, first.revision);
    assert.equal(await readFile(join(dir, '.git', 'fledge-marker'), 'utf8'), 'kept');
    assert.equal(existsSync(join(dir, 'deploy/app.yaml')), false, 'a file deleted upstream is gone');
    assert.equal(await readFile(join(dir, 'deploy/other.yaml'), 'utf8'), 'kind: Secret\n');
  });

  test('a changed URL starts the cache afresh', async () => {
    const dir = join(tmp, 'cache-moved');
    await fetchGitRevision({ url, ref: { branch: 'main' }, dir, run });
    await writeFile(join(dir, '.git', 'fledge-marker'), 'old');
    const copy = join(tmp, 'moved.git');
    await cp(bare, copy, { recursive: true });
    const r = await fetchGitRevision({ url: `file://${copy}`, ref: { branch: 'main' }, dir, run });
    assert.match(r.revision, /^main@sha1:/);
    assert.equal(existsSync(join(dir, '.git', 'fledge-marker')), false);
    assert.equal(await git(dir, 'config', '--get', 'remote.origin.url'), `file://${copy}`);
  });

  test('a missing branch, tag or commit fails with GitOperationFailed naming the ref', async () => {
    await rejectsWith(fetchGitRevision({ url, ref: { branch: 'no-such-branch' }, dir: join(tmp, 'cache-bad1'), run }), /branch "no-such-branch".*no-such-branch/s);
    await rejectsWith(fetchGitRevision({ url, ref: { tag: 'v9.9.9' }, dir: join(tmp, 'cache-bad2'), run }), /tag "v9\.9\.9"/);
    await rejectsWith(fetchGitRevision({ url, ref: { commit: 'f'.repeat(40) }, dir: join(tmp, 'cache-bad3'), run }), /commit "f{40}".*not found/);
    await rejectsWith(fetchGitRevision({ url, ref: { branch: '--upload-pack=evil' }, dir: join(tmp, 'cache-bad4'), run }), /must not start with "-"/);
  });

  test('a non-empty directory that is not a repository is never wiped', async () => {
    const dir = join(tmp, 'not-a-cache');
    await mkdir(dir);
    await writeFile(join(dir, 'precious.txt'), 'keep me');
    await rejectsWith(fetchGitRevision({ url, ref: {}, dir, run }), /refusing/);
    assert.equal(await readFile(join(dir, 'precious.txt'), 'utf8'), 'keep me');
  });
});

/**
 * Git's smart HTTP protocol on loopback behind basic auth: `git http-backend` run as a CGI per request, the
 * way a real Git server (or nginx + fcgiwrap) would serve it.
 */
const gitHttpServer = async (projectRoot: string, user: string, password: string) => {
  const expected = `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;
  const server = createServer((req, res) => {
    if (req.headers.authorization !== expected) {
      res.writeHead(401, { 'WWW-Authenticate': 'Basic realm="git"' }).end();
      return;
    }
    const u = new URL(req.url ?? '/', 'http://127.0.0.1');
    const header = (name: string) => String(req.headers[name] ?? '');
    const cgi = spawn('git', ['http-backend'], {
      env: {
        PATH: process.env.PATH,
        GIT_CONFIG_NOSYSTEM: '1',
        HOME: projectRoot,
        GIT_PROJECT_ROOT: projectRoot,
        GIT_HTTP_EXPORT_ALL: '1',
        REMOTE_USER: user,
        REQUEST_METHOD: req.method ?? 'GET',
        PATH_INFO: decodeURIComponent(u.pathname),
        QUERY_STRING: u.search.slice(1),
        CONTENT_TYPE: header('content-type'),
        HTTP_CONTENT_ENCODING: header('content-encoding'),
        GIT_PROTOCOL: header('git-protocol'),
        ...(req.headers['content-length'] ? { CONTENT_LENGTH: header('content-length') } : {}),
      },
    });
    const out: Buffer[] = [];
    cgi.stdout.on('data', (c: Buffer) => out.push(c));
    req.pipe(cgi.stdin);
    cgi.on('close', () => {
      const raw = Buffer.concat(out);
      const split = raw.indexOf('\r\n\r\n');
      const headers: Record<string, string> = {};
      let status = 200;
      for (const line of raw.subarray(0, split).toString().split('\r\n')) {
        const [k = '', ...v] = line.split(': ');
        if (k.toLowerCase() === 'status') status = Number.parseInt(v.join(': '), 10);
        else headers[k] = v.join(': ');
      }
      res.writeHead(status, headers).end(raw.subarray(split + 4));
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, close: () => new Promise<void>((r) => server.close(() => r())) };
};

describe('credentials', () => {
  test('basic auth over HTTP works through GIT_ASKPASS, never through argv', async () => {
    const password = 'pa55-w0rd-over-http';
    const server = await gitHttpServer(tmp, 'bot', password);
    try {
      const argvs: string[][] = [];
      const recording: RunCommand = (cmd, args, opts) => {
        argvs.push([cmd, ...args]);
        return run(cmd, args, opts);
      };
      const head = await git(work, 'rev-parse', 'HEAD');
      const httpUrl = `${server.url}/origin.git`;
      const r = await fetchGitRevision({ url: httpUrl, ref: { branch: 'main' }, dir: join(tmp, 'cache-http'), run: recording, auth: { username: 'bot', password } });
      assert.equal(r.revision, `main@sha1:${head}`);
      assert.ok(argvs.length > 2);
      for (const argv of argvs) assert.equal(argv.join(' ').includes(password), false, `argv: ${argv.join(' ')}`);
      assert.equal((await readFile(join(tmp, 'cache-http', '.git', 'config'), 'utf8')).includes(password), false, 'not stored in the cache either');

      const wrong = await rejectsWith(
        fetchGitRevision({ url: httpUrl, ref: { branch: 'main' }, dir: join(tmp, 'cache-http-wrong'), run, auth: { username: 'bot', password: 'wrong-secret' } }),
        /git fetch for http:\/\/127\.0\.0\.1:\d+\/origin\.git \(branch "main"\) failed: .*Authentication failed/,
      );
      assert.equal(wrong.message.includes('wrong-secret'), false);
      // Without credentials git must fail at once rather than wait for a prompt.
      await rejectsWith(fetchGitRevision({ url: httpUrl, ref: { branch: 'main' }, dir: join(tmp, 'cache-http-none'), run }), /failed: .*(Authentication failed|could not read Username)/);
    } finally {
      await server.close();
    }
  });

  /** A fake git: init and remote succeed, fetch fails like a server that refused us. */
  const fakeGit = (onFetch: (args: string[], opts: RunOptions) => Promise<string>): { run: RunCommand; calls: Array<{ args: string[]; opts: RunOptions }> } => {
    const calls: Array<{ args: string[]; opts: RunOptions }> = [];
    return {
      calls,
      run: async (_cmd, args, opts) => {
        calls.push({ args, opts });
        if (args.includes('fetch')) return { stdout: '', stderr: await onFetch(args, opts), code: 128 };
        if (args.includes('init')) await mkdir(join(opts.cwd!, '.git'), { recursive: true });
        return { stdout: '', stderr: '', code: 0 };
      },
    };
  };

  test('a password reaches git only through GIT_ASKPASS, and is redacted from errors', async () => {
    const password = 's3cr3t-pa55';
    let answered = '';
    let helperPath = '';
    const fake = fakeGit(async (_args, opts) => {
      helperPath = opts.env!.GIT_ASKPASS!;
      // Run the real helper the way git would, to prove it answers with the password.
      const asked = await run(helperPath, [`Password for 'https://bot@git.example': `], { env: opts.env! });
      answered = asked.stdout;
      return `fatal: Authentication failed for 'https://bot:${password}@git.example/repo.git/'`;
    });
    const e = await rejectsWith(
      fetchGitRevision({ url: 'https://git.example/repo.git', ref: { branch: 'main' }, dir: join(tmp, 'cache-auth'), run: fake.run, auth: { username: 'bot', password } }),
      /Authentication failed/,
    );
    assert.equal(answered, `${password}\n`);
    assert.equal(e.message.includes(password), false, e.message);
    assert.match(e.message, /https:\/\/bot:\*\*\*@git\.example/);
    for (const c of fake.calls) assert.equal(c.args.join(' ').includes(password), false, 'never in argv');
    assert.ok(fake.calls.every((c) => c.args.includes('credential.helper=')), 'host credential helpers are switched off');
    assert.equal(fake.calls[0]!.opts.env!.GIT_TERMINAL_PROMPT, '0');
    assert.equal(existsSync(helperPath), false, 'the helper is removed afterwards');
  });

  test('a password in the URL is redacted from errors', async () => {
    const fake = fakeGit(async () => "fatal: unable to access 'https://u:hunter2@git.example/r.git/': refused");
    const e = await rejectsWith(fetchGitRevision({ url: 'https://u:hunter2@git.example/r.git', ref: {}, dir: join(tmp, 'cache-url-auth'), run: fake.run }), /refused/);
    assert.equal(e.message.includes('hunter2'), false, e.message);
  });

  test('an SSH key is a 0600 file for the duration of the call only', async () => {
    let keyPath = '';
    let mode = 0;
    let keyText = '';
    let sshCommand = '';
    const fake = fakeGit(async (_args, opts) => {
      sshCommand = opts.env!.GIT_SSH_COMMAND!;
      keyPath = /-i '([^']+)'/.exec(sshCommand)![1]!;
      mode = (await stat(keyPath)).mode & 0o777;
      keyText = await readFile(keyPath, 'utf8');
      return 'Permission denied (publickey).';
    });
    const key = '-----BEGIN OPENSSH PRIVATE KEY-----\nAAAA\n-----END OPENSSH PRIVATE KEY-----';
    await rejectsWith(
      fetchGitRevision({ url: 'ssh://git@git.example/repo.git', ref: { tag: 'v1' }, dir: join(tmp, 'cache-ssh'), run: fake.run, auth: { sshPrivateKey: key, knownHosts: 'git.example ssh-ed25519 AAAA' } }),
      /Permission denied.*|tag "v1"/s,
    );
    assert.equal(mode, 0o600);
    assert.equal(keyText, `${key}\n`);
    assert.match(sshCommand, /StrictHostKeyChecking=yes/);
    assert.match(sshCommand, /UserKnownHostsFile=/);
    assert.equal(existsSync(keyPath), false, 'the key file is removed afterwards');
  });

  test('a missing git binary says so', async () => {
    const missing: RunCommand = async (cmd) => {
      throw new CommandError('NotFound', cmd, `${cmd}: command not found`);
    };
    await rejectsWith(fetchGitRevision({ url, ref: {}, dir: join(tmp, 'cache-nogit'), run: missing }), /git is not installed/);
  });
});

describe('createRunCommand', () => {
  test('passes input, merges the environment, and reports the exit code without throwing', async () => {
    const runner = createRunCommand({ PATH: process.env.PATH, A: 'base', B: 'base' });
    const r = await runner('sh', ['-c', 'cat; echo "$A-$B" >&2; exit 3'], { input: 'piped', env: { B: 'call' } });
    assert.deepEqual(r, { stdout: 'piped', stderr: 'base-call\n', code: 3 });
  });

  test('arguments are never interpreted by a shell', async () => {
    const r = await run('echo', ['$(id)', '; rm -rf /', '`x`'], {});
    assert.equal(r.stdout, '$(id) ; rm -rf / `x`\n');
  });

  test('a missing binary and a timeout are CommandErrors with their reason', async () => {
    await assert.rejects(run(join(tmp, 'no-such-tool'), [], {}), (e: unknown) => isCommandError(e, 'NotFound'));
    await assert.rejects(run('sleep', ['30'], { timeoutMs: 50 }), (e: unknown) => isCommandError(e, 'TimedOut') && /timed out after 50ms/.test(e.message));
  });
});

describe('semver ranges', () => {
  const tags = ['v0.1.0', 'v0.1.5', 'v0.2.0', '1.0.0', 'v1.2.3', 'v1.2.9', 'v1.3.0', 'v1.10.0', 'v2.0.0-rc.1', 'v2.0.0', 'v2.1.0-beta', 'latest', 'release-3'];
  const cases: Array<[string, string | undefined]> = [
    ['*', 'v2.0.0'],
    ['^1.2.3', 'v1.10.0'],
    ['~1.2.3', 'v1.2.9'],
    ['~1.2', 'v1.2.9'],
    ['1.2.x', 'v1.2.9'],
    ['^0.1.0', 'v0.1.5'],
    ['>=1.0.0 <1.3.0', 'v1.2.9'],
    ['>=1.0.0, <1.3.0', 'v1.2.9'],
    ['<1.0.0 || >=2.0.0 <2.0.1', 'v2.0.0'],
    ['1.2 - 1.3', 'v1.3.0'],
    ['>1.2', 'v2.0.0'],
    ['<=1.2', 'v1.2.9'],
    ['!=2.0.0', 'v1.10.0'],
    ['>=2.0.0-alpha', 'v2.1.0-beta'],
    ['>=3.0.0', undefined],
  ];
  for (const [range, want] of cases) test(`${range} -> ${want ?? 'none'}`, () => assert.equal(highestMatching(tags, range), want));
  test('a malformed range is an error', () => assert.throws(() => highestMatching(tags, '>=one')));
});

describe('directoryRevision', () => {
  test('is a sha256 digest that changes with content and paths, not otherwise', async () => {
    const dir = join(tmp, 'local');
    await mkdir(join(dir, 'deploy'), { recursive: true });
    await writeFile(join(dir, 'deploy', 'a.yaml'), 'kind: ConfigMap\n');
    await writeFile(join(dir, 'b.yaml'), 'kind: Secret\n');
    const r1 = await directoryRevision(dir);
    assert.match(r1, /^sha256:[0-9a-f]{64}$/);
    assert.equal(await directoryRevision(dir), r1, 'stable across runs');

    await mkdir(join(dir, '.git'));
    await writeFile(join(dir, '.git', 'HEAD'), 'ref: refs/heads/main\n');
    assert.equal(await directoryRevision(dir), r1, '.git is not content');

    await writeFile(join(dir, 'deploy', 'a.yaml'), 'kind: ConfigMap # changed\n');
    const r2 = await directoryRevision(dir);
    assert.notEqual(r2, r1);

    await writeFile(join(dir, 'deploy', 'a.yaml'), 'kind: ConfigMap\n');
    assert.equal(await directoryRevision(dir), r1, 'restoring the content restores the revision');

    await rm(join(dir, 'b.yaml'));
    await writeFile(join(dir, 'c.yaml'), 'kind: Secret\n');
    assert.notEqual(await directoryRevision(dir), r1, 'a rename is a change');
  });

  test('a missing directory is an ArtifactFailed error naming it', async () => {
    await assert.rejects(directoryRevision(join(tmp, 'nowhere')), (e: unknown) => isFledgeError(e, 'ArtifactFailed') && /nowhere/.test(e.message));
  });
});
