/**
 * The provider's settings: where the API is, which credentials to use, and how hard to retry. They come from the
 * stack configuration (namespace `wechat`, handed over by Pulumi's `configure`), with `WECHAT_*` environment
 * variables as the fallback only for a stack that sets no credential. Nothing here is ever written to resource state.
 *
 * The four credential modes are one table (MODES): which keys select a mode, which it needs, and how it reads them.
 * Every message about credentials is built from that table.
 */
import { isIP } from "node:net";
import { z } from "zod";
import { WeChatConfigError, registerSecret } from "./errors";

/** One setting: its stack-config key, its environment variable, and whether it is a secret. */
interface SettingKey {
  readonly config: string;
  readonly env: string;
  readonly secret?: boolean;
}

const key = (name: string, env: string, secret = false): SettingKey => ({ config: `wechat:${name}`, env, secret });

/** Every `wechat:` key the provider reads. The README's credentials and limits tables list the same keys. */
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
  tokenCommand: key("tokenCommand", "WECHAT_TOKEN_COMMAND"),
  maxConcurrency: key("maxConcurrency", "WECHAT_MAX_CONCURRENCY"),
  maxAttempts: key("maxAttempts", "WECHAT_MAX_ATTEMPTS"),
  retryBaseDelayMs: key("retryBaseDelayMs", "WECHAT_RETRY_BASE_DELAY_MS"),
  requestTimeoutMs: key("requestTimeoutMs", "WECHAT_REQUEST_TIMEOUT_MS"),
} as const;

type SettingName = keyof typeof SETTINGS;
type RawSettings = Partial<Record<SettingName, string>>;

/** An appid as WeChat issues them: `wx` and 16 lowercase hex characters. */
export const APP_ID_PATTERN = /^wx[0-9a-f]{16}$/;

/** Defaults for the retry and limit knobs; the README's "Retries and limits" section documents the same values. */
const DEFAULT_TUNING = {
  maxConcurrency: 16,
  maxAttempts: 5,
  retryBaseDelayMs: 1000,
  requestTimeoutMs: 15000,
} as const;

/** How the provider gets an authorizer access token. */
export type Credentials =
  /** A ready token from the user's own token service, for the one account `appId`. */
  | { readonly mode: "accessToken"; readonly accessToken: string; readonly appId: string }
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
    }
  /** A command of the user's (their token service) that prints a token for the account it is asked about. */
  | { readonly mode: "tokenCommand"; readonly command: string };

interface CredentialMode {
  readonly mode: Credentials["mode"];
  /** What the mode is for, in the words of the README. */
  readonly what: string;
  /** Keys that choose this mode: any one of them set. */
  readonly markers: readonly SettingName[];
  /** Keys the mode needs; an inner list is a choice of alternatives, each alternative a set of keys. */
  readonly required: readonly (SettingName | readonly (readonly SettingName[])[])[];
  readonly build: (raw: RawSettings) => Credentials;
}

const PLATFORM_KEYS = [
  "componentAppId",
  "componentAppSecret",
  "componentVerifyTicket",
  "componentAccessToken",
  "authorizerRefreshTokens",
] as const;

/** The four ways to get a token. The README's credentials table lists the same modes and keys. */
const MODES: readonly CredentialMode[] = [
  {
    mode: "accessToken",
    what: "a ready authorizer access token your own token service issued, for the one account wechat:appId",
    markers: ["accessToken"],
    required: ["accessToken", "appId"],
    build: (raw) => ({ mode: "accessToken", accessToken: raw.accessToken!, appId: appIdSetting(raw, "appId") }),
  },
  {
    mode: "account",
    what: "an account's own credentials, exchanged through stable_token",
    markers: ["appSecret"],
    required: ["appId", "appSecret"],
    build: (raw) => ({ mode: "account", appId: appIdSetting(raw, "appId"), appSecret: raw.appSecret! }),
  },
  {
    mode: "platform",
    what: "a third-party platform acting for the accounts that authorized it",
    markers: PLATFORM_KEYS,
    required: ["componentAppId", [["componentAppSecret", "componentVerifyTicket"], ["componentAccessToken"]], "authorizerRefreshTokens"],
    build: (raw) => ({
      mode: "platform",
      componentAppId: appIdSetting(raw, "componentAppId"),
      componentAppSecret: raw.componentAppSecret,
      componentVerifyTicket: raw.componentVerifyTicket,
      componentAccessToken: raw.componentAccessToken,
      authorizerRefreshTokens: refreshTokens(raw.authorizerRefreshTokens!),
    }),
  },
  {
    mode: "tokenCommand",
    what: "a command of yours (your token service) that prints the token of the account it is asked for",
    markers: ["tokenCommand"],
    required: ["tokenCommand"],
    build: (raw) => ({ mode: "tokenCommand", command: raw.tokenCommand! }),
  },
];

