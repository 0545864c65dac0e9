/**
 * What the emulated WeChat API does (as WeChat documents it): its accounts, platforms and tokens, and what
 * each endpoint answers. Injected faults are in faults.ts; the HTTP server and the request log in server.ts.
 *
 * Where the emulator fakes an errcode: ERRMSG below is every errcode it answers, with its errmsg, and wechatError()
 * builds every error answer, its own and the injected ones.
 *
 * As on the real API, every answer is HTTP 200 and JSON: an error is a non-zero errcode with an errmsg that ends in
 * " rid: <hex>" (match on errcode, never on errmsg); success is {errcode: 0, errmsg: "ok", ...}, except on the token
 * endpoints, which answer no errcode. The checks run in this order: method (43002), token (41001, 40001, 40014,
 * 42001), body (44002 empty, 47001 not a JSON object), then the endpoint's own.
 */
import { createHash, randomBytes } from "node:crypto";

export type OptionName = "location_report" | "voice_recognize" | "customer_service";
export type AuthorizerOptions = Record<OptionName, string>;

const OPTION_VALUES: Readonly<Record<OptionName, readonly string[]>> = {
  location_report: ["0", "1", "2"],
  voice_recognize: ["0", "1"],
  customer_service: ["0", "1"],
};

// The fields of a callback rule and of the container section, with their types: both the types below and the checks.
const CALLBACK_RULE_TYPES = { msgType: "string", event: "string", env: "string", functionName: "string", enable: "boolean" } as const;
/** text_mode: 1 JSON, 2 XML. */
const CONTAINER_CONFIG_TYPES = { enable: "boolean", qbase_env: "string", qbase_container_path: "string", text_mode: "number" } as const;
type Fields<T> = { -readonly [K in keyof T]: T[K] extends "string" ? string : T[K] extends "boolean" ? boolean : number };

export type CallbackRule = Fields<typeof CALLBACK_RULE_TYPES>;
export type ContainerConfig = Fields<typeof CONTAINER_CONFIG_TYPES>;

export interface FunctionConfig {
  enable: boolean;
  callbacks: CallbackRule[];
}

/** The message-push configuration as the API holds it (the `data` of getcallbackconfig). */
export interface CallbackConfigData {
  function_config: FunctionConfig;
  container_config: ContainerConfig;
}

export interface AccountSpec {
  appId: string;
  /** The account's own AppSecret, for stable_token; without it stable_token answers 40125. */
  appSecret?: string;
  /** componentAppId of the third-party platform the account has authorized. */
  platform?: string;
  /** authorizer_refresh_token for that platform; derived from the appIds when left out. */
  refreshToken?: string;
}

export type FleetAccount = Required<AccountSpec>;

export interface PlatformSpec {
  componentAppId: string;
  componentAppSecret: string;
  verifyTicket: string;
}

export type TokenKind = "authorizer" | "component";
/** Where a token came from: stable_token, api_authorizer_token, issueAccessToken(), api_component_token. */
export type TokenSource = "stable" | "platform" | "issued" | "component";
export type CallKind = "set" | "get" | "token";

/** Obviously fake credentials of the demo platform and of its demo account, which can also use its own secret. */
export const DEMO_CREDENTIALS = Object.freeze({
  appId: "wx0000000000000001",
  appSecret: "demo-app-secret",
  componentAppId: "wx00000000000000c0",
  componentAppSecret: "demo-component-secret",
  componentVerifyTicket: "ticket@@@demo-component-verify-ticket",
  authorizerRefreshToken: "refreshtoken@@@demo-authorizer-refresh-token",
});

