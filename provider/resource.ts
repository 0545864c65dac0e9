/**
 * What the two resources share: the result types Pulumi's dynamic-provider host expects, check through a zod
 * schema (failures with property paths that say what was given and what is expected; preview-time unknowns pass),
 * and an exact, local diff.
 *
 * Check and diff never touch the network: `pulumi preview` must work offline and fast.
 */
import { z } from "zod";
import { APP_ID_PATTERN, Credentials } from "./config";

/** The property Pulumi uses to carry the serialized provider inside every resource's inputs and state. */
const PROVIDER_KEY = "__provider";

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

/** True when A and B are the same type (each assignable to the other): compile-time checks of types.ts. */
export type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;

/** A value as a message may show it: its kind, and numbers and booleans themselves (never a string's content). */
export function describe(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "a list";
  switch (typeof value) {
    case "number":
      return Number.isFinite(value) ? `the number ${value}` : String(value);
    case "boolean":
      return `${value} (a boolean)`;
    case "string":
      return value === "" ? "an empty string" : "a string";
    case "object":
      return "an object";
    default:
      return `a ${typeof value}`;
  }
}

/**
 * The error of a schema whose value has the wrong type or is missing: "is required: <what>" or "must be <what>,
 * got <what was given>". `what` describes the expected value, e.g. "an appid: wx followed by 16 hex characters".
 */
export const expected =
  (what: string) =>
  (issue: { code?: string; input?: unknown }): string | undefined => {
    // Other issues (unknown keys of an object, a refinement) keep their own messages.
    if (issue.code !== "invalid_type" && issue.code !== "invalid_value" && issue.code !== "invalid_union") return undefined;
    return issue.input === undefined ? `is required: ${what}` : `must be ${what}, got ${describe(issue.input)}`;
  };

/** The authorized account a resource manages. */
export const authorizerAppId = z
  .string({ error: expected("an appid: wx followed by 16 lowercase hex characters, e.g. wx1234567890abcdef") })
  .regex(APP_ID_PATTERN, "must be an appid: wx followed by 16 lowercase hex characters, e.g. wx1234567890abcdef");

/** `a.b[1].c`, as Pulumi prints property paths. */
function propertyPath(path: readonly PropertyKey[]): string {
  return path.reduce<string>(
    (text, part) => (typeof part === "number" ? `${text}[${part}]` : text ? `${text}.${String(part)}` : String(part)),
    "",
  );
}

function valueAt(value: unknown, path: readonly PropertyKey[]): unknown {
  let current = value;
  for (const part of path) {
    if (current === null || typeof current !== "object" || !Object.prototype.hasOwnProperty.call(current, part)) return undefined;
    current = (current as Record<PropertyKey, unknown>)[part];
  }
  return current;
}

