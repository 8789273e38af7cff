/** Test support: a bare Git origin and a working clone on local disk, committed to with the real git CLI. */
import { execFileSync } from 'node:child_process';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

const GIT_ENV = { GIT_CONFIG_NOSYSTEM: '1', GIT_AUTHOR_NAME: 'test', GIT_AUTHOR_EMAIL: 't@example.com', GIT_COMMITTER_NAME: 'test', GIT_COMMITTER_EMAIL: 't@example.com' };

/** A bare origin and a working clone; `commit` writes files (null deletes) and pushes, returning the SHA. */
export const gitRepo = (root: string) => {
  const origin = join(root, 'origin.git');
  const work = join(root, 'work');
  const git = (args: string[], cwd = work) => execFileSync('git', args, { cwd, env: { ...process.env, ...GIT_ENV, HOME: root }, encoding: 'utf8' }).trim();
  git(['init', '-q', '--bare', '-b', 'main', origin], root);
  git(['init', '-q', '-b', 'main', work], root);
  git(['remote', 'add', 'origin', origin]);
  return {
    url: `file://${origin}`,
    commit(files: Record<string, string | null>, message: string): string {
      for (const [path, content] of Object.entries(files)) {
        const full = join(work, path);
        if (content === null) rmSync(full, { force: true });
        else {
          mkdirSync(dirname(full), { recursive: true });
          writeFileSync(full, content);
        }
      }
      git(['add', '-A']);
      git(['commit', '-q', '--allow-empty', '-m', message]);
      git(['push', '-q', 'origin', 'main']);
      return git(['rev-parse', 'HEAD']);
    },
  };
};