/** Every errcode the emulator answers, by itself or as an injected fault without an errmsg of its own. */
export const ERRMSG: Readonly<Record<number, string>> = Object.freeze({
  [-1]: "system error",
  [-1000]: "system error",
  40001: "invalid credential, access_token is invalid or not latest",
  40013: "invalid appid",
  40014: "invalid access_token",
  40066: "invalid url",
  40101: "missing parameter",
  40125: "invalid appsecret",
  40164: "invalid ip, not in whitelist",
  41001: "access_token missing",
  41002: "appid missing",
  41004: "appsecret missing",
  42001: "access_token expired",
  43002: "require POST method",
  44002: "empty post data",
  45009: "reach max api daily quota limit",
  45011: "api minute-quota reach limit  mustslower  retry next minute",
  47001: "data format error",
  48001: "api unauthorized",
  61003: "component is not authorized by this account",
  61004: "access clientip is not registered",
  61006: "component ticket is invalid",
  61007: "api is unauthorized to component",
  61023: "refresh_token is invalid",
  89503: "this IP needs the admin's confirmation",
  89506: "the admin refused this IP, retry after 24 hours",
  89507: "the admin refused this IP, retry after 1 hour",
});

/** An HTTP answer; `errcode` is what the request log records of it. */
export interface Reply {
  status: number;
  contentType: string;
  text: string;
  errcode?: number;
}

/** What the emulator sends: an answer, or "drop" (the connection closes without one). */
export type Answer = Reply | "drop";

export function jsonAnswer(payload: unknown, errcode?: number): Reply {
  return { status: 200, contentType: "application/json; encoding=utf-8", text: JSON.stringify(payload), errcode };
}

/** The error answer for errcode: the given errmsg verbatim, else ERRMSG's with a request id. */
export function wechatError(errcode: number, errmsg = `${ERRMSG[errcode] ?? "error"} rid: ${randomBytes(12).toString("hex")}`): Reply {
  return jsonAnswer({ errcode, errmsg }, errcode);
}

const ok = (extra: Record<string, unknown> = {}) => jsonAnswer({ errcode: 0, errmsg: "ok", ...extra }, 0);

/** A request to an API path, parsed once for the request log (what it holds of the request), the faults and the answer. */
export interface RequestRecord {
  path: string;
  /** undefined: no endpoint has this path. */
  kind?: CallKind;
  /** The account concerned: its authorizer token's, else the one the body names (stable_token `appid`,
   *  api_authorizer_token `authorizer_appid`, api_component_token `component_appid`). */
  appId?: string;
  token?: string;
  tokenKind?: TokenKind;
  tokenSource?: TokenSource;
  /** The parsed JSON body; the raw text when it is not JSON; undefined when empty. */
  body: unknown;
  /** The errcode answered, 0 for success (of token endpoints too); undefined until answered, and for a drop or an
   *  answer without a numeric errcode. */
  errcode?: number;
  /** The injected fault's label: "errcode:45011", "http:502", "body", "drop", "delay". */
  fault?: string;
}

interface Endpoint {
  kind: CallKind;
  /** The token the endpoint needs, sent in the query parameter TOKEN_PARAM[token]. */
  token?: TokenKind;
  /** The body field naming the account, where the token does not. */
  accountField?: string;
  answer(body: Record<string, unknown>, owner: string): Reply;
}

const TOKEN_PARAM: Readonly<Record<TokenKind, string>> = { authorizer: "access_token", component: "component_access_token" };
const TOKEN_LIFETIME_S = 7200;

interface Account extends AccountSpec {
  options: AuthorizerOptions;
  callback: CallbackConfigData;
  /** The token stable_token answers in normal mode while it is valid. */
  stableToken?: string;
}

interface TokenRecord {
  kind: TokenKind;
  source: TokenSource;
  /** The account of an authorizer token, the platform (componentAppId) of a component token. */
  owner: string;
  expiresAt: number;
}

export class WeChatApi {
  private readonly accounts = new Map<string, Account>();
  private readonly platforms = new Map<string, PlatformSpec>();
  private readonly tokens = new Map<string, TokenRecord>();
  private tokenSeq = 0;