const CREDENTIAL_SETTINGS = [...new Set(MODES.flatMap((mode) => mode.required.flat(2) as SettingName[]))];

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

const keysOf = (names: readonly SettingName[]) => names.map((name) => SETTINGS[name].config).join(" + ");

function describeRequired(mode: CredentialMode): string {
  return mode.required
    .map((need) => (typeof need === "string" ? SETTINGS[need].config : `(${need.map(keysOf).join(", or ")})`))
    .join(" + ");
}

/** What to set, from the table: every mode with its keys. */
const HOW_TO_SET =
  `Set one of: ${MODES.map((mode) => `${describeRequired(mode)} (${mode.what})`).join("; ")}. ` +
  "Use `pulumi config set --secret` for secrets, or the WECHAT_* environment variables for a stack that sets no credential.";

/** Reads the raw value of each setting: the stack config when it sets any credential, else the environment too. */
function rawSettings(source: ConfigSource | undefined, env: NodeJS.ProcessEnv): RawSettings {
  const fromConfig = (name: SettingName): string | undefined => {
    const value = source?.get(SETTINGS[name].config);
    if (value === undefined || value === null || value === "") return undefined;
    return typeof value === "string" ? value : JSON.stringify(value);
  };
  const fromEnv = (name: SettingName): string | undefined => env[SETTINGS[name].env] || undefined;

  // Credentials come from one place only: a stack that sets any `wechat:` credential ignores WECHAT_* credential
  // variables, so a CI runner's environment cannot silently mix into (or contradict) a stack's own credentials.
  const configHasCredentials = CREDENTIAL_SETTINGS.some((name) => fromConfig(name) !== undefined);
  const result: RawSettings = {};
  for (const name of Object.keys(SETTINGS) as SettingName[]) {
    const isCredential = CREDENTIAL_SETTINGS.includes(name);
    const value = isCredential && configHasCredentials ? fromConfig(name) : (fromConfig(name) ?? fromEnv(name));
    if (value === undefined) continue;
    result[name] = value;
    if (SETTINGS[name].secret) registerSecret(value);
  }
  return result;
}

/** Chooses the credential mode from what is set, or explains what is missing, contradictory or out of place. */
function resolveCredentials(raw: RawSettings): Credentials {
  const isSet = (name: SettingName) => raw[name] !== undefined;
  const chosen = MODES.filter((mode) => mode.markers.some(isSet));
  if (chosen.length > 1) {
    const present = CREDENTIAL_SETTINGS.filter(isSet).map((name) => SETTINGS[name].config);
    throw new WeChatConfigError(
      `Contradictory WeChat credentials: keys of more than one mode are set (${present.join(", ")}). Keep the keys of exactly one mode. ${HOW_TO_SET}`,
    );
  }
  const [mode] = chosen;
  if (!mode) {
    if (isSet("appId")) {
      throw new WeChatConfigError(
        `wechat:appId is set but no credential goes with it: add wechat:appSecret (the account's AppSecret) or wechat:accessToken. ${HOW_TO_SET}`,
      );
    }
    throw new WeChatConfigError(`No WeChat credentials are configured. ${HOW_TO_SET}`);
  }
  const missing = mode.required.flatMap((need) => {
    if (typeof need === "string") return isSet(need) ? [] : [SETTINGS[need].config];
    return need.some((alternative) => alternative.every(isSet)) ? [] : [need.map(keysOf).join(", or ")];
  });
  if (missing.length) {
    throw new WeChatConfigError(`Incomplete credentials for ${mode.what}: set ${missing.join("; ")}. ${HOW_TO_SET}`);
  }
  const allowed = new Set(mode.required.flat(2));
  const extra = CREDENTIAL_SETTINGS.filter((name) => isSet(name) && !allowed.has(name));
  if (extra.length) {
    throw new WeChatConfigError(
      `${extra.map((name) => SETTINGS[name].config).join(", ")} ${extra.length === 1 ? "is" : "are"} not used with ${describeRequired(mode)} (${mode.what}): remove ${extra.length === 1 ? "it" : "them"}.`,
    );
  }
  return mode.build(raw);
}

