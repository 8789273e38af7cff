/**
 * gitignore-style exclusion rules, as Flux applies `.spec.ignore` (and .sourceignore files) to a source:
 * blank lines and `#` comments skipped, `!` re-includes, a trailing `/` matches directories only, a
 * pattern with a `/` other than a trailing one is anchored at the root (a leading `/` only anchors),
 * otherwise it matches at any depth; `*` and `?` stop at `/`, `**` crosses directories, `[...]` is a
 * class. The last matching rule wins, and as in git nothing below an excluded directory can be
 * re-included.
 */

/** Flux source-controller's default exclusions, applied before the user's rules (which may re-include). */
export const DEFAULT_IGNORE = [
  '.git/',
  '.gitignore',
  '.gitmodules',
  '.gitattributes',
  '*.jpg',
  '*.jpeg',
  '*.gif',
  '*.png',
  '*.wmv',
  '*.flv',
  '*.tar.gz',
  '*.zip',
  '.github/',
  '.circleci/',
  '.travis.yml',
  '.gitlab-ci.yml',
  'appveyor.yml',
  '.drone.yml',
  'cloudbuild.yaml',
  'codeship-services.yml',
  'codeship-steps.yml',
  '**/.goreleaser.yml',
  '**/.sops.yaml',
  '**/.flux.yaml',
].join('\n');

interface Rule {
  negate: boolean;
  dirOnly: boolean;
  re: RegExp;
}

const escapeRe = (c: string): string => c.replace(/[\\^$.*+?()[\]{}|/]/g, '\\$&');

/** The regular expression body for a glob, `**` handled by where it stands. */
const globBody = (glob: string): string => {
  let out = '';
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i]!;
    if (c === '*' && glob[i + 1] === '*') {
      const atStart = i === 0 || glob[i - 1] === '/';
      const next = glob[i + 2];
      if (atStart && next === '/') {
        out += '(?:.*/)?'; // `**/x` and `a/**/x`: zero or more directories
        i += 2;
      } else if (atStart && next === undefined) {
        out += '.*'; // `a/**`: everything inside
        i += 1;
      } else {
        out += '[^/]*'; // `a**b` is just `*` in git
        i += 1;
      }
    } else if (c === '*') {
      out += '[^/]*';
    } else if (c === '?') {
      out += '[^/]';
    } else if (c === '[') {
      const end = glob.indexOf(']', i + 2);
      if (end === -1) {
        out += '\\[';
      } else {
        let cls = glob.slice(i + 1, end);
        if (cls.startsWith('!')) cls = `^${cls.slice(1)}`;
        out += `[${cls.replace(/\\/g, '\\\\')}]`;
        i = end;
      }
    } else if (c === '\\' && i + 1 < glob.length) {
      out += escapeRe(glob[i + 1]!);
      i += 1;
    } else {
      out += escapeRe(c);
    }
  }
  return out;
};

const parseRule = (line: string): Rule | undefined => {
  // Trailing spaces are dropped unless escaped.
  let text = line.replace(/(?<!\\)\s+$/, '');
  if (text === '' || text.startsWith('#')) return undefined;
  let negate = false;
  if (text.startsWith('!')) {
    negate = true;
    text = text.slice(1);
  } else if (text.startsWith('\\!') || text.startsWith('\\#')) {
    text = text.slice(1);
  }
  const dirOnly = text.endsWith('/');
  if (dirOnly) text = text.slice(0, -1);
  if (text === '') return undefined;
  const anchored = text.includes('/');
  if (text.startsWith('/')) text = text.slice(1);
  const body = globBody(text);
  return { negate, dirOnly, re: new RegExp(anchored ? `^${body}$` : `^(?:.*/)?${body}$`) };
};

export type IgnoreMatcher = (relPath: string, isDir: boolean) => boolean;

/**
 * A predicate over POSIX paths relative to the source root (`deploy/app.yaml`): true when the path, or a
 * directory above it, is excluded by `rules` (gitignore text, one pattern a line).
 */
export const compileIgnore = (rules: string): IgnoreMatcher => {
  const compiled = rules
    .split(/\r?\n/)
    .map(parseRule)
    .filter((r): r is Rule => r !== undefined);
  const excludedItself = (path: string, isDir: boolean): boolean => {
    let excluded = false;
    for (const rule of compiled) {
      if (rule.dirOnly && !isDir) continue;
      if (rule.re.test(path)) excluded = !rule.negate;
    }
    return excluded;
  };
  return (relPath, isDir) => {
    const parts = relPath.split('/').filter((p) => p !== '' && p !== '.');
    for (let i = 1; i < parts.length; i++) {
      if (excludedItself(parts.slice(0, i).join('/'), true)) return true;
    }
    return parts.length > 0 && excludedItself(parts.join('/'), isDir);
  };
};
