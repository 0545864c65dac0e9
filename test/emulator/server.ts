/**
 * WeChat API emulator: a real HTTP server on 127.0.0.1 that answers like api.weixin.qq.com for the
 * endpoints this project uses (see /work/shared/wechat-api.md), plus inspection and fault injection
 * for tests, the demo and the benchmarks.
 *
 * Shape of the answers (as on the real API):
 * - every answer of an API path is HTTP 200 with a JSON body; an error is a non-zero `errcode` and an
 *   `errmsg` that ends with " rid: <hex>" like the real one (match on errcode, never on errmsg);
 * - success of the token endpoints carries no errcode; success elsewhere is {errcode: 0, errmsg: "ok"};
 * - injected HTTP failures (500/502/503) answer an HTML body, as a gateway would.
 *
 * Order of the checks on an API path: method (43002), token (41001, 40001, 40014, 42001), body
 * (44002 empty, 47001 not a JSON object), then the endpoint's own checks.
 *
 * GET /__emulator/state answers every account's settings (the examples' READMEs curl it); it needs no token and is
 * never logged, faulted or delayed.
 */
import * as http from "node:http";
import { createHash, randomBytes } from "node:crypto";
import type { AddressInfo, Socket } from "node:net";
import { Random, seededRandom, seedFromString } from "./random";

// ---------------------------------------------------------------------------------------------------
// Public types
// ---------------------------------------------------------------------------------------------------

export type OptionName = "location_report" | "voice_recognize" | "customer_service";

/** Allowed values per authorizer option (wechat-api.md, section 1). Values are strings. */
export const OPTION_VALUES: Readonly<Record<OptionName, readonly string[]>> = Object.freeze({
  location_report: Object.freeze(["0", "1", "2"]),
  voice_recognize: Object.freeze(["0", "1"]),
  customer_service: Object.freeze(["0", "1"]),
});

export const OPTION_NAMES = Object.freeze(Object.keys(OPTION_VALUES) as OptionName[]);

export type AuthorizerOptions = Record<OptionName, string>;

export interface CallbackRule {
  msgType: string;
  event: string;
  env: string;
  functionName: string;
  enable: boolean;
}

export interface FunctionConfig {
  enable: boolean;
  callbacks: CallbackRule[];
}

export interface ContainerConfig {
  enable: boolean;
  qbase_env: string;
  qbase_container_path: string;
  /** 1 = JSON, 2 = XML */
  text_mode: number;
}

/** The API-shaped CloudBase message-push configuration (the `data` of getcallbackconfig). */
export interface CallbackConfigData {
  function_config: FunctionConfig;
  container_config: ContainerConfig;
}

/** For out-of-band changes: sections and fields left out keep their current value. */
export interface PartialCallbackConfig {
  function_config?: Partial<FunctionConfig>;
  container_config?: Partial<ContainerConfig>;
}

export interface EmulatorOptions {
  /** Lifetime of every issued token, in seconds (also the `expires_in` answered). Default 7200. */
  tokenLifetimeSec?: number;
  /** Latency added to every API answer, in ms. Default 0. */
  latencyMs?: number;
  /** Base seed for fault rules with a probability (and default seed of random faults). Default 1. */
  seed?: number;
  /** Clock in ms since the epoch (token expiry and `at` in the log). Default Date.now. */
  now?: () => number;
  /** Keep the request log. Default true (counters of callCounts() are kept either way). */
  logRequests?: boolean;
}

export interface AccountSpec {
  appId: string;
  /** The account's own AppSecret, for /cgi-bin/stable_token. Without it stable_token answers 40125. */
  appSecret?: string;
  /** componentAppId of the third-party platform the account has authorized. */
  platform?: string;
  /** authorizer_refresh_token for that platform; derived deterministically when left out. */
  refreshToken?: string;
}

export interface AccountInfo {
  appId: string;
  appSecret?: string;
  platform?: string;
  refreshToken?: string;
}

export interface PlatformSpec {
  componentAppId: string;
  componentAppSecret: string;
  verifyTicket: string;
}

export interface FleetAccount {
  appId: string;
  appSecret: string;
  platform: string;
  refreshToken: string;
}

export type TokenKind = "authorizer" | "component";
/** How a token was issued: stable_token, api_authorizer_token, issueAccessToken(), api_component_token. */
export type TokenSource = "stable" | "platform" | "issued" | "component";

export interface RequestRecord {
  /** 1, 2, 3... in order of arrival (completion order may differ). */
  seq: number;
  /** Arrival time, ms since the epoch (emulator clock). */
  at: number;
  method: string;
  /** URL path without the query. */
  path: string;
  /** Raw query string without "?" (carries the token). */
  query: string;
  /** The account concerned: from the token when it is an authorizer token, else from the body
   *  (stable_token `appid`, `authorizer_appid`, api_component_token `component_appid`). */
  appId?: string;
  /** The platform concerned, for component-token requests and api_component_token. */
  platform?: string;
  tokenKind?: TokenKind;
  tokenSource?: TokenSource;
  /** The token sent in the query, if any. */
  token?: string;
  /** Parsed JSON body; the raw text when it is not JSON; undefined when empty. */
  body: unknown;
  /** errcode answered (0 on success, also for token endpoints); undefined for non-JSON answers,
   *  drops, and while the answer is pending. */
  errcode?: number;
  /** HTTP status answered; 0 for a dropped connection and while pending. */
  httpStatus: number;
  /** Label of the injected fault: "errcode:45011", "http:502", "drop", "delay". */
  fault?: string;
  /** The fault hit after the request was applied (state changed, then the answer failed). */
  afterApply?: boolean;
  /** Time from arrival to answer (or drop), ms. */
  durationMs?: number;
}

export interface RequestFilter {
  path?: string | RegExp;
  appId?: string;
  method?: string;
  errcode?: number;
  tokenKind?: TokenKind;
  /** "set" | "get" | "token" (see callCounts()). */
  kind?: CallKind;
  /** true: only faulted requests; false: only unfaulted ones; a string: that fault label. */
  fault?: boolean | string;
}

export type CallKind = "set" | "get" | "token";

