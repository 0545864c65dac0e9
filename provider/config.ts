/**
 * The provider's settings: where the API is, which credentials to use, and how hard to retry. They come from the
 * stack configuration (namespace `wechat`, handed over by Pulumi's `configure`) with `WECHAT_*` environment
 * variables as the fallback. Nothing here is ever written to resource state.
 */
import { z } from "zod";
import { WeChatConfigError, registerSecret } from "./errors";

/** One setting: its stack-config key, its environment variable, and whether it is a secret. */
interface SettingKey {
  readonly config: string;
  readonly env: string;
  readonly secret?: boolean;
}

const key = (name: string, env: string, secret = false): SettingKey => ({ config: `wechat:${name}`, env, secret });

/** Every `wechat:` key the provider reads. The README's credentials table lists the same keys. */
export const SETTINGS = {
  apiBaseUrl: key("apiBaseUrl", "WECHAT_API_BASE_URL"),
  accessToken: key("accessToken", "WECHAT_ACCESS_TOKEN", true),
  appId: key("appId", "WECHAT_APP_ID"),
  appSecret: key("appSecret", "WECHAT_APP_SECRET", true),
  componentAppId: key("componentAppId", "WECHAT_COMPONENT_APP_ID"),
  componentAppSecret: key("componentAppSecret", "WECHAT_COMPONENT_APP_SECRET", true),
  componentVerifyTicket: key("componentVerifyTicket", "WECHAT_COMPONENT_VERIFY_TICKET", true),
  componentAccessToken: key("componentAccessToken", "WECHAT_COMPONENT_ACCESS_TOKEN", true),
  authorizerRefreshTokens: key("authorizerRefreshTokens", "WECHAT_AUTHORIZER_REFRESH_TOKENS", true),
  maxConcurrency: key("maxConcurrency", "WECHAT_MAX_CONCURRENCY"),
  maxAttempts: key("maxAttempts", "WECHAT_MAX_ATTEMPTS"),
  retryBaseDelayMs: key("retryBaseDelayMs", "WECHAT_RETRY_BASE_DELAY_MS"),
  requestTimeoutMs: key("requestTimeoutMs", "WECHAT_REQUEST_TIMEOUT_MS"),
} as const;

type SettingName = keyof typeof SETTINGS;

const CREDENTIAL_SETTINGS: readonly SettingName[] = [
  "accessToken",
  "appId",
  "appSecret",
  "componentAppId",
  "componentAppSecret",
  "componentVerifyTicket",
  "componentAccessToken",
  "authorizerRefreshTokens",
];

/** An appid as WeChat issues them: `wx` and 16 lowercase hex characters. */
export const APP_ID_PATTERN = /^wx[0-9a-f]{16}$/;

/** Defaults for the retry and limit knobs; the README's "Retries and limits" section documents the same values. */
export const DEFAULT_TUNING = {
  maxConcurrency: 16,
  maxAttempts: 5,
  retryBaseDelayMs: 1000,
  requestTimeoutMs: 15000,
} as const;

/** How the provider gets an authorizer access token. */
export type Credentials =
  /** A ready token from the user's own token service, used as is for every account. */
  | { readonly mode: "accessToken"; readonly accessToken: string; readonly appId?: string }
  /** The account's own appid and secret, exchanged through `/cgi-bin/stable_token`. */
  | { readonly mode: "account"; readonly appId: string; readonly appSecret: string }
  /** A third-party platform acting for the accounts that authorized it. */
  | {
      readonly mode: "platform";
      readonly componentAppId: string;
      readonly componentAppSecret?: string;
      readonly componentVerifyTicket?: string;
      readonly componentAccessToken?: string;
      readonly authorizerRefreshTokens: Readonly<Record<string, string>>;
    };

/** Everything the provider needs to talk to WeChat. */
export interface ProviderConfig {
  readonly apiBaseUrl: string;
  /** Undefined when no credentials are set: the provider can still check and diff (preview needs no API). */
  readonly credentials: Credentials | undefined;
  /** Why `credentials` is undefined, kept so the first API call can explain it. */
  readonly credentialsProblem?: string;
  readonly maxConcurrency: number;
  readonly maxAttempts: number;
  readonly retryBaseDelayMs: number;
  readonly requestTimeoutMs: number;
}

/** The shape of Pulumi's `configure` request: a lookup by namespaced key. */
export interface ConfigSource {
  get(key: string): unknown;
}

const positiveInteger = (name: SettingName, max: number) =>
  z.coerce
    .number({ error: `${SETTINGS[name].config} must be a whole number` })
    .int(`${SETTINGS[name].config} must be a whole number`)
    .min(1, `${SETTINGS[name].config} must be at least 1`)
    .max(max, `${SETTINGS[name].config} must be at most ${max}`);

