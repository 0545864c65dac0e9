/**
 * The package's resources as a stack's state records them: their type tokens, the provider each one serializes into
 * `__provider`, and the views of a state the engine-level suites compare.
 */
import { strict as assert } from "node:assert";
import * as path from "node:path";
import { ResourceState, StackState, readState } from "../harness";
import { isSecret } from "../pulumi/checkpoint";
import { METHODS as PROVIDER_METHODS } from "../../sdk/handover";

/** The repository root (this file runs from dist/test/support). */
export const ROOT = path.resolve(__dirname, "..", "..", "..");

export const AUTHORIZER_OPTION = "pulumi-nodejs:dynamic/wechat:AuthorizerOption";
export const CALLBACK_CONFIG = "pulumi-nodejs:dynamic/wechat:CallbackConfig";

/** The module each resource type's provider must require, by package name. */
export const PROVIDER_MODULES: Readonly<Record<string, string>> = {
  [AUTHORIZER_OPTION]: "pulumi-wechat/provider/authorizer-option",
  [CALLBACK_CONFIG]: "pulumi-wechat/provider/callback-config",
};

/** A method Pulumi's dynamic-provider host calls on a provider. */
export type ProviderMethod = (typeof PROVIDER_METHODS)[number];

/**
 * The package's resources in a state. Every custom resource must be one, except the default provider the real
 * engine records for them (`pulumi:providers:pulumi-nodejs::default`, whose inputs are the stack config).
 */
export function wechatResources(state: StackState | undefined): ResourceState[] {
  const resources = (state?.resources ?? []).filter((r) => r.custom && !r.type.startsWith("pulumi:providers:"));
  for (const r of resources) assert.ok(PROVIDER_MODULES[r.type], `unexpected resource type in the state: ${r.type} (${r.urn})`);
  return resources;
}

export const nameOf = (resource: { urn: string }): string => resource.urn.split("::").slice(3).join("::");

export function resourceNamed(state: StackState | undefined, name: string): ResourceState {
  const resources = wechatResources(state);
  const resource = resources.find((r) => nameOf(r) === name);
  assert.ok(resource, `no resource "${name}" in the state (has: ${resources.map(nameOf).join(", ")})`);
  return resource;
}

export type Recorded = Record<string, Pick<ResourceState, "type" | "id" | "inputs" | "outputs">>;

/**
 * What a state file records, by URN: each resource's type, id, inputs and outputs, secrets decrypted. Two states
 * record the same when these are equal: the real engine re-encrypts secrets with fresh nonces on every write and may
 * reorder resources, so the stored entries of an unchanged stack differ from run to run.
 */
export function recorded(stateFile: string): Recorded {
  const state = readState(stateFile, { decrypt: true });
  return Object.fromEntries((state?.resources ?? []).map(({ urn, type, id, inputs, outputs }) => [urn, { type, id, inputs, outputs }]));
}

export function packageRecords(records: Recorded): Recorded {
  return Object.fromEntries(Object.entries(records).filter(([, record]) => PROVIDER_MODULES[record.type]));
}

/**
 * The stack configuration a state saved, secrets opened: the real engine keeps it as the inputs of the default
 * provider, and configures the provider from it for refresh and destroy.
 */
export function savedConfig(records: Recorded): Record<string, unknown> | undefined {
  const provider = Object.entries(records).find(([urn]) => urn.endsWith("::pulumi:providers:pulumi-nodejs::default"))?.[1];
  if (!provider) return undefined;
  return Object.fromEntries(Object.entries(provider.inputs).map(([key, value]) => [key, isSecret(value) ? value.value : value]));
}

/**
 * The modules a serialized provider (`__provider`) loads: the text is evaluated as the provider host does (a module
 * exporting `handler`), with a `require` that records names and answers stand-ins, and every method is called once.
 * A provider in the npm-link layout requires inside its methods; one in the installed layout at the top: both show.
 */
export function requiredModules(text: string): string[] {
  const required = new Set<string>();
  const standIn = new Proxy({} as Record<string, unknown>, { get: (_target, key) => (key === "then" ? undefined : () => undefined) });
  const module = { exports: {} as Record<string, unknown> };
  // Sloppy mode on purpose: Pulumi's serializer emits `with` blocks.
  const recordingRequire = (name: string) => {
    required.add(name);
    return standIn;
  };
  new Function("exports", "module", "require", text)(module.exports, module, recordingRequire);
  const handler = module.exports.handler;
  assert.equal(typeof handler, "function", "the serialized provider exports no handler()");
  const provider = (handler as () => Record<string, unknown>)();
  for (const method of PROVIDER_METHODS) {
    assert.equal(typeof provider[method], "function", `the serialized provider has no ${method}()`);
    (provider[method] as (...args: unknown[]) => unknown)({}, {}, {});
  }
  return [...required].sort();
}

/**
 * Asserts that a resource's `__provider` (inputs and outputs) is a require of its provider module by package name
 * and nothing else, with no path of this machine, at most `maxBytes` long.
 */
export function assertProvider(resource: ResourceState, maxBytes: number): void {
  const expected = PROVIDER_MODULES[resource.type];
  assert.ok(expected, `${resource.urn}: not a pulumi-wechat resource type (${resource.type})`);
  for (const side of ["inputs", "outputs"] as const) {
    const text = resource[side].__provider;
    assert.equal(typeof text, "string", `${resource.urn}: ${side}.__provider is missing or not plain text`);
    const bytes = Buffer.byteLength(text as string);
    assert.ok(bytes <= maxBytes, `${resource.urn}: ${side}.__provider is ${bytes} bytes (at most ${maxBytes})`);
    assert.ok(!(text as string).includes(ROOT), `${resource.urn}: ${side}.__provider names a path of this machine`);
    assert.deepEqual(requiredModules(text as string), [expected], `${resource.urn}: ${side}.__provider must require ${expected} only`);
  }
}