export interface CallCounts {
  /** set_authorizer_option + setcallbackconfig + api_set_authorizer_option */
  set: number;
  /** get_authorizer_option + getcallbackconfig + api_get_authorizer_option */
  get: number;
  /** stable_token + api_component_token + api_authorizer_token */
  token: number;
  /** every request to a non-control path, including unknown paths */
  total: number;
}

export interface FaultRule {
  /** A string matches the URL path exactly; a RegExp is tested against it. Default: every API path. */
  path?: string | RegExp;
  /** Only requests concerning this account (see RequestRecord.appId). */
  appId?: string;
  /** Answer this errcode (HTTP 200). */
  errcode?: number;
  /** errmsg for errcode; default the usual message for that code. */
  errmsg?: string;
  /** Answer this HTTP status with a non-JSON (HTML) body, e.g. 500, 502, 503. */
  httpStatus?: number;
  /** Answer late by this many ms. Alone (no errcode/httpStatus/drop) the request is processed on
   *  arrival and its normal answer is sent late. */
  delayMs?: number;
  /** Destroy the connection without answering. */
  drop?: boolean;
  /** How many matching requests it hits; default unlimited. */
  times?: number;
  /** Chance 0..1 that a matching request is hit, drawn from a PRNG seeded with `seed`. */
  probability?: number;
  /** Seed of this rule's PRNG; default derived from the emulator seed and the rule's id. */
  seed?: number;
  /** Apply the request (state changes), then fail the answer. */
  afterApply?: boolean;
}

export interface FaultHandle {
  readonly id: number;
  /** How many requests this rule has hit so far. */
  readonly hits: number;
  remove(): void;
}

export const RANDOM_FAULT_KINDS = Object.freeze([
  "errcode:-1",
  "errcode:-1000",
  "errcode:45011",
  "http:500",
  "http:502",
  "http:503",
  "drop",
] as const);

export type RandomFaultKind = (typeof RANDOM_FAULT_KINDS)[number];

export interface RandomFaultOptions {
  /** Probability 0..1 that a request fails; 0 turns random faults off. */
  rate: number;
  /** Default: the emulator seed. */
  seed?: number;
  /** Kinds to pick from (uniformly); default all of RANDOM_FAULT_KINDS. */
  kinds?: readonly RandomFaultKind[];
  /** Share 0..1 of random faults that hit after the request was applied. Default 0. */
  afterApplyShare?: number;
}

/**
 * Obviously fake credentials of the demo account and platform that the CLI registers (and tests may
 * register with `emu.addDemo()`). The demo account can get tokens both ways: with its own secret via
 * stable_token, and through the demo platform with its refresh token.
 */
export const DEMO_CREDENTIALS = Object.freeze({
  appId: "wx0000000000000001",
  appSecret: "demo-app-secret",
  componentAppId: "wx00000000000000c0",
  componentAppSecret: "demo-component-secret",
  componentVerifyTicket: "ticket@@@demo-component-verify-ticket",
  authorizerRefreshToken: "refreshtoken@@@demo-authorizer-refresh-token",
});

export const APP_ID_PATTERN = /^wx[0-9a-f]{16}$/;

// ---------------------------------------------------------------------------------------------------
// Routes and messages
// ---------------------------------------------------------------------------------------------------

type RouteName = "stable_token" | "component_token" | "authorizer_token" | "set_option" | "get_option" | "set_callback" | "get_callback";

interface Route {
  name: RouteName;
  kind: CallKind;
  /** Which token the route needs, and in which query parameter. */
  auth?: TokenKind;
  tokenParam?: "access_token" | "component_access_token";
}

const ROUTES: ReadonlyMap<string, Route> = new Map<string, Route>([
  ["/cgi-bin/stable_token", { name: "stable_token", kind: "token" }],
  ["/cgi-bin/component/api_component_token", { name: "component_token", kind: "token" }],
  [
    "/cgi-bin/component/api_authorizer_token",
    { name: "authorizer_token", kind: "token", auth: "component", tokenParam: "component_access_token" },
  ],
  ["/cgi-bin/component/set_authorizer_option", { name: "set_option", kind: "set", auth: "authorizer", tokenParam: "access_token" }],
  ["/cgi-bin/component/get_authorizer_option", { name: "get_option", kind: "get", auth: "authorizer", tokenParam: "access_token" }],
  ["/tcb/setcallbackconfig", { name: "set_callback", kind: "set", auth: "authorizer", tokenParam: "access_token" }],
  ["/tcb/getcallbackconfig", { name: "get_callback", kind: "get", auth: "authorizer", tokenParam: "access_token" }],
]);

/** Every errcode the emulator answers by itself, with its message. */
export const ERRMSG: Readonly<Record<number, string>> = Object.freeze({
  [-1]: "system error",
  [-1000]: "system error",
  40001: "invalid credential, access_token is invalid or not latest",
  40002: "invalid grant_type",
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
  61023: "refresh_token is invalid",
});

const MAX_BODY_BYTES = 1 << 20;

const CALLBACK_RULE_KEYS = ["msgType", "event", "env", "functionName", "enable"] as const;
const FUNCTION_CONFIG_KEYS = ["enable", "callbacks"] as const;
const CONTAINER_CONFIG_KEYS = ["enable", "qbase_env", "qbase_container_path", "text_mode"] as const;

// ---------------------------------------------------------------------------------------------------
// Internal state
// ---------------------------------------------------------------------------------------------------

interface Account {
  appId: string;
  appSecret?: string;
  platform?: string;
  refreshToken?: string;
  options: AuthorizerOptions;
  callback: CallbackConfigData;
  /** The current token of stable_token (same token until it expires or force_refresh). */
  stableToken?: string;
}

interface Platform {
  componentAppId: string;
  componentAppSecret: string;
  verifyTicket: string;
}

interface TokenRecord {
  kind: TokenKind;
  source: TokenSource;
  /** The account (authorizer tokens) or the platform's componentAppId (component tokens). */
  owner: string;
  expiresAt: number;
}

interface ActiveRule {
  id: number;
  rule: FaultRule;
  remaining: number;
  hits: number;
  random?: Random;
}

interface Fault {
  label: string;
  errcode?: number;
  errmsg?: string;
  httpStatus?: number;
  drop?: boolean;
  delayMs: number;
  afterApply: boolean;
}

type Answer =
  { type: "json"; status: number; errcode: number; payload: Record<string, unknown> } | { type: "http"; status: number } | { type: "drop" };