  private readonly endpoints = new Map<string, Endpoint>([
    ["/cgi-bin/stable_token", { kind: "token", accountField: "appid", answer: (b) => this.stableToken(b) }],
    ["/cgi-bin/component/api_component_token", { kind: "token", accountField: "component_appid", answer: (b) => this.componentToken(b) }],
    [
      "/cgi-bin/component/api_authorizer_token",
      { kind: "token", token: "component", accountField: "authorizer_appid", answer: (b, platform) => this.authorizerToken(b, platform) },
    ],
    [
      "/cgi-bin/component/set_authorizer_option",
      { kind: "set", token: "authorizer", answer: (b, appId) => setAuthorizerOption(this.account(appId), b) },
    ],
    [
      "/cgi-bin/component/get_authorizer_option",
      { kind: "get", token: "authorizer", answer: (b, appId) => getAuthorizerOption(this.account(appId), b) },
    ],
    ["/tcb/setcallbackconfig", { kind: "set", token: "authorizer", answer: (b, appId) => setCallbackSections(this.account(appId), b) }],
    ["/tcb/getcallbackconfig", { kind: "get", token: "authorizer", answer: (_b, appId) => ok({ data: this.callbackConfig(appId) }) }],
  ]);

  // ---- accounts and platforms ------------------------------------------------------------------------------------

  /** Registers an account, or updates the credentials of a known one (its settings stay). */
  addAccount(spec: AccountSpec): AccountSpec {
    const account = this.accounts.get(spec.appId) ?? { appId: spec.appId, options: defaultOptions(), callback: defaultCallbackConfig() };
    this.accounts.set(spec.appId, account);
    if (spec.appSecret !== undefined) account.appSecret = spec.appSecret;
    if (spec.platform !== undefined) {
      account.platform = spec.platform;
      account.refreshToken = spec.refreshToken ?? derived("refreshtoken@@@", `refresh:${spec.platform}:${spec.appId}`, 40);
    }
    return accountInfo(account);
  }

  addPlatform(spec: PlatformSpec): void {
    this.platforms.set(spec.componentAppId, { ...spec });
  }

  /**
   * Authorizes n accounts to the platform, with appIds, secrets and refresh tokens derived from the platform and the
   * index (1..n), so that every emulator makes the same fleet; asking again for more adds the rest.
   */
  addFleet(platformAppId: string, n: number): FleetAccount[] {
    if (!this.platforms.has(platformAppId)) throw new Error(`unknown platform ${platformAppId}`);
    const prefix = "wx" + derived("f", `fleet:${platformAppId}`, 5);
    return Array.from({ length: n }, (_, i) => {
      const appId = prefix + (i + 1).toString(16).padStart(10, "0");
      const appSecret = derived("fleet-secret-", `secret:${appId}`, 24);
      return this.addAccount({ appId, appSecret, platform: platformAppId }) as FleetAccount;
    });
  }

  addDemo(): typeof DEMO_CREDENTIALS {
    const d = DEMO_CREDENTIALS;
    this.addPlatform({ componentAppId: d.componentAppId, componentAppSecret: d.componentAppSecret, verifyTicket: d.componentVerifyTicket });
    this.addAccount({ appId: d.appId, appSecret: d.appSecret, platform: d.componentAppId, refreshToken: d.authorizerRefreshToken });
    return d;
  }

  /** Every account with its credentials (they are fake). */
  accountList(): AccountSpec[] {
    return [...this.accounts.values()].map(accountInfo);
  }

  // ---- tokens ----------------------------------------------------------------------------------------------------

  /** An authorizer access token for the account, as the user's own token service would issue it. */
  issueAccessToken(appId: string): string {
    return this.mint("authorizer", "issued", this.account(appId).appId);
  }

  /** Every token of the account or platform (or every token) expires: its next use answers 42001. */
  expireTokens(ownerId?: string): void {
    for (const record of this.tokens.values()) {
      if (ownerId === undefined || record.owner === ownerId) record.expiresAt = Math.min(record.expiresAt, Date.now() - 1);
    }
  }

  /** Every token of the account or platform (or every token) is forgotten: its next use answers 40001. */
  revokeTokens(ownerId?: string): void {
    for (const [token, record] of this.tokens) {
      if (ownerId === undefined || record.owner === ownerId) this.tokens.delete(token);
    }
  }

