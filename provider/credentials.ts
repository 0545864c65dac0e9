/**
 * Authorizer access tokens: fetched once per account per provider process, shared by every resource of that
 * account (of both resource types), deduplicated while in flight, and asked for once more when WeChat refuses one.
 *
 * Asking again never forces a new token: `stable_token` is always called in normal mode, which answers the token
 * currently valid for the account. Forced mode would invalidate the token the account's production servers hold
 * (and WeChat allows it 20 times a day), so a deployment must never use it.
 */
import { spawn } from "node:child_process";
import { z } from "zod";
import { API } from "./api";
import { ConcurrencyLimit, WeChatClient } from "./client";
import { Credentials, ProviderConfig, SETTINGS } from "./config";
import { WeChatApiError, WeChatConfigError, WeChatTokenCommandError, registerSecret } from "./errors";

/** A token and the moment after which it should no longer be used. */
interface Token {
  readonly value: string;
  readonly expiresAt: number;
}

/** A fetch, shared by everyone who asks while it is in flight; `token` is filled in once it resolves. */
interface CacheEntry {
  readonly fetching: Promise<Token>;
  token?: Token;
}

/** Refresh a little before WeChat's expiry (7200 s), so a long `pulumi up` never sends a token that ages out in transit. */
const EXPIRY_MARGIN_MS = 5 * 60 * 1000;

/**
 * Tokens of this process, by what issued them: the API, the account, and the credential (see `provenance`). Both
 * resource types share it, so an account's token is fetched once per process; two configurations with different
 * credentials never share an entry.
 */
const PROCESS_TOKENS = new Map<string, CacheEntry>();

type Fetch = () => Promise<Token>;

export class TokenSource {
  /** Token commands running at once: no more than requests in flight (wechat:maxConcurrency), whatever the fleet. */
  private readonly commands: ConcurrencyLimit;

  constructor(
    private readonly config: ProviderConfig,
    private readonly client: WeChatClient,
  ) {
    this.commands = new ConcurrencyLimit(config.maxConcurrency);
  }

  /**
   * Calls `use` with a token for `appId`. When WeChat refuses the token (40001, 42001) the currently valid one is
   * asked for (once for all the account's resources that saw the refusal) and `use` is called once more; a second
   * refusal is final and names the credential to check.
   */
  async withAccessToken<T>(appId: string, use: (token: string) => Promise<T>): Promise<T> {
    const credentials = this.credentials();
    const first = await this.authorizerToken(credentials, appId);
    try {
      return await use(first);
    } catch (error) {
      if (!isTokenRefusal(error)) throw error;
      if (credentials.mode === "accessToken") {
        throw new WeChatConfigError(
          `${error.message} The token comes from wechat:accessToken (${SETTINGS.accessToken.env}), which the provider cannot renew: issue a new authorizer access token for ${appId} and set it.`,
        );
      }
      const second = await this.authorizerToken(credentials, appId, first);
      try {
        return await use(second);
      } catch (retryError) {
        if (!isTokenRefusal(retryError)) throw retryError;
        throw new WeChatConfigError(
          `${retryError.message} The token asked for again was refused too: check ${credentialHint(credentials)} for ${appId}.`,
        );
      }
    }
  }

  /** The credentials, or the reason there are none (check and diff never get here: only API calls need them). */
  credentials(): Credentials {
    if (!this.config.credentials) throw new WeChatConfigError(this.config.credentialsProblem ?? "No WeChat credentials are configured.");
    return this.config.credentials;
  }

  /** A usable token for the account; `refused` names one WeChat turned down, to be replaced. */
  private authorizerToken(credentials: Credentials, appId: string, refused?: string): Promise<string> {
    switch (credentials.mode) {
      case "accessToken":
        if (credentials.appId !== appId) throw wrongAccount("wechat:accessToken is a token", credentials.appId, appId);
        return Promise.resolve(credentials.accessToken);
      case "account":
        if (credentials.appId !== appId) throw wrongAccount("The configured credentials are", credentials.appId, appId);
        return this.cached(this.provenance(appId, credentials.appSecret), refused, () => this.stableToken(appId, credentials.appSecret));
      case "platform":
        return this.cached(this.provenance(appId, credentials.authorizerRefreshTokens[appId] ?? ""), refused, () =>
          this.platformToken(credentials, appId),
        );
      case "tokenCommand":
        return this.cached(this.provenance(appId, credentials.command), refused, () =>
          this.commands.run(() => runTokenCommand(credentials.command, appId, this.config)),
        );
    }
  }

