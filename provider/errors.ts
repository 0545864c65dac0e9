/**
 * Every error this package throws, and the table that turns a WeChat errcode into advice a person can act on.
 *
 * Whatever is thrown from the provider ends up in `pulumi up` output and CI logs, so messages are built here from
 * known parts only, with WeChat's own `errmsg` stripped of control characters, and passed through `redact`.
 */

/** How the client treats an errcode. */
export type ErrcodeKind =
  /** Worth retrying with backoff: the same request can succeed later. */
  | "transient"
  /** The access token was refused: ask for the currently valid one once (never forcing a new one), then give up. */
  | "token"
  /** Retrying cannot help: the person running the deployment has to change something. */
  | "final"
  /** The request was built wrong: a defect in this package, reported as such. */
  | "bug";

interface ErrcodeAdvice {
  readonly kind: ErrcodeKind;
  /** What the code means, in a few words. */
  readonly meaning: string;
  /** What to do about it. */
  readonly fix: string;
}

const BUG_FIX = "this is a defect in pulumi-wechat: please report it with the operation that failed";
const NEW_IP =
  "WeChat asks the account's administrator to confirm API calls from a new IP (a new CI runner is one): confirm it in the WeChat admin console (or the administrator's WeChat), or run from an IP already confirmed";

/** The errcodes documented for the managed APIs and the token endpoints (the README's errcode table lists the same). */
export const ERRCODES: Readonly<Record<number, ErrcodeAdvice>> = {
  [-1]: { kind: "transient", meaning: "system busy", fix: "retried with backoff; if it persists, try again later" },
  [-1000]: { kind: "transient", meaning: "system error", fix: "retried with backoff; if it persists, try again later" },
  40001: {
    kind: "token",
    meaning: "invalid credential (the access token is wrong or was superseded)",
    fix: "check the credentials in the `wechat:` stack config; another server may have forced a new token for this account",
  },
  40013: {
    kind: "final",
    meaning: "invalid appid",
    fix: "check the appid (wx followed by 16 lowercase hex characters; appids are case-sensitive)",
  },
  40014: {
    kind: "final",
    meaning: "invalid access_token (malformed, or issued for another account)",
    fix: "check that the token belongs to this authorizer: a token of one account cannot manage another",
  },
  40101: { kind: "bug", meaning: "missing parameter", fix: BUG_FIX },
  40125: {
    kind: "final",
    meaning: "invalid appsecret",
    fix: "check wechat:appSecret / wechat:componentAppSecret (it may have been reset in the WeChat console)",
  },
  40164: {
    kind: "final",
    meaning: "caller IP is not on the account's IP whitelist",
    fix: "add this machine's egress IP (for CI, the runner's) to the account's API IP whitelist in the WeChat console",
  },
  41001: { kind: "bug", meaning: "access_token missing", fix: BUG_FIX },
  41002: { kind: "final", meaning: "appid missing", fix: "set wechat:appId (or wechat:componentAppId) to the appid" },
  41004: {
    kind: "final",
    meaning: "appsecret missing",
    fix: "set wechat:appSecret (or wechat:componentAppSecret) with `pulumi config set --secret`",
  },
  42001: {
    kind: "token",
    meaning: "access_token expired",
    fix: "a token ages out after 2 hours: a ready token must be issued anew; fetched tokens are asked for again once",
  },
  43002: { kind: "bug", meaning: "POST required", fix: BUG_FIX },
  44002: { kind: "bug", meaning: "empty POST data", fix: BUG_FIX },
  45009: {
    kind: "final",
    meaning: "daily API quota used up",
    fix: "the quota resets at midnight (Beijing time); a third-party platform can clear it with clear_quota",
  },
  45011: {
    kind: "transient",
    meaning: "API minute-quota reached",
    fix: "retried with a longer backoff; lower wechat:maxConcurrency if it keeps happening",
  },
  47001: { kind: "bug", meaning: "data format error", fix: BUG_FIX },
  48001: {
    kind: "final",
    meaning: "API unauthorized (permission set not granted)",
    fix:
      "the authorizer has not granted this platform the permission set this API belongs to " +
      "(CloudBase message push: permission set 49 or 64); ask the account owner to re-authorize with it",
  },
  61003: {
    kind: "final",
    meaning: "the account has not authorized this third-party platform",
    fix: "ask the account owner to authorize the platform, or remove the account from the program",
  },
  61004: {
    kind: "final",
    meaning: "caller IP is not on the platform's IP whitelist",
    fix: "add this machine's egress IP (for CI, the runner's) to the third-party platform's IP whitelist",
  },
  61005: {
    kind: "final",
    meaning: "component verify ticket expired",
    fix: "set wechat:componentVerifyTicket to the latest ticket WeChat pushed to the platform (every 10 minutes), or use wechat:tokenCommand",
  },
  61006: {
    kind: "final",
    meaning: "component verify ticket invalid",
    fix: "set wechat:componentVerifyTicket to the latest ticket WeChat pushed to the platform (every 10 minutes), or use wechat:tokenCommand",
  },
  61007: {
    kind: "final",
    meaning: "API not authorized to the platform",
    fix:
      "the account did not grant this platform the permission set this API needs (CloudBase message push: 49 or 64; " +
      "authorizer options: account management); ask the account owner to re-authorize with it",
  },
  61023: {
    kind: "final",
    meaning: "authorizer refresh token invalid",
    fix: "update this account's entry in wechat:authorizerRefreshTokens (the account may have re-authorized)",
  },
  89503: { kind: "final", meaning: "this IP awaits the administrator's confirmation", fix: `${NEW_IP}, then run again` },
  89506: {
    kind: "final",
    meaning: "the administrator refused this IP",
    fix: `${NEW_IP}; calls from this IP can work again after 24 hours`,
  },
  89507: { kind: "final", meaning: "the administrator refused this IP", fix: `${NEW_IP}; calls from this IP can work again after 1 hour` },
};

