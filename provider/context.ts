/**
 * What turns a resource definition into the provider object Pulumi's dynamic-provider host calls.
 *
 * The host calls `configure` once per provider object with the whole stack configuration; the object turns it into
 * a `Context` (the settings, the HTTP client, the token source, this deployment's claims) and hands that value to
 * every operation. A configuration that cannot be read fails every operation with that error: nothing falls back to
 * the environment or to another configuration.
 */
import { isDeepStrictEqual } from "node:util";
import { Endpoint } from "./api";
import { Transport, WeChatClient } from "./client";
import { ConfigSource, ProviderConfig, readProviderConfig } from "./config";
import { TokenSource } from "./credentials";
import { WeChatConfigError } from "./errors";
import { CheckResult, CreateResult, DiffResult, ReadResult, UpdateResult } from "./resource";

/** What an operation gets: the configuration as a value, and the means to call WeChat with it. */
export interface Context {
  readonly config: ProviderConfig;
  readonly tokens: TokenSource;
  readonly claims: Claims;
  /** Calls an API on behalf of an authorized account with its access token (asked for again once if refused). */
  call<Body, Answer>(appId: string, endpoint: Endpoint<Body, Answer>, body: Body): Promise<Answer>;
}

/**
 * The settings (resource ids) the resources of this deployment declare, as each is checked (the engine checks every
 * resource of the program once per deployment, preview included, and a replacement once more). Two resources of one
 * program declaring the same setting differently would both "succeed" while the account holds whichever ran last,
 * so the second declaration fails check; the same declaration checked twice is the same resource (or two that agree).
 * Pulumi creates a renamed resource before it deletes the old one, and both have the same id (the id is the
 * setting): the old one's delete finds the setting declared and leaves it to its new owner.
 */
export class Claims {
  private readonly declared = new Map<string, string>();

  /** Declares that a resource with these (normalized) inputs manages `id`: false when another declared it otherwise. */
  declare(id: string, inputs: unknown): boolean {
    const declaration = JSON.stringify(inputs);
    const earlier = this.declared.get(id);
    if (earlier !== undefined) return earlier === declaration;
    this.declared.set(id, declaration);
    return true;
  }

  has(id: string): boolean {
    return this.declared.has(id);
  }
}

/** A resource's operations, each given the context (check and diff need none of its network parts). */
export interface ResourceDefinition<State, Outputs> {
  check(news: Record<string, unknown>, context: Context): CheckResult<State>;
  diff(id: string, olds: Outputs, news: State, context: Context): DiffResult;
  create(context: Context, inputs: State): Promise<CreateResult<Outputs>>;
  read(context: Context, id: string, props: Outputs): Promise<ReadResult<Outputs>>;
  update(context: Context, id: string, olds: Outputs, news: State): Promise<UpdateResult<Outputs>>;
  delete(context: Context, id: string, props: Outputs): Promise<void>;
}

/** The object Pulumi's dynamic-provider host loads: `configure`, then the six operations. */
export interface DynamicProvider<State, Outputs> {
  configure(request: { config?: ConfigSource }): Promise<void>;
  check(olds: Record<string, unknown>, news: Record<string, unknown>): Promise<CheckResult<State>>;
  diff(id: string, olds: Outputs, news: State): Promise<DiffResult>;
  create(inputs: State): Promise<CreateResult<Outputs>>;
  read(id: string, props: Outputs): Promise<ReadResult<Outputs>>;
  update(id: string, olds: Outputs, news: State): Promise<UpdateResult<Outputs>>;
  delete(id: string, props: Outputs): Promise<void>;
}

function createContext(config: ProviderConfig, transport: Transport | undefined): Context {
  const client = new WeChatClient({ ...config, transport });
  const tokens = new TokenSource(config, client);
  return {
    config,
    tokens,
    claims: new Claims(),
    call: (appId, endpoint, body) => tokens.withAccessToken(appId, (token) => client.call(endpoint, { appId, token, body })),
  };
}

/** The provider object for a resource; `transport` replaces the HTTP exchange (for tools that measure the provider). */
export function dynamicProvider<State, Outputs>(
  definition: ResourceDefinition<State, Outputs>,
  options: { readonly transport?: Transport } = {},
): DynamicProvider<State, Outputs> {
  let configured: { context: Context } | { error: Error } | undefined;
  const context = (): Context => {
    if (!configured) throw new WeChatConfigError("internal: the provider was used before Pulumi configured it");
    if ("error" in configured) throw configured.error;
    return configured.context;
  };
  return {
    async configure(request) {
      let config: ProviderConfig;
      try {
        config = readProviderConfig(request.config);
      } catch (error) {
        configured = { error: error as Error };
        return;
      }
      // The host loads this object once per distinct `__provider` text and configures each load, all with the one
      // configuration of its deployment: a resource saved by another version of the package carries another text
      // that requires this same module. Keep the context then, so the deployment keeps one set of claims (a renamed
      // resource's delete must see its new owner's), one token cache and one concurrency limit.
      if (configured && "context" in configured && isDeepStrictEqual(configured.context.config, config)) return;
      configured = { context: createContext(config, options.transport) };
    },
    check: async (_olds, news) => definition.check(news, context()),
    diff: async (id, olds, news) => definition.diff(id, olds, news, context()),
    create: async (inputs) => definition.create(context(), inputs),
    read: async (id, props) => definition.read(context(), id, props),
    update: async (id, olds, news) => definition.update(context(), id, olds, news),
    delete: async (id, props) => definition.delete(context(), id, props),
  };
}