  /** The cache key of a token: which API, which account, which credential (never printed, never stored). */
  private provenance(appId: string, credential: string): string {
    return JSON.stringify([this.config.apiBaseUrl, this.config.credentials?.mode, appId, credential]);
  }

  /**
   * The token cached under `key`, or a new one. Concurrent callers share one fetch and its outcome, failure
   * included. `refused` names a token WeChat turned down: it is asked for again, unless another caller has replaced
   * it already. A failure that asking again cannot fix (a wrong secret, an IP not on the whitelist, a stale refresh
   * token) is kept, so the account's other resources get the same answer without another call.
   */
  private async cached(key: string, refused: string | undefined, fetch: Fetch): Promise<string> {
    const entry = PROCESS_TOKENS.get(key);
    if (entry) {
      const token = entry.token ?? (await entry.fetching);
      if (PROCESS_TOKENS.get(key) !== entry) return this.cached(key, refused, fetch);
      if (token.value !== refused && token.expiresAt > Date.now()) return token.value;
    }
    const fresh: CacheEntry = { fetching: fetch() };
    PROCESS_TOKENS.set(key, fresh);
    try {
      fresh.token = await fresh.fetching;
      return fresh.token.value;
    } catch (error) {
      if (!isFinal(error) && PROCESS_TOKENS.get(key) === fresh) PROCESS_TOKENS.delete(key);
      throw error;
    }
  }

  /** stable_token, not /cgi-bin/token: the older endpoint issues a new token on every call, expiring production's. */
  private async stableToken(appId: string, secret: string): Promise<Token> {
    const answer = await this.client.call(API.stableToken, {
      appId,
      body: { grant_type: "client_credential", appid: appId, secret, force_refresh: false },
    });
    return token(answer.access_token, answer.expires_in);
  }

  private async platformToken(credentials: Extract<Credentials, { mode: "platform" }>, appId: string): Promise<Token> {
    const refreshToken = credentials.authorizerRefreshTokens[appId];
    if (!refreshToken) {
      throw new WeChatConfigError(
        `No refresh token for authorizer ${appId}: add "${appId}" to the JSON object in wechat:authorizerRefreshTokens (set it with \`pulumi config set --secret\`), or use wechat:tokenCommand.`,
      );
    }
    return this.withComponentToken(credentials, async (componentToken) => {
      const answer = await this.client.call(API.authorizerToken, {
        appId,
        token: componentToken,
        body: { component_appid: credentials.componentAppId, authorizer_appid: appId, authorizer_refresh_token: refreshToken },
      });
      return token(answer.authorizer_access_token, answer.expires_in);
    });
  }

  /** Runs `use` with the platform's component token, asking for it again once if WeChat refuses it. */
  private async withComponentToken<T>(
    credentials: Extract<Credentials, { mode: "platform" }>,
    use: (token: string) => Promise<T>,
  ): Promise<T> {
    const key = this.provenance(
      ":component",
      credentials.componentAccessToken ?? `${credentials.componentAppId} ${credentials.componentAppSecret}`,
    );
    const fetch = () => this.componentToken(credentials);
    const first = await this.cached(key, undefined, fetch);
    try {
      return await use(first);
    } catch (error) {
      // A ready component token from config cannot be renewed: the refusal is the answer.
      if (!isTokenRefusal(error) || credentials.componentAccessToken) throw error;
      return use(await this.cached(key, first, fetch));
    }
  }

  private async componentToken(credentials: Extract<Credentials, { mode: "platform" }>): Promise<Token> {
    if (credentials.componentAccessToken) return { value: credentials.componentAccessToken, expiresAt: Number.POSITIVE_INFINITY };
    const answer = await this.client.call(API.componentToken, {
      body: {
        component_appid: credentials.componentAppId,
        component_appsecret: credentials.componentAppSecret!,
        component_verify_ticket: credentials.componentVerifyTicket!,
      },
    });
    return token(answer.component_access_token, answer.expires_in);
  }
}

