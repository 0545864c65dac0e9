/**
 * Property values as they travel between the program, the engine and the provider: plain JSON in which a secret is
 * `{ [SECRET_SIG_KEY]: SECRET_SIG, value }` and a value unknown during a preview is the string UNKNOWN. On disk a
 * secret is `{ [SECRET_SIG_KEY]: SECRET_SIG, ciphertext }` instead (test/pulumi/checkpoint.ts).
 */
import { Json, PropertyMap, SECRET_SIG, SECRET_SIG_KEY, isSecret } from "../pulumi/checkpoint";

export { Json, PropertyMap, SECRET_SIG, SECRET_SIG_KEY, isSecret };
import { UNKNOWN } from "../../provider/resource";

export { UNKNOWN };

export function isObject(v: unknown): v is { [key: string]: Json } {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

export function makeSecret(v: Json): Json {
  return isSecret(v) ? v : { [SECRET_SIG_KEY]: SECRET_SIG, value: v };
}

function containsSecrets(v: unknown): boolean {
  if (isSecret(v)) return true;
  if (Array.isArray(v)) return v.some(containsSecrets);
  return isObject(v) && Object.values(v).some(containsSecrets);
}

/** `v` with `fn` applied to every value below it, depth first (secrets included, as objects). */
function mapValues(v: Json, fn: (value: Json) => Json): Json {
  if (Array.isArray(v)) return fn(v.map((e) => mapValues(e, fn)));
  if (isObject(v)) return fn(Object.fromEntries(Object.entries(v).map(([k, e]) => [k, mapValues(e, fn)])));
  return fn(v);
}

/**
 * The value without secret markers: the dynamic-provider host answers Configure with acceptSecrets=false, so the
 * engine sends it plain values in every call but Configure.
 */
export function stripSecrets<T extends Json>(v: T): T {
  return mapValues(v, (e) => (isSecret(e) ? (e.value ?? null) : e)) as T;
}

/**
 * Marks as secret every property of `outs` whose namesake in `ins` holds a secret (recursing where both are plain
 * objects): what the engine does with the answers of a provider that does not accept secrets.
 */
export function annotateSecrets(outs: PropertyMap, ins: PropertyMap | undefined): PropertyMap {
  const result: PropertyMap = { ...outs };
  for (const [key, inValue] of Object.entries(ins ?? {})) {
    const outValue = result[key];
    if (!(key in result) || isSecret(outValue)) continue;
    if (isObject(outValue) && isObject(inValue) && !isSecret(inValue)) result[key] = annotateSecrets(outValue, inValue);
    else if (containsSecrets(inValue)) result[key] = makeSecret(outValue);
  }
  return result;
}

/** Deep equality of JSON values (object key order ignored). */
export function deepEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (Array.isArray(a)) return Array.isArray(b) && a.length === b.length && a.every((e, i) => deepEqual(e, b[i]));
  if (!isObject(a) || !isObject(b) || Object.keys(a).length !== Object.keys(b).length) return false;
  return Object.keys(a).every((k) => k in b && deepEqual(a[k], b[k]));
}

/** Secrets as "[secret]" and unknowns as "[unknown]": values as people are shown them. */
export function displayValue(v: Json): Json {
  return mapValues(v, (e) => (isSecret(e) ? "[secret]" : e === UNKNOWN ? "[unknown]" : e));
}

/** JSON-clean copy: drops `undefined` members so the value fits a protobuf Struct. */
export function clean<T>(v: T): T {
  return v === undefined ? v : (JSON.parse(JSON.stringify(v)) as T);
}

/**
 * Hides known secret values in whatever the harness prints. Strings shorter than four characters are not tracked:
 * replacing them everywhere would garble the output more than it protects.
 */
export class Redactor {
  /** Longest first, so that a secret inside another one is redacted as part of the longer. */
  private secrets: string[] = [];

  add(secret: string): void {
    if (secret.length < 4 || this.secrets.includes(secret)) return;
    this.secrets = [...this.secrets, secret].sort((a, b) => b.length - a.length);
  }

  /** Tracks every string, number and boolean inside a secret of `v`. */
  addFrom(v: unknown, inSecret = false): void {
    if (isSecret(v)) this.addFrom(v.value, true);
    else if (Array.isArray(v) || isObject(v)) Object.values(v).forEach((e) => this.addFrom(e, inSecret));
    else if (inSecret && (typeof v === "string" || typeof v === "number" || typeof v === "boolean")) this.add(String(v));
  }

  // Not one RegExp of every secret: V8 refuses a pattern that large (a refresh-token map of 1,000 accounts is one).
  redact(text: string): string {
    return this.secrets.reduce((out, secret) => out.split(secret).join("[secret]"), text);
  }
}