/** The advice for an errcode, with a generic answer for codes this package does not know. */
export function adviceFor(errcode: number): ErrcodeAdvice {
  return (
    ERRCODES[errcode] ?? {
      kind: "final",
      meaning: "undocumented error",
      fix: "see the WeChat Open Platform error-code list; the errmsg above is WeChat's own",
    }
  );
}

/** Context for a message: which API, on behalf of which account. */
export interface CallContext {
  /** The API's name as WeChat documents it, e.g. `set_authorizer_option`. */
  readonly api: string;
  /** The authorized account the call acts for, when there is one. */
  readonly appId?: string;
}

function subject(context: CallContext): string {
  return context.appId ? `WeChat API ${context.api} for authorizer ${context.appId}` : `WeChat API ${context.api}`;
}

/** What each kind of error is, as `error.code` (the way got names its errors). */
export type WeChatErrorCode =
  "ERR_WECHAT_API" | "ERR_WECHAT_TRANSPORT" | "ERR_WECHAT_ANSWER" | "ERR_WECHAT_CONFIG" | "ERR_WECHAT_TOKEN_COMMAND";

/** The base of every error the provider throws: a redacted message a person can act on, and a `code`. */
export class WeChatError extends Error {
  override readonly name: string = "WeChatError";

  constructor(
    readonly code: WeChatErrorCode,
    message: string,
  ) {
    super(redact(message));
    // Pulumi's provider host prints `${error}: ${error.stack}`: the message is what users need, not our frames.
    Object.defineProperty(this, "stack", { value: "", writable: true, configurable: true });
  }
}

/** WeChat answered with a non-zero errcode. */
export class WeChatApiError extends WeChatError {
  override readonly name = "WeChatApiError";
  readonly kind: ErrcodeKind;

  constructor(
    readonly context: CallContext,
    readonly errcode: number,
    errmsg: string,
    /** How many attempts were made, and over how long, before giving up. */
    readonly attempts = 1,
    elapsedMs = 0,
  ) {
    const advice = adviceFor(errcode);
    super(
      "ERR_WECHAT_API",
      `${subject(context)} failed${tried(attempts, elapsedMs)}: errcode ${errcode} ${advice.meaning} (errmsg "${printable(errmsg)}"). Fix: ${advice.fix}.`,
    );
    this.kind = advice.kind;
  }
}