  /**
   * What force_refresh does, and what another server of the account does with it: a new stable token becomes the
   * current one (the one normal mode answers) and the previous one answers 40001 from now on. Answers the new token.
   * Unlike revokeTokens, it leaves the account's other tokens alone and leaves a current stable token behind.
   */
  rotateStableToken(appId: string): string {
    const account = this.account(appId);
    const previous = this.currentStableToken(account);
    if (previous) this.tokens.delete(previous);
    account.stableToken = this.mint("authorizer", "stable", appId);
    return account.stableToken;
  }

  // ---- settings --------------------------------------------------------------------------------------------------

  options(appId: string): AuthorizerOptions {
    return { ...this.account(appId).options };
  }

  callbackConfig(appId: string): CallbackConfigData {
    return structuredClone(this.account(appId).callback);
  }

  /** An out-of-band change (someone clicked in the WeChat console), held to the values the API allows. */
  setOption(appId: string, name: string, value: string): void {
    if (setAuthorizerOption(this.account(appId), { option_name: name, option_value: value }).errcode !== 0) {
      throw new Error(`option ${name} does not allow ${JSON.stringify(value)}`);
    }
  }

  /** An out-of-band change: sections and fields left out keep their value; the result must be valid. */
  setCallbackConfig(
    appId: string,
    config: { function_config?: Partial<FunctionConfig>; container_config?: Partial<ContainerConfig> },
  ): void {
    const account = this.account(appId);
    const merged: Record<string, unknown> = {};
    if (config.function_config) merged.function_config = { ...account.callback.function_config, ...config.function_config };
    if (config.container_config) merged.container_config = { ...account.callback.container_config, ...config.container_config };
    const answer = setCallbackSections(account, merged);
    if (answer.errcode !== 0) throw new Error(`invalid callback config (errcode ${answer.errcode})`);
  }

  /** Every account's settings (what GET /__emulator/state answers). */
  state() {
    const accounts = [...this.accounts.values()].map(
      (a) => [a.appId, { platform: a.platform, options: { ...a.options }, callbackConfig: structuredClone(a.callback) }] as const,
    );
    return { accounts: Object.fromEntries(accounts), platforms: [...this.platforms.keys()] };
  }

  protected resetSettings(): void {
    for (const a of this.accounts.values()) {
      a.options = defaultOptions();
      a.callback = defaultCallbackConfig();
    }
  }

  // ---- requests --------------------------------------------------------------------------------------------------

  protected parse(url: string, raw: string): RequestRecord {
    const { pathname: path, searchParams } = new URL(url, "http://emulator");
    const endpoint = this.endpoints.get(path);
    const token = (endpoint?.token && searchParams.get(TOKEN_PARAM[endpoint.token])) ?? undefined;
    const record = token === undefined ? undefined : this.tokens.get(token);
    const body = parseBody(raw);
    const named = endpoint?.accountField && isObject(body) ? body[endpoint.accountField] : undefined;
    return {
      path,
      kind: endpoint?.kind,
      appId: typeof named === "string" ? named : record?.kind === "authorizer" ? record.owner : undefined,
      token,
      tokenKind: record?.kind,
      tokenSource: record?.source,
      body,
    };
  }

  /** What WeChat answers, and does: a set is applied here. */
  protected answer(method: string, request: RequestRecord): Reply {
    const endpoint = this.endpoints.get(request.path);
    if (!endpoint) return { ...wechatError(40066), status: 404 };
    if (method !== "POST") return wechatError(43002);
    const record = request.token ? this.tokens.get(request.token) : undefined;
    if (endpoint.token) {
      if (!request.token) return wechatError(41001);
      if (!record) return wechatError(40001);
      if (record.kind !== endpoint.token) return wechatError(40014);
      if (record.expiresAt <= Date.now()) return wechatError(42001);
    }
    if (request.body === undefined) return wechatError(44002);
    // Raw text that is not JSON is kept as a string, which is no object either.
    if (!isObject(request.body)) return wechatError(47001);
    return endpoint.answer(request.body, record?.owner ?? "");
  }

  // ---- token endpoints -------------------------------------------------------------------------------------------

