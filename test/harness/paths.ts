/**
 * Property paths as the engine reads `ignoreChanges` and `replaceOnChanges` (`a.b[0].c`, `a[*].b`, `*`,
 * `["key.with dots"]`), ported from the Go SDK's resource/properties_path.go so that the odd cases (a path into an
 * added or removed array element, a wildcard over objects of different keys) come out as the CLI has them.
 */
import { Json, PropertyMap, isObject, isSecret, makeSecret } from "./values";

export type PropertyPath = (string | number)[];

/** The path's elements, or undefined when it does not parse (the engine then ignores it). */
export function parsePropertyPath(path: string): PropertyPath | undefined {
  const elements: PropertyPath = [];
  let rest = path;
  if (rest.startsWith(".")) return undefined;
  while (rest.length > 0) {
    if (rest[0] === ".") {
      rest = rest.slice(1);
      if (!rest) return undefined;
    } else if (rest.startsWith('["')) {
      let key = "";
      let i = 2;
      for (; rest[i] !== '"'; i++) {
        if (i >= rest.length) return undefined;
        if (rest[i] === "\\" && rest[i + 1] === '"') i++;
        key += rest[i];
      }
      if (rest[i + 1] !== "]") return undefined;
      elements.push(key);
      rest = rest.slice(i + 2);
    } else if (rest[0] === "[") {
      const close = rest.indexOf("]");
      const segment = rest.slice(1, close);
      if (close < 0 || (segment !== "*" && !/^[+-]?\d+$/.test(segment))) return undefined;
      elements.push(segment === "*" ? "*" : Number(segment));
      rest = rest.slice(close + 1);
    } else {
      const end = rest.search(/[.[]/);
      elements.push(end < 0 ? rest : rest.slice(0, end));
      rest = end < 0 ? "" : rest.slice(end);
    }
  }
  return elements;
}

/** Whether `path` (which may hold `*`) names `other` or something that contains it. */
export function pathContains(path: PropertyPath, other: PropertyPath): boolean {
  return other.length >= path.length && path.every((key, i) => key === "*" || key === other[i]);
}

type Obj = { [key: string]: Json };

/** Puts the old value back at `path` in `news` (mutated); false when the path cannot be followed in both. */
function reset(path: PropertyPath, old: Json | undefined, news: Json | undefined, oldSecret = false, newSecret = false): boolean {
  while (isSecret(old)) [old, oldSecret] = [old.value, true];
  while (isSecret(news)) [news, newSecret] = [news.value, true];
  const carry = (v: Json) => (oldSecret && !newSecret ? makeSecret(v) : v);
  const [key, ...rest] = path;
  if (key === "*") return resetAll(rest, old, news, carry, oldSecret, newSecret);
  if (typeof key === "number") {
    if (key < 0) return false;
    if (!Array.isArray(old) || !Array.isArray(news)) return !Array.isArray(old) && !Array.isArray(news);
    const [inOld, inNew] = [key < old.length, key < news.length];
    if (rest.length === 0 && !inOld && !inNew) return true;
    if (!inOld || !inNew) return false;
    if (rest.length > 0) return reset(rest, old[key], news[key], oldSecret, newSecret);
    news[key] = carry(old[key]);
    return true;
  }
  if (rest.length === 0) {
    if (isObject(old) && key in old) {
      if (!isObject(news)) return false;
      news[key] = carry(old[key]);
    } else if (isObject(news)) delete news[key];
    return true;
  }
  if (!isObject(old) || !isObject(news)) return !isObject(old) && !isObject(news);
  if (!(key in news)) return !(key in old);
  return reset(rest, old[key], news[key], oldSecret, newSecret);
}

/** `*`: every member of the container, at this level or below it. */
function resetAll(
  rest: PropertyPath,
  o: Json | undefined,
  n: Json | undefined,
  carry: (v: Json) => Json,
  os: boolean,
  ns: boolean,
): boolean {
  if (rest.length > 0) {
    if (isObject(o) && isObject(n)) return Object.keys(o).every((k) => k in n && reset(rest, o[k], n[k], os, ns));
    if (!Array.isArray(o) || !Array.isArray(n)) return false;
    return o.slice(0, n.length).every((v, i) => reset(rest, v, n[i], os, ns)) && o.length === n.length;
  }
  if (isObject(n)) {
    if (!isObject(o)) return true;
    for (const k of Object.keys(n)) if (!(k in o)) delete n[k];
    for (const [k, v] of Object.entries(o as Obj)) n[k] = carry(v);
    return true;
  }
  if (!Array.isArray(n)) return false;
  if (!Array.isArray(o)) return true;
  for (let i = 0; i < Math.min(o.length, n.length); i++) n[i] = carry(o[i]);
  return o.length === n.length;
}

/**
 * `ignoreChanges`: the new inputs with the old value at each path (removed where the old inputs have none). Paths
 * that do not parse are skipped and those that cannot be followed are reported, as the engine does.
 */
export function applyIgnoreChanges(
  news: PropertyMap,
  olds: PropertyMap,
  paths: string[],
  report: (invalid: string[]) => void,
): PropertyMap {
  const result = JSON.parse(JSON.stringify(news)) as PropertyMap;
  const invalid = paths.filter((p) => {
    const path = parsePropertyPath(p);
    return path !== undefined && path.length > 0 && !reset(path, olds, result);
  });
  if (invalid.length > 0) report(invalid);
  return result;
}
