import { isAlias, isMap, isScalar, isSeq, LineCounter, parseAllDocuments, type Document, type Node } from 'yaml';

/** Why YAML text could not be read as plain data, and on which line. */
export class YamlProblem extends Error {
  constructor(readonly reason: string, readonly line?: number) {
    super(reason);
    this.name = 'YamlProblem';
  }
}

/** Keys that would reach an object's prototype if used as plain property names. */
export const reservedKeys: ReadonlySet<string> = new Set(['__proto__', 'constructor', 'prototype']);

/** Plain data read from YAML, and where in the text each key is. */
export interface YamlTree {
  readonly value: unknown;
  /** Line (1-based) of the key at `path`, or of its nearest ancestor in the text. */
  lineOf(path: readonly string[]): number | undefined;
}

/** Nesting deeper than this is refused (no scenario needs it; recursion stays bounded). */
export const MAX_DEPTH = 100;
/** Values that aliases may copy in all: a document of a few KB cannot expand into gigabytes. */
const MAX_ALIAS_VALUES = 100_000;

/**
 * Reads YAML into plain data (objects, arrays, strings, numbers, booleans, null) in
 * time linear in the text: duplicate keys are found with one set per mapping (the
 * yaml library's own check is quadratic), and each alias is copied (so that setting a
 * key under one alias never changes another) within a budget that stops alias bombs.
 * Keys that reach a prototype (`__proto__`, `constructor`, `prototype`), keys that are
 * not plain values, undefined aliases and unsupported values are refused with their line.
 */
export function parseYaml(text: string): YamlTree {
  const lines = new LineCounter();
  let documents: Document.Parsed[];
  try {
    documents = parseAllDocuments(text, { lineCounter: lines, prettyErrors: false, uniqueKeys: false, logLevel: 'silent' }) as Document.Parsed[];
  } catch (error) {
    throw new YamlProblem(tooDeep(error) ? `expected data nested at most ${MAX_DEPTH} levels deep` : `YAML the reader cannot handle (${(error as Error).message.split('\n')[0]})`);
  }
  const lineAt = (offset: number) => lines.linePos(offset).line;
  if (documents.length > 1) {
    throw new YamlProblem(`expected one YAML document, found ${documents.length} (separated by ---)`, lineAt(documents[1].range[0]));
  }
  const document = documents[0];
  const error = document?.errors[0];
  if (error) {
    const position = lines.linePos(error.pos[0]);
    const what = tooDeep(error) ? `expected data nested at most ${MAX_DEPTH} levels deep` : `YAML syntax error at column ${position.col}: ${error.message.split('\n')[0]}`;
    throw new YamlProblem(what, position.line);
  }
  if (!document) return { value: null, lineOf: () => undefined };
  const aliasTargets = new Map<Node, Node>();
  const value = new Converter(lineAt, aliasTargets).convert(document.contents as Node | null, 0);
  return {
    value,
    lineOf: (path) => lineOfPath(document.contents as Node | null, path, aliasTargets, lineAt),
  };
}

/** The parser recurses: absurd nesting overflows its stack. */
const tooDeep = (error: unknown) => error instanceof Error && /call stack/i.test(error.message);

class Converter {
  /** Anchor name -> the node it names and that node's value, as defined so far in document order. */
  private readonly anchors = new Map<string, { node: Node; value: unknown }>();
  private aliasBudget = MAX_ALIAS_VALUES;

  constructor(private readonly lineAt: (offset: number) => number, private readonly aliasTargets: Map<Node, Node>) {}

