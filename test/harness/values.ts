/**
 * Property values as they travel between the program, the engine and the provider.
 *
 * The wire format is a protobuf Struct; its JavaScript form is plain JSON in which two markers carry meaning:
 * a secret is an object `{ [SECRET_SIG_KEY]: SECRET_SIG, value }`, and a value not known during a preview is the
 * string UNKNOWN. In the state file a secret is stored as `{ [SECRET_SIG_KEY]: SECRET_SIG, ciphertext }` instead
 * (see state.ts), the way Pulumi's own state marks and encrypts secret values.
 */

export const SECRET_SIG_KEY = "4dabf18193072939515e22adb298388d";
export const SECRET_SIG = "1b47061264138c4ac30d75fd1eb44270";
export const UNKNOWN = "04da6b54-80e4-46f7-96ec-b56ff0331ba9";

export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
export type PropertyMap = { [key: string]: Json };

function isPlainObject(v: unknown): v is { [key: string]: Json } {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

export function isSecret(v: unknown): v is { [key: string]: Json } {
  return isPlainObject(v) && v[SECRET_SIG_KEY] === SECRET_SIG;
}

export function makeSecret(v: Json): Json {
  return isSecret(v) ? v : { [SECRET_SIG_KEY]: SECRET_SIG, value: v };
}

export function containsSecrets(v: unknown): boolean {
  if (isSecret(v)) return true;
  if (Array.isArray(v)) return v.some(containsSecrets);
  if (isPlainObject(v)) return Object.values(v).some(containsSecrets);
  return false;
}

export function containsUnknowns(v: unknown): boolean {
  if (v === UNKNOWN) return true;
  if (Array.isArray(v)) return v.some(containsUnknowns);
  if (isPlainObject(v)) return Object.values(v).some(containsUnknowns);
  return false;
}

/**
 * The value without its secret markers. The dynamic-provider host answers Configure with acceptSecrets=false, so the
 * real engine sends it plain values in Check/Diff/Create/Read/Update/Delete (and secret-wrapped values only in
 * Configure, which the host unwraps itself); this does the same.
 */
export function stripSecrets<T extends Json | undefined>(v: T): T {
  if (isSecret(v)) return stripSecrets(v.value as T);
  if (Array.isArray(v)) return v.map((e) => stripSecrets(e)) as T;
  if (isPlainObject(v)) {
    const out: { [key: string]: Json } = {};
    for (const [k, e] of Object.entries(v)) out[k] = stripSecrets(e);
    return out as T;
  }
  return v;
}

/**
 * Mark as secret every property of `outs` whose namesake in `ins` contains a secret, recursing where both are
 * objects: what the engine does with the answers of a provider that does not accept secrets, so a secret input stays
 * secret in the outputs and in the state.
 */
export function annotateSecrets(outs: PropertyMap, ins: PropertyMap | undefined): PropertyMap {
  if (!ins) return outs;
  const result: PropertyMap = { ...outs };
  for (const [key, inValue] of Object.entries(ins)) {
    if (!(key in result)) continue;
    const outValue = result[key];
    const inPlain = isSecret(inValue) ? undefined : inValue;
    if (isPlainObject(outValue) && !isSecret(outValue) && isPlainObject(inPlain)) {
      result[key] = annotateSecrets(outValue, inPlain);
    } else if (!isSecret(outValue) && containsSecrets(inValue)) {
      result[key] = makeSecret(outValue);
    }
  }
  return result;
}

/** Deep equality of JSON values (object key order ignored). */
export function deepEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (Array.isArray(a)) {
    return Array.isArray(b) && a.length === b.length && a.every((e, i) => deepEqual(e, b[i]));
  }
  if (isPlainObject(a) && isPlainObject(b)) {
    const ka = Object.keys(a);
    if (ka.length !== Object.keys(b).length) return false;
    return ka.every((k) => Object.prototype.hasOwnProperty.call(b, k) && deepEqual(a[k], b[k]));
  }
  return false;
}

/** Replaces secrets with "[secret]" and unknowns with "[unknown]": the form in which values are shown to people. */
export function displayValue(v: Json): Json {
  if (isSecret(v)) return "[secret]";
  if (v === UNKNOWN) return "[unknown]";
  if (Array.isArray(v)) return v.map(displayValue);
  if (isPlainObject(v)) {
    const out: { [key: string]: Json } = {};
    for (const [k, e] of Object.entries(v)) out[k] = displayValue(e);
    return out;
  }
  return v;
}

/** JSON-clean copy: drops `undefined` members so the value fits a protobuf Struct. */
export function clean<T>(v: T): T {
  return v === undefined ? v : (JSON.parse(JSON.stringify(v)) as T);
}

/**
 * Hides known secret values in any text the harness prints (program and provider output included). Strings shorter
 * than four characters are not tracked: replacing them everywhere would garble the output more than it protects.
 */
export class Redactor {
  /** Longest first, so that a secret inside another one is redacted as part of the longer. */
  private secrets: string[] = [];

  add(secret: string): void {
    if (secret.length < 4 || this.secrets.includes(secret)) return;
    this.secrets = [...this.secrets, secret].sort((a, b) => b.length - a.length);
  }

  /** Tracks every string found inside a secret of `v`. */
  addFrom(v: unknown, inSecret = false): void {
    if (isSecret(v)) return this.addFrom(v.value, true);
    if (typeof v === "string") {
      if (inSecret) this.add(v);
    } else if (Array.isArray(v)) {
      for (const e of v) this.addFrom(e, inSecret);
    } else if (isPlainObject(v)) {
      for (const e of Object.values(v)) this.addFrom(e, inSecret);
    } else if (inSecret && (typeof v === "number" || typeof v === "boolean")) {
      this.add(String(v));
    }
  }

  // Not one RegExp of every secret: V8 refuses a pattern that large (a refresh-token map of 1,000 accounts is one).
  redact(text: string): string {
    return this.secrets.reduce((out, secret) => out.split(secret).join("[secret]"), text);
  }
}