const tuningSchema = z.object({
  maxConcurrency: positiveInteger("maxConcurrency", 1024).default(DEFAULT_TUNING.maxConcurrency),
  maxAttempts: positiveInteger("maxAttempts", 20).default(DEFAULT_TUNING.maxAttempts),
  retryBaseDelayMs: z.coerce
    .number()
    .int()
    .min(0, `${SETTINGS.retryBaseDelayMs.config} must be 0 or more`)
    .max(60000, `${SETTINGS.retryBaseDelayMs.config} must be at most 60000`)
    .default(DEFAULT_TUNING.retryBaseDelayMs),
  requestTimeoutMs: positiveInteger("requestTimeoutMs", 600000).default(DEFAULT_TUNING.requestTimeoutMs),
});

const refreshTokensSchema = z.record(
  z.string().regex(APP_ID_PATTERN, "each key must be an authorizer appid (wx followed by 16 lowercase hex characters)"),
  z.string().min(1, "each refresh token must be a non-empty string"),
);

/** Reads the raw value of a setting: the stack config when it sets any credential, else the environment. */
function rawSettings(source: ConfigSource | undefined, env: NodeJS.ProcessEnv): Partial<Record<SettingName, string>> {
  const fromConfig = (name: SettingName): string | undefined => {
    const value = source?.get(SETTINGS[name].config);
    if (value === undefined || value === null || value === "") return undefined;
    return typeof value === "string" ? value : JSON.stringify(value);
  };
  const fromEnv = (name: SettingName): string | undefined => env[SETTINGS[name].env] || undefined;

  // Credentials come from one place only: a stack that sets any `wechat:` credential ignores WECHAT_* credential
  // variables, so a CI runner's environment cannot silently mix into (or contradict) a stack's own credentials.
  const configHasCredentials = CREDENTIAL_SETTINGS.some((name) => fromConfig(name) !== undefined);
  const result: Partial<Record<SettingName, string>> = {};
  for (const name of Object.keys(SETTINGS) as SettingName[]) {
    const isCredential = CREDENTIAL_SETTINGS.includes(name);
    const value = isCredential && configHasCredentials ? fromConfig(name) : (fromConfig(name) ?? fromEnv(name));
    if (value !== undefined) {
      result[name] = value;
      if (SETTINGS[name].secret) registerSecret(value);
    }
  }
  return result;
}

const names = (list: readonly SettingName[]) => list.map((name) => `${SETTINGS[name].config} (${SETTINGS[name].env})`).join(", ");

const HOW_TO_SET =
  "Set one of: wechat:accessToken (a ready authorizer access token); wechat:appId + wechat:appSecret (an account's " +
  "own credentials); or wechat:componentAppId + wechat:componentAppSecret + wechat:componentVerifyTicket (or " +
  "wechat:componentAccessToken) + wechat:authorizerRefreshTokens (a third-party platform). Use " +
  "`pulumi config set --secret` for secrets, or the WECHAT_* environment variables.";