function appIdSetting(raw: RawSettings, name: "appId" | "componentAppId"): string {
  const value = raw[name]!;
  if (!APP_ID_PATTERN.test(value)) {
    throw new WeChatConfigError(
      `${SETTINGS[name].config} must be an appid: wx followed by 16 lowercase hex characters, e.g. wx1234567890abcdef.`,
    );
  }
  return value;
}

const REFRESH_TOKENS_FORM =
  'a JSON object mapping each authorizer appid to its refresh token, e.g. {"wx1234567890abcdef":"refreshtoken@@@..."}, set with `pulumi config set --secret`';

/**
 * The platform's refresh tokens. Every message describes entries by position, never by content: a key or value
 * printed here could be a refresh token (the commonest mistake is swapping keys and values).
 */
function refreshTokens(text: string): Record<string, string> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new WeChatConfigError(`wechat:authorizerRefreshTokens must be ${REFRESH_TOKENS_FORM}; it is not JSON.`);
  }
  if (!parsed || typeof parsed !== "object" || Array.isArray(parsed)) {
    throw new WeChatConfigError(`wechat:authorizerRefreshTokens must be ${REFRESH_TOKENS_FORM}; it is not an object.`);
  }
  const entries = Object.entries(parsed);
  entries.forEach(([appId, token], index) => {
    const which = `entry ${index + 1} of wechat:authorizerRefreshTokens`;
    if (!APP_ID_PATTERN.test(appId)) {
      const swapped = typeof token === "string" && APP_ID_PATTERN.test(token) ? " (its value is an appid: are key and value swapped?)" : "";
      throw new WeChatConfigError(`The key of ${which} is not an authorizer appid${swapped}: it must be ${REFRESH_TOKENS_FORM}.`);
    }
    if (typeof token !== "string" || token === "") {
      throw new WeChatConfigError(`The value of ${which} (authorizer ${appId}) must be a non-empty refresh token string.`);
    }
    registerSecret(token);
  });
  return Object.fromEntries(entries) as Record<string, string>;
}

/** Where the real API lives. */
const DEFAULT_API_BASE_URL = "https://api.weixin.qq.com";

/** Loopback means an IP literal in 127.0.0.0/8, `::1`, or `localhost`: nothing a DNS name can impersonate. */
function isLoopback(hostname: string): boolean {
  const host = hostname.replace(/^\[(.*)\]$/, "$1").toLowerCase();
  if (host === "localhost" || host === "::1") return true;
  return isIP(host) === 4 && host.split(".")[0] === "127";
}

function resolveApiBaseUrl(value: string | undefined): string {
  if (value === undefined) return DEFAULT_API_BASE_URL;
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new WeChatConfigError(`wechat:apiBaseUrl "${value}" is not a URL: use e.g. ${DEFAULT_API_BASE_URL}.`);
  }
  // Tokens travel in the query string: plain HTTP is only acceptable when it never leaves the machine.
  if (url.protocol !== "https:" && !(url.protocol === "http:" && isLoopback(url.hostname))) {
    throw new WeChatConfigError(
      `wechat:apiBaseUrl "${url.origin}" must use https (plain http is accepted only for loopback addresses: 127.x.x.x, [::1] or localhost, such as the emulator).`,
    );
  }
  if (url.search || url.hash || url.username || url.password) {
    throw new WeChatConfigError(
      `wechat:apiBaseUrl must be a plain base URL such as ${DEFAULT_API_BASE_URL}, with no query, fragment or credentials.`,
    );
  }
  return url.origin + url.pathname.replace(/\/+$/, "");
}

const wholeNumber = (name: SettingName, min: number, max: number) =>
  z.coerce
    .number({ error: `${SETTINGS[name].config} must be a whole number` })
    .int(`${SETTINGS[name].config} must be a whole number`)
    .min(min, `${SETTINGS[name].config} must be at least ${min}`)
    .max(max, `${SETTINGS[name].config} must be at most ${max}`);

const tuningSchema = z.object({
  maxConcurrency: wholeNumber("maxConcurrency", 1, 1024).default(DEFAULT_TUNING.maxConcurrency),
  maxAttempts: wholeNumber("maxAttempts", 1, 20).default(DEFAULT_TUNING.maxAttempts),
  retryBaseDelayMs: wholeNumber("retryBaseDelayMs", 0, 60000).default(DEFAULT_TUNING.retryBaseDelayMs),
  requestTimeoutMs: wholeNumber("requestTimeoutMs", 1, 600000).default(DEFAULT_TUNING.requestTimeoutMs),
});

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
    throw new WeChatConfigError(`${issue.message} (got "${raw[name]}").`);
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
