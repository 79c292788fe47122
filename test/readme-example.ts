import { readFileSync } from 'node:fs';

/** A code block of the README's "Writing a protocol" section, with the file its first line names. */
export interface ReadmeFile {
  readonly path: string;
  readonly language: string;
  readonly text: string;
}

/**
 * The example files of the README's "Writing a protocol" section: each code block whose
 * first line is a comment naming a file (`# rumour.yaml: ...`, `// plugins/rumour.ts: ...`).
 */
export function readmeExample(readme = 'README.md'): ReadmeFile[] {
  const text = readFileSync(readme, 'utf8');
  const start = text.indexOf('\n## Writing a protocol\n');
  if (start < 0) throw new Error('README.md has no "## Writing a protocol" section');
  const end = text.indexOf('\n## ', start + 1);
  const section = text.slice(start, end < 0 ? undefined : end);
  const files: ReadmeFile[] = [];
  for (const [, language, body] of section.matchAll(/^```(\w+)\n([\s\S]*?)^```$/gm)) {
    const named = /^(?:#|\/\/) ([\w./-]+\.\w+):/.exec(body);
    if (named) files.push({ path: named[1], language, text: body });
  }
  return files;
}
