/**
 * Authorizer access tokens: fetched once per account per provider process, shared by every resource of that
 * account, deduplicated while in flight, and fetched again once when WeChat refuses one.
 *
 * The three ways to get a token (a ready token, the account's own credentials, a third-party platform) are
 * described in the README and in config.ts; this module only turns the chosen one into tokens.
 */
import { WeChatClient } from "./client";
import { Credentials, ProviderConfig, SETTINGS } from "./config";
import { WeChatApiError, WeChatConfigError, registerSecret } from "./errors";

/** A token and the moment after which it should no longer be used. */
interface CachedToken {
  readonly value: string;
  readonly expiresAt: number;
}

/** A fetch, shared by everyone who asks while it is in flight; `token` is filled in once it resolves. */
interface TokenEntry {
  readonly fetching: Promise<CachedToken>;
  token?: CachedToken;
}

type PlatformCredentials = Extract<Credentials, { mode: "platform" }>;

/** The cache key of the platform's component token (appids cannot start with a colon). */
const COMPONENT_TOKEN_KEY = ":component";

/** Refresh a little before WeChat's expiry (7200 s), so a long `pulumi up` never sends a token that ages out in transit. */
const EXPIRY_MARGIN_MS = 5 * 60 * 1000;

/** Counters for tests and benchmarks: how many tokens this process fetched. */
export interface TokenStats {
  authorizerTokenFetches: number;
  componentTokenFetches: number;
}

export class TokenSource {
  readonly stats: TokenStats = { authorizerTokenFetches: 0, componentTokenFetches: 0 };
  private readonly tokens = new Map<string, TokenEntry>();

  constructor(
    private readonly config: ProviderConfig,
    private readonly client: WeChatClient,
  ) {}

  /**
   * Calls `use` with a token for `appId`. When WeChat refuses the token (40001, 40014, 42001) a new one is fetched
   * (once for all the account's resources that saw the refusal) and `use` is called once more; a second refusal is
   * final and names the credential to check.
   */
  async withAccessToken<T>(appId: string, use: (token: string) => Promise<T>): Promise<T> {
    const first = await this.token(appId);
    try {
      return await use(first);
    } catch (error) {
      if (!isTokenRefusal(error)) throw error;
      const credentials = this.credentials();
      if (credentials.mode === "accessToken") {
        throw new WeChatConfigError(
          `${error.message} The token comes from wechat:accessToken (${SETTINGS.accessToken.env}), which the provider cannot renew: issue a new authorizer access token for ${appId} and set it.`,
        );
      }
      const second = await this.token(appId, first);
      try {
        return await use(second);
      } catch (retryError) {
        if (!isTokenRefusal(retryError)) throw retryError;
        throw new WeChatConfigError(
          `${retryError.message} A freshly fetched token was refused too: check ${credentialHint(credentials)} for ${appId}.`,
        );
      }
    }
  }

  /** A usable token for the account; `refused` names one WeChat turned down (see `cached`). */
  private token(appId: string, refused?: string): Promise<string> {
    return this.cached(appId, refused, (forceRefresh) => this.fetchAuthorizerToken(appId, forceRefresh));
  }

  /**
   * The token cached under `key`, or a new one. Concurrent callers share one fetch and its outcome, failure
   * included. `refused` names a token WeChat turned down: it is replaced by a forced refresh, unless another caller
   * has replaced it already. A failure that asking again cannot fix (a wrong secret, an IP not on the whitelist, a
   * stale refresh token) is kept, so the account's other resources get the same answer without another call; any
   * other failure is forgotten, and the next caller tries again.
   */
  private async cached(key: string, refused: string | undefined, fetch: (forceRefresh: boolean) => Promise<CachedToken>): Promise<string> {
    const entry = this.tokens.get(key);
    if (entry) {
      const token = entry.token ?? (await entry.fetching);
      if (this.tokens.get(key) !== entry) return this.cached(key, refused, fetch);
      if (token.value !== refused && token.expiresAt > Date.now()) return token.value;
    }
    const fresh: TokenEntry = { fetching: fetch(refused !== undefined) };
    this.tokens.set(key, fresh);
    try {
      fresh.token = await fresh.fetching;
      return fresh.token.value;
    } catch (error) {
      if (!isFinal(error) && this.tokens.get(key) === fresh) this.tokens.delete(key);
      throw error;
    }
  }

  private credentials(): Credentials {
    if (!this.config.credentials) throw new WeChatConfigError(this.config.credentialsProblem ?? "No WeChat credentials are configured.");
    return this.config.credentials;
  }