/** The request never got a usable answer: network failure, timeout, HTTP error status, or a body that is not JSON. */
export class WeChatTransportError extends WeChatError {
  override readonly name = "WeChatTransportError";

  constructor(
    readonly context: CallContext,
    /** A short description of what went wrong, already free of URLs and tokens. */
    readonly reason: string,
    readonly attempts: number,
    elapsedMs = 0,
  ) {
    super(
      "ERR_WECHAT_TRANSPORT",
      `${subject(context)} failed${tried(attempts, elapsedMs)}: ${reason}. ` +
        "Fix: check that this machine can reach wechat:apiBaseUrl; the call is safe to retry with `pulumi up`.",
    );
  }
}

/** WeChat answered success in a shape its documentation does not give: nothing from it is used. */
export class WeChatAnswerError extends WeChatError {
  override readonly name = "WeChatAnswerError";

  constructor(
    readonly context: CallContext,
    /** Which part of the answer did not fit, e.g. `option_value: expected a string or a number`. */
    readonly problem: string,
  ) {
    super(
      "ERR_WECHAT_ANSWER",
      `${subject(context)} answered in a shape WeChat does not document (${problem}); nothing from that answer was used. ` +
        "Fix: check that wechat:apiBaseUrl points at the WeChat API (or a faithful proxy of it); if it does, report this with the API name.",
    );
  }
}

/** The provider's configuration (stack config `wechat:*` or `WECHAT_*` variables) is missing or contradictory. */
export class WeChatConfigError extends WeChatError {
  override readonly name = "WeChatConfigError";
  constructor(message: string) {
    super("ERR_WECHAT_CONFIG", message);
  }
}

/** The user's token command failed: named with its exit status, never with its output (it may hold a token). */
export class WeChatTokenCommandError extends WeChatError {
  override readonly name = "WeChatTokenCommandError";
  constructor(message: string) {
    super("ERR_WECHAT_TOKEN_COMMAND", message);
  }
}

function tried(attempts: number, elapsedMs: number): string {
  if (attempts <= 1) return "";
  return ` after ${attempts} attempts over ${(elapsedMs / 1000).toFixed(1)} s`;
}

/**
 * WeChat's errmsg, safe to print: control characters and terminal escape sequences removed (an errmsg must not be
 * able to move the cursor or forge a line of `pulumi up` output), and at most 200 characters.
 */
function printable(text: string): string {
  const clean = text
    // eslint-disable-next-line no-control-regex -- these are exactly what is removed
    .replace(/\u001b\[[0-?]*[ -/]*[@-~]|\u001b\][^\u0007\u001b]*(?:\u0007|\u001b\\)|\u001b[@-_]/g, "")
    // eslint-disable-next-line no-control-regex
    .replace(/[\u0000-\u001f\u007f-\u009f\u2028\u2029]+/g, " ")
    .trim();
  return clean.length > 200 ? `${clean.slice(0, 200)}…` : clean;
}

/**
 * Values that must never be printed: every configured secret and every token issued during this process. The
 * configuration and credentials modules register them as they learn them; `redact` replaces them wherever they appear.
 */
const knownSecrets = new Set<string>();

/** Registers a value that must never appear in a message. Short values are ignored: they would mangle text. */
export function registerSecret(value: string | undefined): void {
  if (value && value.length >= 6) knownSecrets.add(value);
}

const TOKEN_IN_URL =
  /((?:component_)?access_token|secret|appsecret|component_appsecret|component_verify_ticket|authorizer_refresh_token)=[^&\s"']+/gi;
const TOKEN_IN_JSON =
  /("(?:(?:component_|authorizer_)?access_token|secret|component_appsecret|component_verify_ticket|(?:authorizer_)?refresh_token)"\s*:\s*")[^"]*"/gi;

/** Removes tokens and secrets from a text: query parameters, JSON fields, and every registered secret value. */
export function redact(text: string): string {
  let result = text.replace(TOKEN_IN_URL, "$1=[redacted]").replace(TOKEN_IN_JSON, '$1[redacted]"');
  for (const secret of knownSecrets) {
    if (result.includes(secret)) result = result.split(secret).join("[redacted]");
  }
  return result;
}