  private stableToken(b: Record<string, unknown>): Reply {
    if (typeof b.appid !== "string" || b.appid === "") return wechatError(41002);
    if (typeof b.secret !== "string" || b.secret === "") return wechatError(41004);
    const account = this.accounts.get(b.appid);
    if (!account) return wechatError(40013);
    if (account.appSecret === undefined || b.secret !== account.appSecret) return wechatError(40125);
    const token = (b.force_refresh ? undefined : this.currentStableToken(account)) ?? this.rotateStableToken(account.appId);
    const expiresIn = Math.ceil((this.tokens.get(token)!.expiresAt - Date.now()) / 1000);
    return jsonAnswer({ access_token: token, expires_in: expiresIn }, 0);
  }

  private componentToken(b: Record<string, unknown>): Reply {
    const f = stringFields(b, ["component_appid", "component_appsecret", "component_verify_ticket"]);
    if (typeof f === "number") return wechatError(f);
    const platform = this.platforms.get(f.component_appid);
    if (!platform) return wechatError(40013);
    if (f.component_appsecret !== platform.componentAppSecret) return wechatError(40125);
    if (f.component_verify_ticket !== platform.verifyTicket) return wechatError(61006);
    const token = this.mint("component", "component", platform.componentAppId);
    return jsonAnswer({ component_access_token: token, expires_in: TOKEN_LIFETIME_S }, 0);
  }

  /** A new token each call; earlier ones stay valid until they expire. */
  private authorizerToken(b: Record<string, unknown>, platform: string): Reply {
    const f = stringFields(b, ["component_appid", "authorizer_appid", "authorizer_refresh_token"]);
    if (typeof f === "number") return wechatError(f);
    if (f.component_appid !== platform) return wechatError(40013);
    const account = this.accounts.get(f.authorizer_appid);
    if (!account || account.platform !== platform) return wechatError(61003);
    if (f.authorizer_refresh_token !== account.refreshToken) return wechatError(61023);
    const token = this.mint("authorizer", "platform", account.appId);
    return jsonAnswer({ authorizer_access_token: token, expires_in: TOKEN_LIFETIME_S, authorizer_refresh_token: account.refreshToken }, 0);
  }

  private currentStableToken(account: Account): string | undefined {
    const record = account.stableToken === undefined ? undefined : this.tokens.get(account.stableToken);
    return record && record.expiresAt > Date.now() ? account.stableToken : undefined;
  }

  private mint(kind: TokenKind, source: TokenSource, owner: string): string {
    // Shaped like WeChat's ("<n>_<random>"), and opaque: a provider must never parse a token. The sequence number
    // makes each one unique; secrets.test also looks for the random part alone.
    const token = `${++this.tokenSeq}_${randomBytes(36).toString("base64url")}`;
    this.tokens.set(token, { kind, source, owner, expiresAt: Date.now() + TOKEN_LIFETIME_S * 1000 });
    return token;
  }

  private account(appId: string): Account {
    const account = this.accounts.get(appId);
    if (!account) throw new Error(`unknown account ${appId}`);
    return account;
  }
}

// ---- the endpoints of one account ----------------------------------------------------------------------------------
// The real API's codes for a missing field (40101) and for a malformed one (47001: a wrong type, an unknown key or
// option, a value outside its set) are unverified; the emulator is strict so that a provider sending a malformed body
// finds out in tests, and handles both as a bug in the request, never to be retried.

function setAuthorizerOption(account: Account, b: Record<string, unknown>): Reply {
  const f = stringFields(b, ["option_name", "option_value"]);
  if (typeof f === "number") return wechatError(f);
  if (!isOptionName(f.option_name) || !OPTION_VALUES[f.option_name].includes(f.option_value)) return wechatError(47001);
  account.options[f.option_name] = f.option_value;
  return ok();
}

function getAuthorizerOption(account: Account, b: Record<string, unknown>): Reply {
  const f = stringFields(b, ["option_name"]);
  if (typeof f === "number") return wechatError(f);
  if (!isOptionName(f.option_name)) return wechatError(47001);
  return ok({ option_name: f.option_name, option_value: account.options[f.option_name] });
}