function token(value: string, expiresInSeconds: number): Token {
  registerSecret(value);
  const lifetimeMs = expiresInSeconds * 1000;
  return { value, expiresAt: Date.now() + Math.max(lifetimeMs - EXPIRY_MARGIN_MS, lifetimeMs / 2) };
}

function wrongAccount(what: string, configured: string, managed: string): WeChatConfigError {
  return new WeChatConfigError(
    `${what} for ${configured} (wechat:appId), but a resource manages ${managed}; nothing was sent. These credentials serve only ${configured}: set authorizerAppId to ${configured}, or use third-party platform credentials or wechat:tokenCommand to manage several accounts.`,
  );
}

function isFinal(error: unknown): boolean {
  if (error instanceof WeChatApiError) return error.kind === "final" || error.kind === "bug";
  return error instanceof WeChatConfigError || error instanceof WeChatTokenCommandError;
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
    case "tokenCommand":
      return `what wechat:tokenCommand prints`;
  }
}

/** What a token command must print on stdout: the token and its lifetime in seconds (WeChat's own field names). */
const CommandOutput = z.object({ access_token: z.string().min(1), expires_in: z.number().int().positive() });
const MAX_OUTPUT_BYTES = 64 * 1024;

/**
 * Runs the user's token command for one account. It is told what to print through the environment
 * (WECHAT_TOKEN_KIND=authorizer, WECHAT_TOKEN_APP_ID=<appid>), never through its command line, so no appid can be
 * read as shell syntax. Its output is a token: never printed, never stored, and not quoted in any error.
 */
function runTokenCommand(command: string, appId: string, config: Pick<ProviderConfig, "requestTimeoutMs">): Promise<Token> {
  // The program's name, to say which command failed; an assignment (`TOKEN=… ./get`) may hold a secret, so not that.
  const program = command.trim().split(/\s+/)[0];
  const name = program.includes("=") ? "wechat:tokenCommand" : `wechat:tokenCommand (${program} …)`;
  return new Promise((resolve, reject) => {
    let settled = false;
    const settle = (outcome: () => void) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      outcome();
    };
    const fail = (why: string) =>
      settle(() =>
        reject(new WeChatTokenCommandError(`${name} ${why} for authorizer ${appId}. Its output is not shown: it may hold a token.`)),
      );
    // Its own process group, so that stopping it stops what the shell started too (`cd x && ./get-token`).
    const child = spawn(command, {
      shell: true,
      detached: true,
      stdio: ["ignore", "pipe", "ignore"],
      env: { ...process.env, WECHAT_TOKEN_KIND: "authorizer", WECHAT_TOKEN_APP_ID: appId },
    });
    const stop = () => {
      try {
        process.kill(-child.pid!, "SIGKILL");
      } catch {
        // already ended
      }
    };
    let output = "";
    child.stdout!.on("data", (chunk: Buffer) => {
      output += chunk.toString();
      if (output.length <= MAX_OUTPUT_BYTES) return;
      stop();
      fail(`printed more than ${MAX_OUTPUT_BYTES / 1024} KB`);
    });
    const timer = setTimeout(() => {
      stop();
      fail(`did not finish within ${config.requestTimeoutMs} ms (wechat:requestTimeoutMs)`);
    }, config.requestTimeoutMs);
    child.once("error", (error) => fail(`could not be started (${(error as NodeJS.ErrnoException).code ?? "error"})`));
    child.once("close", (code, signal) => {
      if (code !== 0) return fail(signal ? `was stopped by ${signal}` : `exited with status ${code}`);
      let parsed: z.ZodSafeParseResult<z.infer<typeof CommandOutput>> | undefined;
      try {
        parsed = CommandOutput.safeParse(JSON.parse(output));
      } catch {
        parsed = undefined;
      }
      if (!parsed?.success) {
        return fail('printed no token: it must print one JSON object, {"access_token":"…","expires_in":7200}');
      }
      const { access_token, expires_in } = parsed.data;
      settle(() => resolve(token(access_token, expires_in)));
    });
  });
}