/** True when the value, or anything inside it, is not known yet. */
function containsUnknown(value: unknown): boolean {
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

/** Makes zod's messages read as a person would write them (each schema's own messages say what it expects). */
function reason(issue: z.core.$ZodIssue): string {
  switch (issue.code) {
    case "unrecognized_keys":
      return `unknown propert${issue.keys.length === 1 ? "y" : "ies"} ${issue.keys.map((key) => `"${key}"`).join(", ")}: remove ${
        issue.keys.length === 1 ? "it" : "them"
      } (property names are camelCase, e.g. functionConfig)`;
    default:
      return issue.message;
  }
}

/**
 * Own `__proto__` keys (a JSON text can make them): zod would read them as the object's prototype, misreporting
 * them or merging them into the defaults, so they are refused before the schema sees the inputs.
 */
function prototypeKeys(value: unknown, path: PropertyKey[] = []): CheckFailure[] {
  if (value === null || typeof value !== "object") return [];
  const failures: CheckFailure[] = [];
  const prototype = Object.getPrototypeOf(value);
  if (
    Object.getOwnPropertyNames(value).includes("__proto__") ||
    (prototype !== Object.prototype && prototype !== Array.prototype && prototype !== null)
  ) {
    failures.push({
      property: propertyPath([...path, "__proto__"]),
      reason: 'is not a property name these resources use: remove the "__proto__" key',
    });
  }
  for (const [key, item] of Object.entries(value))
    failures.push(...prototypeKeys(item, [...path, Array.isArray(value) ? Number(key) : key]));
  return failures;
}

/**
 * Validates `news` with the resource's schema. Answers the normalized inputs, or one failure per problem with the
 * property path and what to do. Problems inside values that are unknown during preview are not problems yet: the
 * same check runs again with real values before anything is applied.
 */
export function checkWith<Schema extends z.ZodType>(schema: Schema, news: Record<string, unknown>): CheckResult<z.output<Schema>> {
  const { [PROVIDER_KEY]: _provider, ...inputs } = news;
  const prototypes = prototypeKeys(inputs);
  if (prototypes.length) return { failures: prototypes };
  const parsed = schema.safeParse(inputs);
  if (parsed.success) return { inputs: parsed.data };
  const failures = parsed.error.issues
    .filter((issue) => !crossesUnknown(inputs, issue.path))
    .map((issue) => ({ property: propertyPath(issue.path) || "(inputs)", reason: reason(issue) }));
  if (failures.length) return { failures };
  // Only unknowns stood in the way: pass the inputs on as given; they are checked again once known.
  return { inputs: inputs as z.output<Schema> };
}

/**
 * Declares the setting a checked resource manages (see Claims): a failure on `property` when another resource of
 * the program declared it first. A setting not known yet (preview) is declared when it is.
 */
export function claimFailures(
  claims: { declare(id: string, inputs: unknown): boolean },
  id: string,
  inputs: unknown,
  property: string,
): CheckFailure[] {
  if (id.includes(UNKNOWN) || claims.declare(id, inputs)) return [];
  return [
    {
      property,
      reason: `another resource of this program already manages ${id}, declared otherwise: a WeChat setting can have one owner (or the account holds whichever ran last); remove one of them, and to rename a resource give the new name \`aliases: [{ name: "<old name>" }]\``,
    },
  ];
}

/**
 * When the credentials serve one account only (a ready token, or an account's own secret), a resource naming another
 * account is refused at check, before preview shows a plan that could never apply.
 */
export function accountFailures(appId: unknown, credentials: Credentials | undefined): CheckFailure[] {
  if (!credentials || (credentials.mode !== "accessToken" && credentials.mode !== "account")) return [];
  // A malformed appid is the schema's to report.
  if (typeof appId !== "string" || !APP_ID_PATTERN.test(appId) || appId === credentials.appId) return [];
  return [
    {
      property: "authorizerAppId",
      reason: `the stack's credentials (wechat:appId ${credentials.appId}) manage only that account: use ${credentials.appId}, or third-party platform credentials or wechat:tokenCommand for several accounts`,
    },
  ];
}

/** Equality for the JSON values that make up inputs and outputs (a property set to undefined is no property). */
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
  olds: object,
  news: T,
  properties: { readonly identity: readonly (keyof T & string)[]; readonly mutable: readonly (keyof T & string)[] },
  canonical: (name: string, value: unknown) => unknown = (_name, value) => value,
): DiffResult {
  const old = (name: string) => (olds as Record<string, unknown>)[name];
  const value = (name: string) => (news as Record<string, unknown>)[name];
  const changed = (name: string) => containsUnknown(value(name)) || !sameValue(canonical(name, old(name)), canonical(name, value(name)));
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
  /** The outputs to keep, without the properties whose value is not known (left out rather than undefined). */
  readonly properties: Record<string, unknown>;
  constructor(
    readonly id: string,
    properties: Record<string, unknown>,
    cause: Error,
  ) {
    super(cause.message);
    // The host turns these into a protobuf Struct, which has no undefined: one would make the host fail to answer.
    this.properties = JSON.parse(JSON.stringify(properties)) as Record<string, unknown>;
    this.reasons = [cause.message];
    // As for WeChatError: the host prints `${error}: ${error.stack}`, and users need the message, not our frames.
    Object.defineProperty(this, "stack", { value: "", writable: true, configurable: true });
  }
}
