/**
 * Property values as they travel between the program, the engine and the provider: plain JSON in which a secret is
 * `{ [SECRET_SIG_KEY]: SECRET_SIG, value }` (test/pulumi/checkpoint.ts) and a value unknown during a preview is the
 * string UNKNOWN.
 */
import { UNKNOWN } from "../../provider/resource";
import { Json, PropertyMap, SECRET_SIG, SECRET_SIG_KEY, isSecret, mapSecrets, stripSecrets } from "../pulumi/checkpoint";

export { Json, PropertyMap, UNKNOWN, isSecret, stripSecrets };

export function isObject(v: unknown): v is { [key: string]: Json } {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

export function makeSecret(v: Json): Json {
  return isSecret(v) ? v : { [SECRET_SIG_KEY]: SECRET_SIG, value: v };
}

const containsSecrets = (v: Json): boolean =>
  isSecret(v) || (typeof v === "object" && v !== null && Object.values(v).some(containsSecrets));

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

/** Secrets as "[secret]" and unknowns as "[unknown]": values as people are shown them. */
export function displayValue(v: Json): Json {
  return JSON.parse(JSON.stringify(mapSecrets(v, () => "[secret]")), (_key, e: Json) => (e === UNKNOWN ? "[unknown]" : e)) as Json;
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
