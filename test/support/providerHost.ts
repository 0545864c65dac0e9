/**
 * Drives a resource's provider exactly as Pulumi's dynamic-provider host does, in this process: the SDK's provider
 * object is serialized with Pulumi's own serializer, the text is evaluated as a module from the program directory,
 * `handler()` gives the provider, and `configure` receives the whole stack configuration.
 */
import Module from "node:module";
import * as path from "node:path";
import * as pulumi from "@pulumi/pulumi";
import { authorizerOptionProvider } from "../../sdk/authorizerOption";
import { callbackConfigProvider } from "../../sdk/callbackConfig";
import { ProviderMethod } from "./state";

/**
 * Inputs and outputs as the host passes them: JSON whose shape depends on the resource. Tests read them freely and
 * assert on their values, so they are typed loosely on purpose, in this one place.
 */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type ProviderJson = any;

/** The provider methods a test calls (every one the host calls), loosely typed as the host sees them. */
export interface HostedProvider extends Record<ProviderMethod, (...args: never[]) => Promise<unknown>> {
  configure(request: { config: { get(key: string): unknown } }): Promise<void>;
  check(
    olds: Record<string, unknown>,
    news: Record<string, unknown>,
  ): Promise<{ inputs?: ProviderJson; failures?: { property: string; reason: string }[] }>;
  diff(id: string, olds: Record<string, unknown>, news: Record<string, unknown>): Promise<{ changes?: boolean; replaces?: string[] }>;
  create(inputs: Record<string, unknown>): Promise<{ id: string; outs: ProviderJson }>;
  read(id: string, props: Record<string, unknown>): Promise<{ id: string; props: ProviderJson }>;
  update(id: string, olds: Record<string, unknown>, news: Record<string, unknown>): Promise<{ outs: ProviderJson }>;
  delete(id: string, props: Record<string, unknown>): Promise<void>;
}

/** Each resource's SDK provider object, and the provider module it requires by package name (the same file). */
const PROVIDERS = {
  AuthorizerOption: { provider: authorizerOptionProvider, file: require.resolve("../../provider/authorizerOption") },
  CallbackConfig: { provider: callbackConfigProvider, file: require.resolve("../../provider/callbackConfig") },
} as const;

/** The `__provider` text Pulumi would store in state for the resource type. */
export async function serializedProvider(resource: keyof typeof PROVIDERS): Promise<string> {
  const { provider } = PROVIDERS[resource];
  const serialized = await pulumi.runtime.serializeFunction(() => provider, { allowSecrets: false });
  return serialized.text;
}

export function evaluateProvider(text: string, programDir = process.cwd()): HostedProvider {
  const filename = path.join(programDir, "__provider.js");
  const module = new Module(filename, undefined);
  module.filename = filename;
  module.paths = (Module as unknown as { _nodeModulePaths(dir: string): string[] })._nodeModulePaths(programDir);
  (module as unknown as { _compile(code: string, filename: string): void })._compile(text, filename);
  return (module.exports as { handler(): HostedProvider }).handler();
}

/** The stack configuration as the host hands it to `configure`: namespaced keys, secrets already unwrapped. */
export function stackConfig(values: Record<string, string>): { get(key: string): unknown } {
  return { get: (key: string) => values[key] };
}

/**
 * Forgets the provider's modules, so the next provider evaluated starts as in a new host process: not configured,
 * no cached tokens, nothing claimed. Each `pulumi up` or `pulumi destroy` is such a process.
 */
export function newHostProcess(): void {
  const providerDir = path.dirname(require.resolve("../../provider/context"));
  for (const file of Object.keys(require.cache)) {
    if (file.startsWith(providerDir + path.sep)) delete require.cache[file];
  }
}

/**
 * A provider for the resource type, serialized, evaluated and configured like the host does it, for a new deployment:
 * its module is loaded afresh, so nothing is claimed yet (a host configures a module it loaded once per deployment,
 * and keeps what it configured when asked again). Cached tokens stay, unless `newHostProcess` forgot them.
 */
export async function hostedProvider(resource: keyof typeof PROVIDERS, config: Record<string, string>): Promise<HostedProvider> {
  delete require.cache[PROVIDERS[resource].file];
  const provider = evaluateProvider(await serializedProvider(resource));
  await provider.configure({ config: stackConfig(config) });
  return provider;
}

/**
 * A provider of the resource type for each test, configured as the host configures it, and `up`: one `pulumi up` of
 * a new resource (check, then create). What a test does after `up` belongs to the next deployment, which Pulumi
 * configures anew (each deployment declares its settings afresh), so `up` leaves a newly configured provider behind.
 */
export function useHostedProvider(resource: keyof typeof PROVIDERS, config: () => Record<string, string>) {
  const suite = {
    provider: undefined as unknown as HostedProvider,
    async up(news: Record<string, unknown>) {
      const checked = await suite.provider.check({}, news);
      if (checked.failures?.length) throw new Error(`check failed: ${JSON.stringify(checked.failures)}`);
      const created = await suite.provider.create(checked.inputs);
      suite.provider = await hostedProvider(resource, config());
      return { inputs: checked.inputs as ProviderJson, ...created };
    },
  };
  beforeEach(async () => {
    suite.provider = await hostedProvider(resource, config());
  });
  return suite;
}
