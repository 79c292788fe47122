/*
 * `where` conditions of an experiment file: comparisons of key paths with values or
 * other key paths (`protocols.cyclon.shuffle <= protocols.cyclon.cache`,
 * `engine == "event"`), joined by `and`, `or`, `not` and parentheses. A point that
 * fails any of them is left out of the plan.
 */

export type Operand = { readonly path: string } | { readonly value: number | string | boolean };
export type Condition =
  | { readonly op: 'and' | 'or'; readonly left: Condition; readonly right: Condition }
  | { readonly op: 'not'; readonly inner: Condition }
  | { readonly op: '==' | '!=' | '<' | '<=' | '>' | '>='; readonly left: Operand; readonly right: Operand };

/** A condition that cannot be read or evaluated; its message says why, in the one-line style. */
export class WhereProblem extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'WhereProblem';
  }
}

const tokenPattern = /\s*(?:(\(|\)|==|!=|<=|>=|<|>)|("(?:[^"\\]|\\.)*"|'[^']*')|(-?\d+(?:\.\d+)?(?:[eE][-+]?\d+)?)(?![\w.])|([A-Za-z_][\w.-]*))/y;

function tokenize(text: string): string[] {
  const tokens: string[] = [];
  tokenPattern.lastIndex = 0;
  let at = 0;
  while (at < text.length) {
    if (/^\s*$/.test(text.slice(at))) break;
    tokenPattern.lastIndex = at;
    const match = tokenPattern.exec(text);
    if (!match) throw new WhereProblem(`expected a condition such as "a.b <= c.d", found ${JSON.stringify(text.slice(at).trim())} in ${JSON.stringify(text)}`);
    tokens.push(match[1] ?? match[2] ?? match[3] ?? match[4]);
    at = tokenPattern.lastIndex;
  }
  return tokens;
}

const comparisons = new Set(['==', '!=', '<', '<=', '>', '>=']);

/** Reads a condition; throws WhereProblem for one that is not well formed. */
export function parseWhere(text: string): Condition {
  const tokens = tokenize(text);
  let i = 0;
  const peek = () => tokens[i];
  const expected = (what: string): never => {
    throw new WhereProblem(`expected ${what}, found ${i < tokens.length ? JSON.stringify(tokens[i]) : 'the end'} in ${JSON.stringify(text)}`);
  };
  const operand = (): Operand => {
    const token = tokens[i];
    if (token === undefined || token === '(' || token === ')' || comparisons.has(token)) return expected('a key path or a value');
    i++;
    if (/^["']/.test(token)) return { value: token.startsWith('"') ? JSON.parse(token) as string : token.slice(1, -1) };
    if (/^-?\d/.test(token)) return { value: Number(token) };
    if (token === 'true' || token === 'false') return { value: token === 'true' };
    return { path: token };
  };
  const primary = (): Condition => {
    if (peek() === 'not') {
      i++;
      return { op: 'not', inner: primary() };
    }
    if (peek() === '(') {
      i++;
      const inner = or();
      if (peek() !== ')') expected('")"');
      i++;
      return inner;
    }
    const left = operand();
    const op = peek();
    if (op === undefined || !comparisons.has(op)) return expected('a comparison (==, !=, <, <=, >, >=)');
    i++;
    return { op: op as '==', left, right: operand() };
  };
  const and = (): Condition => {
    let left = primary();
    while (peek() === 'and') {
      i++;
      left = { op: 'and', left, right: primary() };
    }
    return left;
  };
  const or = (): Condition => {
    let left = and();
    while (peek() === 'or') {
      i++;
      left = { op: 'or', left, right: and() };
    }
    return left;
  };
  if (tokens.length === 0) expected('a condition');
  const condition = or();
  if (i < tokens.length) expected('"and", "or" or the end');
  return condition;
}

/**
 * Whether a point meets a condition; `lookup` gives the value at a key path (the
 * point's own, else the scenario's), or undefined when there is none.
 */
export function holds(condition: Condition, lookup: (path: string) => unknown): boolean {
  switch (condition.op) {
    case 'and': return holds(condition.left, lookup) && holds(condition.right, lookup);
    case 'or': return holds(condition.left, lookup) || holds(condition.right, lookup);
    case 'not': return !holds(condition.inner, lookup);
    default: {
      const value = (operand: Operand) => {
        if ('value' in operand) return operand.value;
        const found = lookup(operand.path);
        if (found === undefined) throw new WhereProblem(`${operand.path}: no such key in the point or the scenario`);
        return found;
      };
      const left = value(condition.left);
      const right = value(condition.right);
      if (condition.op === '==' || condition.op === '!=') {
        const equal = JSON.stringify(left) === JSON.stringify(right);
        return condition.op === '==' ? equal : !equal;
      }
      if (typeof left !== 'number' || typeof right !== 'number') {
        throw new WhereProblem(`${condition.op} compares numbers, found ${JSON.stringify(left)} and ${JSON.stringify(right)}`);
      }
      switch (condition.op) {
        case '<': return left < right;
        case '<=': return left <= right;
        case '>': return left > right;
        default: return left >= right;
      }
    }
  }
}
