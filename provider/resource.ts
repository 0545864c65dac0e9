/**
 * What the two resources share: the result types Pulumi's dynamic-provider host expects, check through a zod
 * schema (failures with property paths; preview-time unknowns pass), and an exact, local diff.
 *
 * Check and diff never touch the network: `pulumi preview` must work offline and fast.
 */
import { z } from "zod";
import { APP_ID_PATTERN } from "./config";

/** The property Pulumi uses to carry the serialized provider inside every resource's inputs and state. */
export const PROVIDER_KEY = "__provider";

/** The value Pulumi sends for an input that is not known yet (an output of another resource, during preview). */
export const UNKNOWN = "04da6b54-80e4-46f7-96ec-b56ff0331ba9";

export interface CheckFailure {
  readonly property: string;
  readonly reason: string;
}
export interface CheckResult<T> {
  readonly inputs?: T;
  readonly failures?: CheckFailure[];
}
export interface DiffResult {
  readonly changes: boolean;
  readonly replaces?: string[];
  readonly deleteBeforeReplace?: boolean;
}
export interface CreateResult<T> {
  readonly id: string;
  readonly outs: T;
}
export interface ReadResult<T> {
  readonly id: string;
  readonly props: T;
}
export interface UpdateResult<T> {
  readonly outs: T;
}

/** The authorized account a resource manages. */
export const authorizerAppId = z
  .string({ error: "authorizerAppId is required: the appid of the authorized account, e.g. wx1234567890abcdef" })
  .regex(APP_ID_PATTERN, "must be an appid: wx followed by 16 lowercase hex characters, e.g. wx1234567890abcdef");

/** `a.b[1].c`, as Pulumi prints property paths. */
export function propertyPath(path: readonly PropertyKey[]): string {
  return path.reduce<string>(
    (text, part) => (typeof part === "number" ? `${text}[${part}]` : text ? `${text}.${String(part)}` : String(part)),
    "",
  );
}

function valueAt(value: unknown, path: readonly PropertyKey[]): unknown {
  let current = value;
  for (const part of path) {
    if (current === null || typeof current !== "object") return undefined;
    current = (current as Record<PropertyKey, unknown>)[part];
  }
  return current;
}

/** True when the value, or anything inside it, is not known yet. */
export function containsUnknown(value: unknown): boolean {
  if (value === UNKNOWN) return true;
  if (Array.isArray(value)) return value.some(containsUnknown);
  if (value !== null && typeof value === "object") return Object.values(value).some(containsUnknown);
  return false;
}

/** True when the value at `path`, or any value on the way to it, is not known yet. */
function crossesUnknown(root: unknown, path: readonly PropertyKey[]): boolean {
  for (let length = 0; length <= path.length; length++) {
    if (valueAt(root, path.slice(0, length)) === UNKNOWN) return true;
  }
  return containsUnknown(valueAt(root, path));
}

/** Makes zod's messages read as a person would write them, naming the allowed values where there is a list. */
function reason(issue: z.core.$ZodIssue, value: unknown): string {
  if (value === undefined && issue.path.length > 0) {
    // The schema's own message for a missing property says what to give; zod's generic one does not.
    const given = issue.message.startsWith("Invalid") ? "" : issue.message;
    return given.includes("is required") ? given : `is required${given ? `: ${given}` : ""}`;
  }
  switch (issue.code) {
    case "unrecognized_keys":
      return `unknown propert${issue.keys.length === 1 ? "y" : "ies"} ${issue.keys.map((key) => `"${key}"`).join(", ")}: remove ${
        issue.keys.length === 1 ? "it" : "them"
      } (property names are camelCase, e.g. functionConfig)`;
    case "invalid_value":
      return `must be one of ${issue.values.map((value) => JSON.stringify(value)).join(", ")}`;
    default:
      return issue.message;
  }
}

/**
 * Validates `news` with the resource's schema. Answers the normalized inputs, or one failure per problem with the
 * property path and what to do. Problems inside values that are unknown during preview are not problems yet: the
 * same check runs again with real values before anything is applied.
 */
export function checkWith<Schema extends z.ZodType>(schema: Schema, news: Record<string, unknown>): CheckResult<z.output<Schema>> {
  const { [PROVIDER_KEY]: _provider, ...inputs } = news;
  const parsed = schema.safeParse(inputs);
  if (parsed.success) return { inputs: parsed.data };
  const failures = parsed.error.issues
    .filter((issue) => !crossesUnknown(inputs, issue.path))
    .map((issue) => ({ property: propertyPath(issue.path) || "(inputs)", reason: reason(issue, valueAt(inputs, issue.path)) }));
  if (failures.length) return { failures };
  // Only unknowns stood in the way: pass the inputs on as given; they are checked again once known.
  return { inputs: inputs as z.output<Schema> };
}

/** Equality for the JSON values that make up inputs and outputs. */
export function sameValue(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (Array.isArray(a) && Array.isArray(b)) return a.length === b.length && a.every((item, index) => sameValue(item, b[index]));
  if (a && b && typeof a === "object" && typeof b === "object" && !Array.isArray(a) && !Array.isArray(b)) {
    const keysA = Object.keys(a).filter((key) => (a as Record<string, unknown>)[key] !== undefined);
    const keysB = Object.keys(b).filter((key) => (b as Record<string, unknown>)[key] !== undefined);
    return (
      keysA.length === keysB.length &&
      keysA.every((key) => sameValue((a as Record<string, unknown>)[key], (b as Record<string, unknown>)[key]))
    );
  }
  return false;
}

/**
 * Compares the managed properties of the old outputs with the new inputs. A change to an identity property
 * replaces the resource; any other change updates it in place. Values still unknown count as changed.
 * `canonical` maps a property to the form in which it is compared (e.g. an order-free list).
 */
export function diffProperties<T extends object>(
  olds: Record<string, unknown>,
  news: Record<string, unknown>,
  properties: { readonly identity: readonly (keyof T & string)[]; readonly mutable: readonly (keyof T & string)[] },
  canonical: (name: string, value: unknown) => unknown = (_name, value) => value,
): DiffResult {
  const changed = (name: string) => containsUnknown(news[name]) || !sameValue(canonical(name, olds[name]), canonical(name, news[name]));
  const replaces = properties.identity.filter(changed);
  const changes = replaces.length > 0 || properties.mutable.some(changed);
  return replaces.length ? { changes, replaces } : { changes };
}

/**
 * An error that tells Pulumi the resource exists (with `properties` as its outputs) although the operation did not
 * finish. Pulumi keeps it in state, so what the provider learned (the value to restore on delete) is not lost, and
 * the next `pulumi up` finishes the job.
 */
export class PartialFailure extends Error {
  override readonly name = "PartialFailure";
  readonly reasons: string[];
  constructor(
    readonly id: string,
    readonly properties: Record<string, unknown>,
    cause: Error,
  ) {
    super(cause.message);
    this.reasons = [cause.message];
  }
}