interface Outcome {
  answer: Answer;
}

// ---------------------------------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------------------------------

export function defaultOptions(): AuthorizerOptions {
  return { location_report: "0", voice_recognize: "0", customer_service: "0" };
}

export function defaultCallbackConfig(): CallbackConfigData {
  return {
    function_config: { enable: false, callbacks: [] },
    container_config: { enable: false, qbase_env: "", qbase_container_path: "", text_mode: 1 },
  };
}

function cloneCallbackConfig(c: CallbackConfigData): CallbackConfigData {
  return {
    function_config: {
      enable: c.function_config.enable,
      callbacks: c.function_config.callbacks.map((r) => ({ ...r })),
    },
    container_config: { ...c.container_config },
  };
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

function isOptionName(name: string): name is OptionName {
  return Object.prototype.hasOwnProperty.call(OPTION_VALUES, name);
}

function hasOnlyKeys(o: Record<string, unknown>, keys: readonly string[]): boolean {
  for (const k of Object.keys(o)) if (!keys.includes(k)) return false;
  return true;
}

function sha256hex(text: string): string {
  return createHash("sha256").update(text).digest("hex");
}

/** Deterministic refresh token of an account authorized to a platform. */
function deriveRefreshToken(appId: string, platform: string): string {
  return "refreshtoken@@@" + sha256hex(`refresh:${platform}:${appId}`).slice(0, 40);
}

function rid(): string {
  return randomBytes(12).toString("hex");
}

function errAnswer(errcode: number, errmsg?: string): Outcome {
  const msg = errmsg ?? `${ERRMSG[errcode] ?? "error"} rid: ${rid()}`;
  return { answer: { type: "json", status: 200, errcode, payload: { errcode, errmsg: msg } } };
}

function okAnswer(extra?: Record<string, unknown>): Outcome {
  return { answer: { type: "json", status: 200, errcode: 0, payload: { errcode: 0, errmsg: "ok", ...extra } } };
}

function tokenAnswer(payload: Record<string, unknown>): Outcome {
  return { answer: { type: "json", status: 200, errcode: 0, payload } };
}

const HTTP_REASON: Record<number, string> = {
  500: "Internal Server Error",
  502: "Bad Gateway",
  503: "Service Unavailable",
  504: "Gateway Timeout",
};

function htmlError(status: number): string {
  const title = `${status} ${HTTP_REASON[status] ?? http.STATUS_CODES[status] ?? "Error"}`;
  return `<html>\r\n<head><title>${title}</title></head>\r\n<body>\r\n<center><h1>${title}</h1></center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n`;
}

/**
 * Validates a callback-config section. Returns the clean copy, or the errcode to answer:
 * 40101 for a missing key, 47001 for a wrong type, an unknown key, or a value outside its set.
 * The real API's exact codes for these cases are unverified; the emulator is strict on purpose so
 * that a provider sending a malformed body finds out in tests.
 */
function validateFunctionConfig(v: unknown): FunctionConfig | number {
  if (!isObject(v)) return 47001;
  if (!hasOnlyKeys(v, FUNCTION_CONFIG_KEYS)) return 47001;
  if (v.enable === undefined || v.callbacks === undefined) return 40101;
  if (typeof v.enable !== "boolean" || !Array.isArray(v.callbacks)) return 47001;
  const callbacks: CallbackRule[] = [];
  for (const r of v.callbacks) {
    if (!isObject(r) || !hasOnlyKeys(r, CALLBACK_RULE_KEYS)) return 47001;
    for (const k of CALLBACK_RULE_KEYS) if (r[k] === undefined) return 40101;
    const { msgType, event, env, functionName, enable } = r;
    if (
      typeof msgType !== "string" ||
      typeof event !== "string" ||
      typeof env !== "string" ||
      typeof functionName !== "string" ||
      typeof enable !== "boolean"
    ) {
      return 47001;
    }
    if (msgType === "") return 47001;
    // `event` names the event for msgType "event" and is empty for every other message type.
    if ((msgType === "event") !== (event !== "")) return 47001;
    callbacks.push({ msgType, event, env, functionName, enable });
  }
  return { enable: v.enable, callbacks };
}

function validateContainerConfig(v: unknown): ContainerConfig | number {
  if (!isObject(v)) return 47001;
  // Rejects e.g. the seed's typo key "qbase_container_path " (trailing space).
  if (!hasOnlyKeys(v, CONTAINER_CONFIG_KEYS)) return 47001;
  for (const k of CONTAINER_CONFIG_KEYS) if (v[k] === undefined) return 40101;
  const { enable, qbase_env, qbase_container_path, text_mode } = v;
  if (
    typeof enable !== "boolean" ||
    typeof qbase_env !== "string" ||
    typeof qbase_container_path !== "string" ||
    (text_mode !== 1 && text_mode !== 2)
  ) {
    return 47001;
  }
  return { enable, qbase_env, qbase_container_path, text_mode };
}

// ---------------------------------------------------------------------------------------------------
// The emulator
// ---------------------------------------------------------------------------------------------------

export class WeChatEmulator {
  private readonly accounts = new Map<string, Account>();
  private readonly platforms = new Map<string, Platform>();
  private readonly tokens = new Map<string, TokenRecord>();
  private readonly log: RequestRecord[] = [];
  private counts: CallCounts = { set: 0, get: 0, token: 0, total: 0 };
  private rules: ActiveRule[] = [];
  private nextRuleId = 1;
  private randomFaults?: { rate: number; kinds: readonly RandomFaultKind[]; afterApplyShare: number; random: Random };
  private faultTally: Record<string, number> = {};
  private seq = 0;
  private tokenSeq = 0;
  private latencyMs: number;
  private readonly tokenLifetimeMs: number;
  private readonly seed: number;
  private readonly now: () => number;
  private readonly keepLog: boolean;
  private server?: http.Server;
  private readonly sockets = new Set<Socket>();
  private readonly timers = new Set<NodeJS.Timeout>();
  private url?: string;
  constructor(options: EmulatorOptions = {}) {
    const lifetime = options.tokenLifetimeSec ?? 7200;
    if (!(lifetime > 0)) throw new Error("tokenLifetimeSec must be > 0");
    this.tokenLifetimeMs = lifetime * 1000;
    this.latencyMs = options.latencyMs ?? 0;
    this.seed = (options.seed ?? 1) >>> 0;
    this.now = options.now ?? Date.now;
    this.keepLog = options.logRequests ?? true;
  }

  // ---- lifecycle ------------------------------------------------------------------------------------

  /** Starts listening on 127.0.0.1 (port 0 = any free port). Resolves to "http://127.0.0.1:PORT". */
  async start(port = 0): Promise<string> {
    if (this.server) throw new Error("emulator already started");
    const server = http.createServer({ keepAlive: true }, (req, res) => this.onRequest(req, res));
    // Longer than clients' idle keep-alive, so the server never closes a socket a client is reusing.
    server.keepAliveTimeout = 65_000;
    server.headersTimeout = 66_000;
    server.on("connection", (socket: Socket) => {
      socket.setNoDelay(true);
      this.sockets.add(socket);
      socket.once("close", () => this.sockets.delete(socket));
    });
    server.on("clientError", (_err, socket) => socket.destroy());
    this.server = server;
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen({ host: "127.0.0.1", port, backlog: 4096 }, () => {
        server.off("error", reject);
        resolve();
      });
    });
    const address = server.address() as AddressInfo;
    this.url = `http://127.0.0.1:${address.port}`;
    return this.url;
  }

  /** Closes the server and every socket (keep-alive ones too), cancels delayed answers. */
  async stop(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    this.url = undefined;
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
    if (server) {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeAllConnections();
      for (const s of this.sockets) s.destroy();
      this.sockets.clear();
      await closed;
    }
  }

  /** "http://127.0.0.1:PORT" while started. */
  get baseUrl(): string {
    if (!this.url) throw new Error("emulator not started");
    return this.url;
  }

  // ---- registration ---------------------------------------------------------------------------------

  /** Registers (or updates the credentials of) an account. Its settings start at the defaults, or
   *  keep their current value when the account is already known (e.g. loaded from the state file). */
  addAccount(spec: AccountSpec): AccountInfo {
    if (!APP_ID_PATTERN.test(spec.appId)) throw new Error(`appId must match ${APP_ID_PATTERN}: ${spec.appId}`);
    if (spec.platform !== undefined && !APP_ID_PATTERN.test(spec.platform)) {
      throw new Error(`platform must match ${APP_ID_PATTERN}: ${spec.platform}`);
    }
    let account = this.accounts.get(spec.appId);
    if (!account) {
      account = { appId: spec.appId, options: defaultOptions(), callback: defaultCallbackConfig() };
      this.accounts.set(spec.appId, account);
    }
    if (spec.appSecret !== undefined) account.appSecret = spec.appSecret;
    if (spec.platform !== undefined) {
      account.platform = spec.platform;
      account.refreshToken = spec.refreshToken ?? deriveRefreshToken(spec.appId, spec.platform);
    }
    return this.accountInfo(account);
  }

  /** Registers (or updates) a third-party platform. */
  addPlatform(spec: PlatformSpec): void {
    if (!APP_ID_PATTERN.test(spec.componentAppId)) {
      throw new Error(`componentAppId must match ${APP_ID_PATTERN}: ${spec.componentAppId}`);
    }
    this.platforms.set(spec.componentAppId, { ...spec });
  }

  /** WeChat pushes a new verify ticket every 10 minutes; the old one then stops working (61006). */
  setVerifyTicket(componentAppId: string, verifyTicket: string): void {
    this.platformOrThrow(componentAppId).verifyTicket = verifyTicket;
  }

  /**
   * Registers n accounts authorized to the platform, with deterministic appIds
   * "wx" + prefix + zero-padded hex index (1..n), deterministic secrets and refresh tokens.
   * `prefix` is 0..12 hex chars; default "f" + 5 hex chars derived from the platform appId, so fleets
   * of different platforms do not collide. Idempotent: calling again with a larger n adds the rest.
   * The platform must be registered first.
   */
  addFleet(platformAppId: string, n: number, prefix?: string): FleetAccount[] {
    this.platformOrThrow(platformAppId);
    const p = prefix ?? "f" + sha256hex(`fleet:${platformAppId}`).slice(0, 5);
    if (!/^[0-9a-f]{0,12}$/.test(p)) throw new Error("fleet prefix must be 0..12 lowercase hex chars");
    const width = 16 - p.length;
    if (!Number.isInteger(n) || n < 0 || n >= 16 ** width) throw new Error(`fleet size out of range: ${n}`);
    const fleet: FleetAccount[] = [];
    for (let i = 1; i <= n; i++) {
      const appId = "wx" + p + i.toString(16).padStart(width, "0");
      const existing = this.accounts.get(appId);
      if (existing?.platform !== undefined && existing.platform !== platformAppId) {
        throw new Error(`${appId} is already authorized to ${existing.platform}`);
      }
      const appSecret = existing?.appSecret ?? "fleet-secret-" + sha256hex(`secret:${appId}`).slice(0, 24);
      const refreshToken = existing?.refreshToken ?? deriveRefreshToken(appId, platformAppId);
      let account = existing;
      if (!account) {
        account = { appId, options: defaultOptions(), callback: defaultCallbackConfig() };
        this.accounts.set(appId, account);
      }
      account.appSecret = appSecret;
      account.platform = platformAppId;
      account.refreshToken = refreshToken;
      fleet.push({ appId, appSecret, platform: platformAppId, refreshToken });
    }
    return fleet;
  }

  /** Registers the demo platform and account of DEMO_CREDENTIALS; returns DEMO_CREDENTIALS. */
  addDemo(): typeof DEMO_CREDENTIALS {
    const d = DEMO_CREDENTIALS;
    this.addPlatform({
      componentAppId: d.componentAppId,
      componentAppSecret: d.componentAppSecret,
      verifyTicket: d.componentVerifyTicket,
    });
    this.addAccount({
      appId: d.appId,
      appSecret: d.appSecret,
      platform: d.componentAppId,
      refreshToken: d.authorizerRefreshToken,
    });
    return d;
  }

  /** Every registered account (credentials included: they are fake). */
  accountList(): AccountInfo[] {
    return [...this.accounts.values()].map((a) => this.accountInfo(a));
  }

  // ---- tokens ---------------------------------------------------------------------------------------

  /** Mints an authorizer access token for the account, as the user's own token service would. */
  issueAccessToken(appId: string, lifetimeSec?: number): string {
    this.accountOrThrow(appId);
    return this.mintToken("authorizer", "issued", appId, lifetimeSec);
  }

  /** Makes every token of the account (authorizer tokens) or platform (component tokens), or every
   *  token when no id is given, expired: the next use answers 42001. */
  expireTokens(ownerId?: string): number {
    let n = 0;
    const past = this.now() - 1;
    for (const rec of this.tokens.values()) {
      if (ownerId === undefined || rec.owner === ownerId) {
        rec.expiresAt = Math.min(rec.expiresAt, past);
        n++;
      }
    }
    return n;
  }

  /** Forgets every token of the account or platform (or all): the next use answers 40001. */
  revokeTokens(ownerId?: string): number {
    let n = 0;
    for (const [token, rec] of this.tokens) {
      if (ownerId === undefined || rec.owner === ownerId) {
        this.tokens.delete(token);
        n++;
      }
    }
    for (const a of this.accounts.values()) {
      if (a.stableToken && !this.tokens.has(a.stableToken)) a.stableToken = undefined;
    }
    return n;
  }

  // ---- state inspection and out-of-band changes ------------------------------------------------------

  /** A copy of the account's authorizer options. */
  options(appId: string): AuthorizerOptions {
    return { ...this.accountOrThrow(appId).options };
  }

  /** A copy of the account's callback config, API-shaped. */
  callbackConfig(appId: string): CallbackConfigData {
    return cloneCallbackConfig(this.accountOrThrow(appId).callback);
  }

  /** Out-of-band change (someone clicked in the WeChat console): validated like the API does. */
  setOption(appId: string, name: string, value: string): void {
    const account = this.accountOrThrow(appId);
    if (!isOptionName(name)) throw new Error(`unknown option ${name}`);
    if (!OPTION_VALUES[name].includes(value)) throw new Error(`option ${name} does not allow ${JSON.stringify(value)}`);
    account.options[name] = value;
  }

  /** Out-of-band change: sections and fields left out keep their value; the result is validated. */
  setCallbackConfig(appId: string, config: PartialCallbackConfig): void {
    const account = this.accountOrThrow(appId);
    const current = account.callback;
    let fc = current.function_config;
    let cc = current.container_config;
    if (config.function_config) {
      const v = validateFunctionConfig({ ...current.function_config, ...config.function_config });
      if (typeof v === "number") throw new Error(`invalid function_config (errcode ${v})`);
      fc = v;
    }
    if (config.container_config) {
      const v = validateContainerConfig({ ...current.container_config, ...config.container_config });
      if (typeof v === "number") throw new Error(`invalid container_config (errcode ${v})`);
      cc = v;
    }
    account.callback = { function_config: fc, container_config: cc };
  }

  /**
   * Settings of every account back to the defaults; request log, fault rules, random faults and fault
   * counts cleared. With `tokens: true` every token is forgotten too. Accounts and platforms stay.
   */
  reset(opts: { tokens?: boolean } = {}): void {
    for (const a of this.accounts.values()) {
      a.options = defaultOptions();
      a.callback = defaultCallbackConfig();
    }
    this.clearRequests();
    this.clearFaults();
    this.faultTally = {};
    if (opts.tokens) this.revokeTokens();
  }

  /** Snapshot of every account's settings (what GET /__emulator/state answers). */
  state(): {
    accounts: Record<string, { platform?: string; options: AuthorizerOptions; callbackConfig: CallbackConfigData }>;
    platforms: string[];
  } {
    const accounts: Record<string, { platform?: string; options: AuthorizerOptions; callbackConfig: CallbackConfigData }> = {};
    for (const a of this.accounts.values()) {
      accounts[a.appId] = { platform: a.platform, options: { ...a.options }, callbackConfig: cloneCallbackConfig(a.callback) };
    }
    return { accounts, platforms: [...this.platforms.keys()] };
  }

  // ---- request log ----------------------------------------------------------------------------------

  /** The live request log (API paths only), in order of arrival. */
  get requests(): readonly RequestRecord[] {
    return this.log;
  }

  clearRequests(): void {
    this.log.length = 0;
    this.counts = { set: 0, get: 0, token: 0, total: 0 };
  }

  /** Requests matching the filter (all fields must match) or the predicate. */
  filter(filter: RequestFilter | ((r: RequestRecord) => boolean) = {}): RequestRecord[] {
    const pred = typeof filter === "function" ? filter : compileFilter(filter);
    return this.log.filter(pred);
  }

  count(filter: RequestFilter | ((r: RequestRecord) => boolean) = {}): number {
    const pred = typeof filter === "function" ? filter : compileFilter(filter);
    let n = 0;
    for (const r of this.log) if (pred(r)) n++;
    return n;
  }

  /** Requests received since the last clearRequests()/reset(), by kind; faulted requests count too. */
  callCounts(): CallCounts {
    return { ...this.counts };
  }

  // ---- faults and latency ---------------------------------------------------------------------------

  injectFault(rule: FaultRule): FaultHandle {
    validateRule(rule);
    const id = this.nextRuleId++;
    const active: ActiveRule = {
      id,
      rule: { ...rule },
      remaining: rule.times ?? Infinity,
      hits: 0,
      random: rule.probability !== undefined ? seededRandom(rule.seed ?? seedFromString(`${this.seed}:rule:${id}`)) : undefined,
    };
    this.rules.push(active);
    return {
      id,
      get hits() {
        return active.hits;
      },
      remove: () => {
        this.rules = this.rules.filter((r) => r !== active);
      },
    };
  }

  /** Removes every fault rule and turns random faults off (faultCounts() are kept; reset() clears them). */
  clearFaults(): void {
    this.rules = [];
    this.randomFaults = undefined;
  }

  setRandomFaults(opts: RandomFaultOptions): void {
    if (!(opts.rate >= 0 && opts.rate <= 1)) throw new Error("rate must be in 0..1");
    const kinds = opts.kinds ?? RANDOM_FAULT_KINDS;
    if (kinds.length === 0) throw new Error("kinds must not be empty");
    for (const k of kinds) {
      if (!RANDOM_FAULT_KINDS.includes(k)) throw new Error(`unknown random fault kind ${k}`);
    }
    const share = opts.afterApplyShare ?? 0;
    if (!(share >= 0 && share <= 1)) throw new Error("afterApplyShare must be in 0..1");
    this.randomFaults =
      opts.rate === 0
        ? undefined
        : { rate: opts.rate, kinds: [...kinds], afterApplyShare: share, random: seededRandom(opts.seed ?? this.seed) };
  }

  setLatency(ms: number): void {
    if (!(ms >= 0)) throw new Error("latency must be >= 0");
    this.latencyMs = ms;
  }

  /** How many faults of each label were injected ("errcode:-1", "http:502", "drop", "delay"...) and "total". */
  faultCounts(): Record<string, number> {
    return { ...this.faultTally };
  }

  // ---- HTTP -----------------------------------------------------------------------------------------

  private onRequest(req: http.IncomingMessage, res: http.ServerResponse): void {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on("data", (chunk: Buffer) => {
      size += chunk.length;
      if (size <= MAX_BODY_BYTES) chunks.push(chunk);
    });
    req.on("error", () => undefined);
    req.on("end", () => {
      const raw = chunks.length === 0 ? "" : chunks.length === 1 ? chunks[0].toString("utf8") : Buffer.concat(chunks).toString("utf8");
      try {
        this.dispatch(req, res, raw, size > MAX_BODY_BYTES);
      } catch (err) {
        // A bug in the emulator must not hang the client.
        if (!res.headersSent) {
          res.writeHead(500, { "content-type": "text/plain" });
          res.end(`emulator error: ${(err as Error).message}`);
        }
      }
    });
  }

  private dispatch(req: http.IncomingMessage, res: http.ServerResponse, raw: string, tooLarge: boolean): void {
    const url = req.url ?? "/";
    const q = url.indexOf("?");
    const pathname = q < 0 ? url : url.slice(0, q);
    const query = q < 0 ? "" : url.slice(q + 1);
    if (pathname.startsWith("/__emulator/")) {
      this.handleControl(req.method ?? "GET", pathname, res);
      return;
    }
    const arrived = this.now();
    const route = ROUTES.get(pathname);
    const params = new URLSearchParams(query);

    let body: unknown;
    let bodyState: "empty" | "json" | "invalid";
    if (tooLarge) {
      bodyState = "invalid";
      body = undefined;
    } else if (raw.trim() === "") {
      bodyState = "empty";
    } else {
      try {
        body = JSON.parse(raw);
        bodyState = "json";
      } catch {
        body = raw;
        bodyState = "invalid";
      }
    }

    const token = route?.tokenParam
      ? (params.get(route.tokenParam) ?? undefined)
      : (params.get("access_token") ?? params.get("component_access_token") ?? undefined);
    const rec = token ? this.tokens.get(token) : undefined;
    const b = bodyState === "json" && isObject(body) ? body : undefined;
    const str = (v: unknown) => (typeof v === "string" ? v : undefined);

    let appId: string | undefined;
    let platform: string | undefined;
    if (rec?.kind === "authorizer") appId = rec.owner;
    if (rec?.kind === "component") platform = rec.owner;
    if (route) {
      switch (route.name) {
        case "stable_token":
          appId = str(b?.appid);
          break;
        case "component_token":
          platform = str(b?.component_appid);
          appId = platform;
          break;
        case "authorizer_token":
          appId = str(b?.authorizer_appid);
          break;
        default:
          break;
      }
    }

    const entry: RequestRecord = {
      seq: ++this.seq,
      at: arrived,
      method: req.method ?? "",
      path: pathname,
      query,
      appId,
      platform,
      tokenKind: rec?.kind,
      tokenSource: rec?.source,
      token,
      body,
      httpStatus: 0,
    };
    if (this.keepLog) this.log.push(entry);
    this.counts.total++;
    if (route) this.counts[route.kind]++;
    const startedAt = Date.now();

    const fault = this.pickFault(pathname, appId);
    const lateBy = this.latencyMs + (fault?.delayMs ?? 0);
    if (fault) {
      entry.fault = fault.label;
      if (fault.afterApply) entry.afterApply = true;
      this.faultTally[fault.label] = (this.faultTally[fault.label] ?? 0) + 1;
      this.faultTally.total = (this.faultTally.total ?? 0) + 1;
    }

    let outcome: Outcome;
    if (fault && fault.label !== "delay" && !fault.afterApply) {
      outcome = { answer: faultAnswer(fault) };
    } else {
      outcome = this.process(route, req.method ?? "", token, rec, bodyState, b, arrived);
      if (fault && fault.label !== "delay") outcome = { answer: faultAnswer(fault) };
    }

    const send = () => this.send(res, entry, outcome.answer, startedAt);
    if (lateBy > 0) {
      const t = setTimeout(() => {
        this.timers.delete(t);
        send();
      }, lateBy);
      this.timers.add(t);
    } else {
      send();
    }
  }

  private send(res: http.ServerResponse, entry: RequestRecord, answer: Answer, startedAt: number): void {
    entry.durationMs = Date.now() - startedAt;
    if (res.destroyed || res.writableEnded) return;
    switch (answer.type) {
      case "drop":
        entry.httpStatus = 0;
        res.socket?.destroy();
        res.destroy();
        return;
      case "http": {
        entry.httpStatus = answer.status;
        const text = htmlError(answer.status);
        res.writeHead(answer.status, {
          "content-type": "text/html",
          "content-length": Buffer.byteLength(text),
        });
        res.end(text);
        return;
      }
      case "json": {
        entry.httpStatus = answer.status;
        entry.errcode = answer.errcode;
        const text = JSON.stringify(answer.payload);
        res.writeHead(answer.status, {
          "content-type": "application/json; encoding=utf-8",
          "content-length": Buffer.byteLength(text),
        });
        res.end(text);
        return;
      }
    }
  }

  private pickFault(pathname: string, appId: string | undefined): Fault | undefined {
    for (const active of this.rules) {
      const r = active.rule;
      if (active.remaining <= 0) continue;
      if (r.path !== undefined) {
        if (typeof r.path === "string" ? r.path !== pathname : !r.path.test(pathname)) continue;
      }
      if (r.appId !== undefined && r.appId !== appId) continue;
      if (active.random && !(active.random() < (r.probability ?? 1))) continue;
      active.remaining--;
      active.hits++;
      if (active.remaining <= 0) this.rules = this.rules.filter((x) => x !== active);
      return ruleToFault(r);
    }
    const rf = this.randomFaults;
    if (rf && rf.random() < rf.rate) {
      const kind = rf.kinds[Math.floor(rf.random() * rf.kinds.length)];
      const afterApply = rf.afterApplyShare > 0 && rf.random() < rf.afterApplyShare;
      if (kind === "drop") return { label: "drop", drop: true, delayMs: 0, afterApply };
      const [what, num] = kind.split(":");
      const n = Number(num);
      return what === "http" ? { label: kind, httpStatus: n, delayMs: 0, afterApply } : { label: kind, errcode: n, delayMs: 0, afterApply };
    }
    return undefined;
  }

  // ---- API endpoints --------------------------------------------------------------------------------

  private process(
    route: Route | undefined,
    method: string,
    token: string | undefined,
    rec: TokenRecord | undefined,
    bodyState: "empty" | "json" | "invalid",
    body: Record<string, unknown> | undefined,
    now: number,
  ): Outcome {
    if (!route) {
      const o = errAnswer(40066);
      if (o.answer.type === "json") o.answer.status = 404;
      return o;
    }
    if (method !== "POST") return errAnswer(43002);
    if (route.auth) {
      if (!token) return errAnswer(41001);
      if (!rec) return errAnswer(40001);
      if (rec.kind !== route.auth) return errAnswer(40014);
      if (rec.expiresAt <= now) return errAnswer(42001);
    }
    if (bodyState === "empty") return errAnswer(44002);
    if (!body) return errAnswer(47001);

    switch (route.name) {
      case "stable_token":
        return this.stableToken(body, now);
      case "component_token":
        return this.componentToken(body);
      case "authorizer_token":
        return this.authorizerToken(body, rec!);
      case "set_option":
        return this.setOptionApi(this.accounts.get(rec!.owner)!, body);
      case "get_option":
        return this.getOptionApi(this.accounts.get(rec!.owner)!, body);
      case "set_callback":
        return this.setCallbackApi(this.accounts.get(rec!.owner)!, body);
      case "get_callback":
        return okAnswer({ data: cloneCallbackConfig(this.accounts.get(rec!.owner)!.callback) });
    }
  }

  private stableToken(b: Record<string, unknown>, now: number): Outcome {
    if (b.grant_type !== "client_credential") return errAnswer(40002);
    if (typeof b.appid !== "string" || b.appid === "") return errAnswer(41002);
    if (typeof b.secret !== "string" || b.secret === "") return errAnswer(41004);
    if (b.force_refresh !== undefined && typeof b.force_refresh !== "boolean") return errAnswer(47001);
    const account = this.accounts.get(b.appid);
    if (!account) return errAnswer(40013);
    if (account.appSecret === undefined || b.secret !== account.appSecret) return errAnswer(40125);
    const current = account.stableToken ? this.tokens.get(account.stableToken) : undefined;
    if (current && current.expiresAt > now && b.force_refresh !== true) {
      return tokenAnswer({
        access_token: account.stableToken,
        expires_in: Math.max(1, Math.ceil((current.expiresAt - now) / 1000)),
      });
    }
    // force_refresh supersedes a still-valid stable token: its next use answers 40001. An expired one
    // is kept so that its use keeps answering 42001.
    if (current && current.expiresAt > now) this.tokens.delete(account.stableToken!);
    const token = this.mintToken("authorizer", "stable", account.appId);
    account.stableToken = token;
    return tokenAnswer({ access_token: token, expires_in: this.tokenLifetimeMs / 1000 });
  }

  private componentToken(b: Record<string, unknown>): Outcome {
    const { component_appid, component_appsecret, component_verify_ticket } = b;
    if (component_appid === undefined || component_appsecret === undefined || component_verify_ticket === undefined) {
      return errAnswer(40101);
    }
    if (typeof component_appid !== "string" || typeof component_appsecret !== "string" || typeof component_verify_ticket !== "string") {
      return errAnswer(47001);
    }
    const platform = this.platforms.get(component_appid);
    if (!platform) return errAnswer(40013);
    if (component_appsecret !== platform.componentAppSecret) return errAnswer(40125);
    if (component_verify_ticket !== platform.verifyTicket) return errAnswer(61006);
    const token = this.mintToken("component", "component", component_appid);
    return tokenAnswer({ component_access_token: token, expires_in: this.tokenLifetimeMs / 1000 });
  }

  private authorizerToken(b: Record<string, unknown>, rec: TokenRecord): Outcome {
    const { component_appid, authorizer_appid, authorizer_refresh_token } = b;
    if (component_appid === undefined || authorizer_appid === undefined || authorizer_refresh_token === undefined) {
      return errAnswer(40101);
    }
    if (typeof component_appid !== "string" || typeof authorizer_appid !== "string" || typeof authorizer_refresh_token !== "string") {
      return errAnswer(47001);
    }
    // The component token belongs to another platform than the body names.
    if (component_appid !== rec.owner) return errAnswer(40013);
    const account = this.accounts.get(authorizer_appid);
    if (!account || account.platform !== rec.owner) return errAnswer(61003);
    if (authorizer_refresh_token !== account.refreshToken) return errAnswer(61023);
    // A new token each call; earlier ones stay valid until they expire.
    const token = this.mintToken("authorizer", "platform", account.appId);
    return tokenAnswer({
      authorizer_access_token: token,
      expires_in: this.tokenLifetimeMs / 1000,
      authorizer_refresh_token: account.refreshToken,
    });
  }

  // The real API's codes for a missing field (40101) and for an unknown option or a value outside its
  // set (47001 here) are unverified: the emulator answers these so a provider handles both as "bug in
  // the request" and never retries them.
  private setOptionApi(account: Account, b: Record<string, unknown>): Outcome {
    const { option_name, option_value } = b;
    if (option_name === undefined || option_value === undefined) return errAnswer(40101);
    if (typeof option_name !== "string" || typeof option_value !== "string") return errAnswer(47001);
    if (!isOptionName(option_name)) return errAnswer(47001);
    if (!OPTION_VALUES[option_name].includes(option_value)) return errAnswer(47001);
    account.options[option_name] = option_value;
    return okAnswer();
  }

  private getOptionApi(account: Account, b: Record<string, unknown>): Outcome {
    const { option_name } = b;
    if (option_name === undefined) return errAnswer(40101);
    if (typeof option_name !== "string" || !isOptionName(option_name)) return errAnswer(47001);
    return okAnswer({ option_name, option_value: account.options[option_name] });
  }

  private setCallbackApi(account: Account, b: Record<string, unknown>): Outcome {
    if (!hasOnlyKeys(b, ["function_config", "container_config"])) return errAnswer(47001);
    if (b.function_config === undefined && b.container_config === undefined) return errAnswer(40101);
    let fc: FunctionConfig | undefined;
    let cc: ContainerConfig | undefined;
    if (b.function_config !== undefined) {
      const v = validateFunctionConfig(b.function_config);
      if (typeof v === "number") return errAnswer(v);
      fc = v;
    }
    if (b.container_config !== undefined) {
      const v = validateContainerConfig(b.container_config);
      if (typeof v === "number") return errAnswer(v);
      cc = v;
    }
    // A section left out is not updated.
    account.callback = {
      function_config: fc ?? account.callback.function_config,
      container_config: cc ?? account.callback.container_config,
    };
    return okAnswer();
  }

  // ---- control endpoints ----------------------------------------------------------------------------

  /** GET /__emulator/state; every other path under /__emulator/ answers 404. */
  private handleControl(method: string, pathname: string, res: http.ServerResponse): void {
    const found = method === "GET" && pathname === "/__emulator/state";
    const text = JSON.stringify(found ? this.state() : { error: `no control endpoint ${method} ${pathname}` });
    res.writeHead(found ? 200 : 404, { "content-type": "application/json", "content-length": Buffer.byteLength(text) });
    res.end(text);
  }

  // ---- internals ------------------------------------------------------------------------------------

  private mintToken(kind: TokenKind, source: TokenSource, owner: string, lifetimeSec?: number): string {
    // Opaque, like the real ones; a provider must never parse a token.
    const token = `${++this.tokenSeq}_${randomBytes(36).toString("base64url")}`;
    const lifetimeMs = lifetimeSec !== undefined ? lifetimeSec * 1000 : this.tokenLifetimeMs;
    this.tokens.set(token, { kind, source, owner, expiresAt: this.now() + lifetimeMs });
    return token;
  }

  private accountOrThrow(appId: string): Account {
    const a = this.accounts.get(appId);
    if (!a) throw new Error(`unknown account ${appId}`);
    return a;
  }

  private platformOrThrow(componentAppId: string): Platform {
    const p = this.platforms.get(componentAppId);
    if (!p) throw new Error(`unknown platform ${componentAppId}`);
    return p;
  }

  private accountInfo(a: Account): AccountInfo {
    const info: AccountInfo = { appId: a.appId };
    if (a.appSecret !== undefined) info.appSecret = a.appSecret;
    if (a.platform !== undefined) info.platform = a.platform;
    if (a.refreshToken !== undefined) info.refreshToken = a.refreshToken;
    return info;
  }
}