  convert(node: Node | null | undefined, depth: number): unknown {
    if (node === null || node === undefined) return null;
    const line = () => (node.range ? this.lineAt(node.range[0]) : undefined);
    if (depth > MAX_DEPTH) throw new YamlProblem(`expected data nested at most ${MAX_DEPTH} levels deep`, line());
    let value: unknown;
    if (isAlias(node)) {
      const target = this.anchors.get(node.source);
      if (!target) throw new YamlProblem(`YAML alias *${node.source} names no anchor &${node.source} defined before it`, line());
      this.aliasTargets.set(node, target.node);
      return this.copy(target.value, line());
    } else if (isScalar(node)) {
      value = node.value;
      if (value !== null && typeof value !== 'string' && typeof value !== 'number' && typeof value !== 'boolean') {
        throw new YamlProblem(`expected a number, string, boolean or null, found a value of YAML tag ${(node.tag ?? 'unknown').replace('tag:yaml.org,2002:', '!!')}`, line());
      }
    } else if (isMap(node)) {
      const object: Record<string, unknown> = {};
      const seen = new Set<string>();
      for (const pair of node.items) {
        const keyNode = pair.key as Node | null;
        const keyLine = keyNode?.range ? this.lineAt(keyNode.range[0]) : line();
        const key = this.keyOf(keyNode, keyLine);
        if (seen.has(key)) throw new YamlProblem(`duplicate key ${JSON.stringify(key)}`, keyLine);
        if (reservedKeys.has(key)) throw new YamlProblem(`unknown key ${JSON.stringify(key)} (a reserved name)`, keyLine);
        seen.add(key);
        object[key] = this.convert(pair.value as Node | null, depth + 1);
      }
      value = object;
    } else if (isSeq(node)) {
      value = node.items.map((item) => this.convert(item as Node | null, depth + 1));
    } else {
      throw new YamlProblem('expected plain YAML data', line());
    }
    if (node.anchor) this.anchors.set(node.anchor, { node, value });
    return value;
  }

  private keyOf(keyNode: Node | null, line: number | undefined): string {
    const resolved = keyNode && isAlias(keyNode) ? this.anchors.get(keyNode.source)?.node : keyNode;
    if (keyNode && isAlias(keyNode) && !resolved) throw new YamlProblem(`YAML alias *${keyNode.source} names no anchor &${keyNode.source} defined before it`, line);
    if (!resolved || (isScalar(resolved) && resolved.value === null)) throw new YamlProblem('expected a key before ":", found none', line);
    if (!isScalar(resolved)) throw new YamlProblem(`expected a plain key (a name), found a ${isSeq(resolved) ? 'list' : 'mapping'}`, line);
    const key = resolved.value;
    if (typeof key !== 'string' && typeof key !== 'number' && typeof key !== 'boolean') throw new YamlProblem('expected a plain key (a name)', line);
    return String(key);
  }

  /** A deep copy of an anchored value, counted against the alias budget. */
  private copy(value: unknown, line: number | undefined): unknown {
    if (--this.aliasBudget < 0) {
      throw new YamlProblem(`YAML aliases expand to more than ${MAX_ALIAS_VALUES.toLocaleString('en-US')} values (an alias bomb?)`, line);
    }
    if (Array.isArray(value)) return value.map((item) => this.copy(item, line));
    if (value !== null && typeof value === 'object') {
      const object: Record<string, unknown> = {};
      for (const [key, item] of Object.entries(value)) object[key] = this.copy(item, line);
      return object;
    }
    return value;
  }
}

/** Follows `path` through the document (aliases included) and returns the line of the deepest key found. */
function lineOfPath(root: Node | null, path: readonly string[], aliasTargets: Map<Node, Node>, lineAt: (offset: number) => number): number | undefined {
  let node: Node | null | undefined = root;
  let line = root?.range ? lineAt(root.range[0]) : undefined;
  for (const segment of path) {
    if (node && isAlias(node)) node = aliasTargets.get(node);
    if (!node) break;
    if (isMap(node)) {
      const pair = node.items.find((p) => isScalar(p.key) && String(p.key.value) === segment);
      if (!pair) break;
      const key = pair.key as Node;
      if (key.range) line = lineAt(key.range[0]);
      node = pair.value as Node | null;
    } else if (isSeq(node)) {
      const item: Node | null | undefined = /^\d+$/.test(segment) ? (node.items[Number(segment)] as Node | null | undefined) : undefined;
      if (!item) break;
      if (item.range) line = lineAt(item.range[0]);
      node = item;
    } else {
      break;
    }
  }
  return line;
}