/** Chooses the credential mode from what is set, or explains what is missing or contradictory. */
function resolveCredentials(raw: Partial<Record<SettingName, string>>): Credentials {
  const set = (names: readonly SettingName[]) => names.filter((name) => raw[name] !== undefined);
  const platformKeys = set([
    "componentAppId",
    "componentAppSecret",
    "componentVerifyTicket",
    "componentAccessToken",
    "authorizerRefreshTokens",
  ]);
  const accountKeys = set(["appSecret"]);
  const modes = [
    raw.accessToken ? "a ready access token" : "",
    accountKeys.length ? "account" : "",
    platformKeys.length ? "platform" : "",
  ].filter(Boolean);
  if (modes.length > 1) {
    throw new WeChatConfigError(
      `Contradictory WeChat credentials: settings for more than one mode are present (${names(
        set(CREDENTIAL_SETTINGS),
      )}). Keep the keys of exactly one mode and remove the others. ${HOW_TO_SET}`,
    );
  }
  const checkAppId = (name: SettingName) => {
    const value = raw[name];
    if (value !== undefined && !APP_ID_PATTERN.test(value)) {
      throw new WeChatConfigError(
        `${SETTINGS[name].config} must be an appid: wx followed by 16 lowercase hex characters, e.g. wx1234567890abcdef.`,
      );
    }
    return value;
  };

  if (raw.accessToken) {
    return { mode: "accessToken", accessToken: raw.accessToken, appId: checkAppId("appId") };
  }
  if (accountKeys.length) {
    const appId = checkAppId("appId");
    if (!appId) {
      throw new WeChatConfigError(`wechat:appSecret is set but wechat:appId is missing: set wechat:appId to the account's appid.`);
    }
    return { mode: "account", appId, appSecret: raw.appSecret! };
  }
  if (platformKeys.length) {
    const componentAppId = checkAppId("componentAppId");
    const missing: string[] = [];
    if (!componentAppId) missing.push("wechat:componentAppId");
    const hasReadyToken = raw.componentAccessToken !== undefined;
    if (!hasReadyToken && !(raw.componentAppSecret && raw.componentVerifyTicket)) {
      missing.push("wechat:componentAppSecret and wechat:componentVerifyTicket (or wechat:componentAccessToken)");
    }
    if (!raw.authorizerRefreshTokens) missing.push("wechat:authorizerRefreshTokens");
    if (missing.length) {
      throw new WeChatConfigError(`Incomplete third-party platform credentials: missing ${missing.join("; ")}. ${HOW_TO_SET}`);
    }
    let parsed: unknown;
    try {
      parsed = JSON.parse(raw.authorizerRefreshTokens!);
    } catch {
      throw new WeChatConfigError(
        'wechat:authorizerRefreshTokens must be a JSON object mapping authorizer appid to refresh token, e.g. {"wx1234567890abcdef":"refreshtoken@@@..."}; set it with `pulumi config set --secret`.',
      );
    }
    const tokens = refreshTokensSchema.safeParse(parsed);
    if (!tokens.success) {
      const issue = tokens.error.issues[0];
      throw new WeChatConfigError(
        `wechat:authorizerRefreshTokens${issue.path.length ? `["${issue.path.join(".")}"]` : ""}: ${issue.message}.`,
      );
    }
    Object.values(tokens.data).forEach(registerSecret);
    return {
      mode: "platform",
      componentAppId: componentAppId!,
      componentAppSecret: raw.componentAppSecret,
      componentVerifyTicket: raw.componentVerifyTicket,
      componentAccessToken: raw.componentAccessToken,
      authorizerRefreshTokens: tokens.data,
    };
  }
  if (raw.appId) {
    throw new WeChatConfigError(
      `wechat:appId is set but no credential goes with it: add wechat:appSecret (the account's AppSecret) or wechat:accessToken. ${HOW_TO_SET}`,
    );
  }
  throw new WeChatConfigError(`No WeChat credentials are configured. ${HOW_TO_SET}`);
}

/** Where the real API lives. */
export const DEFAULT_API_BASE_URL = "https://api.weixin.qq.com";

function resolveApiBaseUrl(value: string | undefined): string {
  if (value === undefined) return DEFAULT_API_BASE_URL;
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new WeChatConfigError(`wechat:apiBaseUrl "${value}" is not a URL: use e.g. ${DEFAULT_API_BASE_URL}.`);
  }
  const loopback = ["127.0.0.1", "localhost", "[::1]"].includes(url.hostname) || url.hostname.startsWith("127.");
  // Tokens travel in the query string: plain HTTP is only acceptable when it never leaves the machine.
  if (url.protocol !== "https:" && !(url.protocol === "http:" && loopback)) {
    throw new WeChatConfigError(
      `wechat:apiBaseUrl "${url.origin}" must use https (plain http is accepted only for loopback addresses such as the emulator).`,
    );
  }
  return url.origin + url.pathname.replace(/\/+$/, "");
}

/**
 * Builds the provider's settings. Problems with the retry knobs or the URL throw at once (they are typos to fix);
 * missing credentials are kept as `credentialsProblem`, because check, diff and preview do not need any.
 */
export function readProviderConfig(source: ConfigSource | undefined, env: NodeJS.ProcessEnv = process.env): ProviderConfig {
  const raw = rawSettings(source, env);
  const tuning = tuningSchema.safeParse({
    maxConcurrency: raw.maxConcurrency,
    maxAttempts: raw.maxAttempts,
    retryBaseDelayMs: raw.retryBaseDelayMs,
    requestTimeoutMs: raw.requestTimeoutMs,
  });
  if (!tuning.success) {
    const issue = tuning.error.issues[0];
    const name = issue.path[0] as SettingName;
    const message = issue.message.startsWith("wechat:") ? issue.message : `${SETTINGS[name].config}: ${issue.message}`;
    throw new WeChatConfigError(`${message} (got "${raw[name]}").`);
  }
  let credentials: Credentials | undefined;
  let credentialsProblem: string | undefined;
  try {
    credentials = resolveCredentials(raw);
  } catch (error) {
    credentialsProblem = (error as Error).message;
  }
  return { apiBaseUrl: resolveApiBaseUrl(raw.apiBaseUrl), credentials, credentialsProblem, ...tuning.data };
}