  private async fetchAuthorizerToken(appId: string, forceRefresh: boolean): Promise<CachedToken> {
    const credentials = this.credentials();
    switch (credentials.mode) {
      case "accessToken": {
        if (credentials.appId && credentials.appId !== appId) {
          throw new WeChatConfigError(
            `wechat:accessToken is a token for ${credentials.appId} (wechat:appId), but a resource manages ${appId}. A ready token serves one account; use third-party platform credentials to manage several.`,
          );
        }
        return { value: credentials.accessToken, expiresAt: Number.POSITIVE_INFINITY };
      }
      case "account": {
        if (credentials.appId !== appId) {
          throw new WeChatConfigError(
            `The configured credentials are for ${credentials.appId} (wechat:appId), but a resource manages ${appId}. An account's own credentials manage only that account: set authorizerAppId to ${credentials.appId}, or use third-party platform credentials.`,
          );
        }
        this.stats.authorizerTokenFetches++;
        // stable_token, not /cgi-bin/token: the older endpoint issues a new token on every call and so expires
        // the tokens the account's production servers are using.
        const answer = await this.client.post({
          api: "stable_token",
          appId,
          path: "/cgi-bin/stable_token",
          body: { grant_type: "client_credential", appid: appId, secret: credentials.appSecret, force_refresh: forceRefresh },
        });
        return this.cache(answer.access_token, answer.expires_in, "stable_token");
      }
      case "platform": {
        const refreshToken = credentials.authorizerRefreshTokens[appId];
        if (!refreshToken) {
          throw new WeChatConfigError(
            `No refresh token for authorizer ${appId}: add "${appId}" to the JSON object in wechat:authorizerRefreshTokens (set it with \`pulumi config set --secret\`).`,
          );
        }
        return this.withComponentToken(credentials, async (componentToken) => {
          this.stats.authorizerTokenFetches++;
          const answer = await this.client.post({
            api: "api_authorizer_token",
            appId,
            path: "/cgi-bin/component/api_authorizer_token",
            query: { component_access_token: componentToken },
            body: {
              component_appid: credentials.componentAppId,
              authorizer_appid: appId,
              authorizer_refresh_token: refreshToken,
            },
          });
          return this.cache(answer.authorizer_access_token, answer.expires_in, "api_authorizer_token");
        });
      }
    }
  }

  /** Runs `use` with the platform's component token, fetching it again once if WeChat refuses it. */
  private async withComponentToken<T>(credentials: PlatformCredentials, use: (token: string) => Promise<T>): Promise<T> {
    const fetch = () => this.fetchComponentToken(credentials);
    const first = await this.cached(COMPONENT_TOKEN_KEY, undefined, fetch);
    try {
      return await use(first);
    } catch (error) {
      // A ready component token from config cannot be renewed: the refusal is the answer.
      if (!isTokenRefusal(error) || credentials.componentAccessToken) throw error;
      return use(await this.cached(COMPONENT_TOKEN_KEY, first, fetch));
    }
  }

  private async fetchComponentToken(credentials: PlatformCredentials): Promise<CachedToken> {
    if (credentials.componentAccessToken) {
      return { value: credentials.componentAccessToken, expiresAt: Number.POSITIVE_INFINITY };
    }
    this.stats.componentTokenFetches++;
    const answer = await this.client.post({
      api: "api_component_token",
      path: "/cgi-bin/component/api_component_token",
      body: {
        component_appid: credentials.componentAppId,
        component_appsecret: credentials.componentAppSecret,
        component_verify_ticket: credentials.componentVerifyTicket,
      },
    });
    return this.cache(answer.component_access_token, answer.expires_in, "api_component_token");
  }

  private cache(value: unknown, expiresIn: unknown, api: string): CachedToken {
    if (typeof value !== "string" || value === "") {
      throw new WeChatConfigError(`WeChat API ${api} answered without a token: check wechat:apiBaseUrl points at the WeChat API.`);
    }
    registerSecret(value);
    const seconds = typeof expiresIn === "number" && expiresIn > 0 ? expiresIn : 7200;
    return { value, expiresAt: Date.now() + Math.max(seconds * 1000 - EXPIRY_MARGIN_MS, seconds * 500) };
  }
}

function isFinal(error: unknown): boolean {
  return error instanceof WeChatConfigError || (error instanceof WeChatApiError && (error.kind === "final" || error.kind === "bug"));
}

function isTokenRefusal(error: unknown): error is WeChatApiError {
  return error instanceof WeChatApiError && error.kind === "token";
}

function credentialHint(credentials: Credentials): string {
  switch (credentials.mode) {
    case "accessToken":
      return "wechat:accessToken";
    case "account":
      return "wechat:appId and wechat:appSecret";
    case "platform":
      return "wechat:componentAppId, the component secret or token, and the account's entry in wechat:authorizerRefreshTokens";
  }
}