/** A section left out is not updated; at least one must be there. */
function setCallbackSections(account: Account, b: Record<string, unknown>): Reply {
  if (!hasOnlyKeys(b, ["function_config", "container_config"])) return wechatError(47001);
  if (b.function_config === undefined && b.container_config === undefined) return wechatError(40101);
  const fc = b.function_config === undefined ? account.callback.function_config : checkFunctionConfig(b.function_config);
  if (typeof fc === "number") return wechatError(fc);
  const cc = b.container_config === undefined ? account.callback.container_config : checkContainerConfig(b.container_config);
  if (typeof cc === "number") return wechatError(cc);
  account.callback = { function_config: fc, container_config: cc };
  return ok();
}

/** The section as a clean copy, or the errcode to answer. */
function checkFunctionConfig(v: unknown): FunctionConfig | number {
  const error = sectionError(v, { enable: "boolean", callbacks: "object" });
  if (error) return error;
  const { enable, callbacks } = v as { enable: boolean; callbacks: unknown };
  if (!Array.isArray(callbacks)) return 47001;
  const rules = callbacks.map(checkCallbackRule);
  return rules.find((r) => typeof r === "number") ?? { enable, callbacks: rules as CallbackRule[] };
}

function checkCallbackRule(r: unknown): CallbackRule | number {
  const error = sectionError(r, CALLBACK_RULE_TYPES);
  if (error) return error;
  const rule = { ...(r as CallbackRule) };
  // `event` names the event of msgType "event" and is empty for every other message type.
  return rule.msgType === "" || (rule.msgType === "event") !== (rule.event !== "") ? 47001 : rule;
}

/** Rejects, among others, the seed document's typo key "qbase_container_path " (a trailing space). */
function checkContainerConfig(v: unknown): ContainerConfig | number {
  const error = sectionError(v, CONTAINER_CONFIG_TYPES);
  if (error) return error;
  const config = { ...(v as ContainerConfig) };
  return config.text_mode === 1 || config.text_mode === 2 ? config : 47001;
}

// ---- helpers -------------------------------------------------------------------------------------------------------

function defaultOptions(): AuthorizerOptions {
  return { location_report: "0", voice_recognize: "0", customer_service: "0" };
}

export function defaultCallbackConfig(): CallbackConfigData {
  return {
    function_config: { enable: false, callbacks: [] },
    container_config: { enable: false, qbase_env: "", qbase_container_path: "", text_mode: 1 },
  };
}

function accountInfo({ options: _o, callback: _c, stableToken: _s, ...info }: Account): AccountSpec {
  return info;
}

function stringFields<K extends string>(b: Record<string, unknown>, keys: readonly K[]): Record<K, string> | number {
  return fieldError(b, Object.fromEntries(keys.map((k) => [k, "string"]))) ?? (b as Record<K, string>);
}

/** The errcode for a field missing (40101) or of another type than `types` gives it (47001). */
function fieldError(o: Record<string, unknown>, types: Record<string, string>): number | undefined {
  const keys = Object.keys(types);
  if (keys.some((k) => o[k] === undefined)) return 40101;
  if (keys.some((k) => typeof o[k] !== types[k])) return 47001;
  return undefined;
}

/** fieldError, and 47001 for a section that is no object or has a key `types` does not name. */
function sectionError(v: unknown, types: Record<string, string>): number | undefined {
  return isObject(v) && hasOnlyKeys(v, Object.keys(types)) ? fieldError(v, types) : 47001;
}

function parseBody(raw: string): unknown {
  if (raw.trim() === "") return undefined;
  try {
    return JSON.parse(raw);
  } catch {
    return raw;
  }
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

function isOptionName(name: string): name is OptionName {
  return Object.prototype.hasOwnProperty.call(OPTION_VALUES, name);
}

function hasOnlyKeys(o: Record<string, unknown>, keys: readonly string[]): boolean {
  return Object.keys(o).every((k) => keys.includes(k));
}

/** A value derived from `seed`, the same in every emulator: prefix + `length` hex digits. */
function derived(prefix: string, seed: string, length: number): string {
  return prefix + createHash("sha256").update(seed).digest("hex").slice(0, length);
}