function compileFilter(f: RequestFilter): (r: RequestRecord) => boolean {
  return (r) => {
    if (f.path !== undefined && (typeof f.path === "string" ? r.path !== f.path : !f.path.test(r.path))) return false;
    if (f.appId !== undefined && r.appId !== f.appId) return false;
    if (f.method !== undefined && r.method !== f.method) return false;
    if (f.errcode !== undefined && r.errcode !== f.errcode) return false;
    if (f.tokenKind !== undefined && r.tokenKind !== f.tokenKind) return false;
    if (f.kind !== undefined && ROUTES.get(r.path)?.kind !== f.kind) return false;
    if (f.fault !== undefined) {
      if (typeof f.fault === "boolean" ? (r.fault !== undefined) !== f.fault : r.fault !== f.fault) return false;
    }
    return true;
  };
}

function validateRule(rule: FaultRule): void {
  const num = (v: unknown, name: string, ok: (n: number) => boolean) => {
    if (v !== undefined && (typeof v !== "number" || !Number.isFinite(v) || !ok(v))) {
      throw new Error(`fault rule: invalid ${name}`);
    }
  };
  num(rule.errcode, "errcode", Number.isInteger);
  num(rule.httpStatus, "httpStatus", (n) => Number.isInteger(n) && n >= 200 && n <= 599);
  num(rule.delayMs, "delayMs", (n) => n >= 0);
  num(rule.times, "times", (n) => Number.isInteger(n) && n >= 1);
  num(rule.probability, "probability", (n) => n >= 0 && n <= 1);
  num(rule.seed, "seed", Number.isInteger);
  if (rule.path !== undefined && typeof rule.path !== "string" && !(rule.path instanceof RegExp)) {
    throw new Error("fault rule: path must be a string or a RegExp");
  }
  if (rule.appId !== undefined && typeof rule.appId !== "string") throw new Error("fault rule: invalid appId");
  if (rule.errmsg !== undefined && typeof rule.errmsg !== "string") throw new Error("fault rule: invalid errmsg");
}

/**
 * What a rule does, in priority order: drop, then an HTTP status (other than 200: an HTML body), then an
 * errcode; with only delayMs it just answers late; with nothing at all it answers errcode -1.
 */
function ruleToFault(r: FaultRule): Fault {
  const base = { delayMs: r.delayMs ?? 0, afterApply: r.afterApply === true };
  if (r.drop) return { ...base, label: "drop", drop: true };
  if (r.httpStatus !== undefined && r.httpStatus !== 200) return { ...base, label: `http:${r.httpStatus}`, httpStatus: r.httpStatus };
  if (r.errcode !== undefined) return { ...base, label: `errcode:${r.errcode}`, errcode: r.errcode, errmsg: r.errmsg };
  if (r.delayMs !== undefined) return { ...base, label: "delay", afterApply: false };
  return { ...base, label: "errcode:-1", errcode: -1, errmsg: r.errmsg };
}

function faultAnswer(f: Fault): Answer {
  if (f.drop) return { type: "drop" };
  if (f.httpStatus !== undefined) return { type: "http", status: f.httpStatus };
  const errcode = f.errcode ?? -1;
  const o = errAnswer(errcode, f.errmsg);
  return o.answer;
}

export default WeChatEmulator;
