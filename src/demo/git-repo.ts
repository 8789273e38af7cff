/**
 * The demo's Git remote: a bare repository and a working clone on local disk. The reconciler fetches
 * the bare one over file://, exactly as it would fetch a hosted repository over https.
 */
import { execFileSync } from 'node:child_process';
import { cpSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export interface DemoRepo {
  /** file:// URL of the bare repository. */
  readonly url: string;
  readonly workDir: string;
  /** Edits a file of the working copy with `edit`, commits everything and pushes; returns the short SHA. */
  commit(message: string, edits?: Record<string, (text: string) => string>): string;
}

export const createDemoRepo = (root: string, seedDir: string, subPath: string, env: Readonly<Record<string, string | undefined>>): DemoRepo => {
  const origin = join(root, 'origin.git');
  const work = join(root, 'work');
  // A machine without a global git identity must still be able to commit.
  const gitEnv = {
    ...env,
    GIT_CONFIG_NOSYSTEM: '1',
    GIT_AUTHOR_NAME: 'Fledge demo',
    GIT_AUTHOR_EMAIL: 'demo@fledge.invalid',
    GIT_COMMITTER_NAME: 'Fledge demo',
    GIT_COMMITTER_EMAIL: 'demo@fledge.invalid',
  };
  const git = (args: string[], cwd = work): string => execFileSync('git', args, { cwd, env: gitEnv as NodeJS.ProcessEnv, encoding: 'utf8' }).trim();
  mkdirSync(root, { recursive: true });
  git(['init', '-q', '--bare', '-b', 'main', origin], root);
  git(['init', '-q', '-b', 'main', work], root);
  git(['remote', 'add', 'origin', origin]);
  mkdirSync(join(work, subPath), { recursive: true });
  cpSync(seedDir, join(work, subPath), { recursive: true });
  return {
    url: `file://${origin}`,
    workDir: work,
    commit(message, edits = {}) {
      for (const [file, edit] of Object.entries(edits)) {
        const path = join(work, file);
        writeFileSync(path, edit(readFileSync(path, 'utf8')));
      }
      git(['add', '-A']);
      git(['commit', '-q', '--allow-empty', '-m', message]);
      git(['push', '-q', 'origin', 'main']);
      return git(['rev-parse', '--short', 'HEAD']);
    },
  };
};
