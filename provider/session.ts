/**
 * The provider's process-wide state: one configuration, one HTTP client and one token cache, shared by both
 * resource types. Pulumi's host calls `configure` once per distinct serialized provider (so once for each resource
 * type) with the same stack configuration; sharing one session is what makes a token fetch per account per process.
 */
import { WeChatAnswer, WeChatClient } from "./client";
import { ConfigSource, ProviderConfig, readProviderConfig } from "./config";
import { TokenSource } from "./credentials";

export interface Session {
  readonly config: ProviderConfig;
  readonly client: WeChatClient;
  readonly tokens: TokenSource;
  /** Calls an API on behalf of an authorized account with its access token (renewed once if refused). */
  call(appId: string, api: string, path: string, body: Readonly<Record<string, unknown>>): Promise<WeChatAnswer>;
  /**
   * The settings (resource ids) a create or update took over during this deployment. Pulumi creates a renamed
   * resource before it deletes the old one, and both have the same id (the id is the setting): the old one's delete
   * must then leave the setting to its new owner instead of resetting or restoring it.
   */
  readonly claimed: Set<string>;
}

let current: { readonly fingerprint: string; readonly session: Session } | undefined;

function createSession(config: ProviderConfig): Session {
  const client = new WeChatClient(config);
  const tokens = new TokenSource(config, client);
  return {
    config,
    client,
    tokens,
    claimed: new Set(),
    call: (appId, api, path, body) =>
      tokens.withAccessToken(appId, (token) => client.post({ api, appId, path, query: { access_token: token }, body })),
  };
}

/**
 * Sets up the session from Pulumi's configuration (`configure({ config })`). The same configuration keeps the
 * existing session and its tokens; a different one replaces it.
 */
export function configureSession(source: ConfigSource | undefined, env: NodeJS.ProcessEnv = process.env): Session {
  const config = readProviderConfig(source, env);
  const fingerprint = JSON.stringify(config);
  if (current?.fingerprint !== fingerprint) current = { fingerprint, session: createSession(config) };
  return current.session;
}

/** The configured session; a provider used without `configure` reads the environment alone. */
export function session(): Session {
  return current?.session ?? configureSession(undefined);
}
