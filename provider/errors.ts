/**
 * Every error this package throws, and the table that turns a WeChat errcode into advice a person can act on.
 *
 * Whatever is thrown from the provider ends up in `pulumi up` output and CI logs (Pulumi's provider host prints
 * `${error}: ${error.stack}`), so messages are built here from known parts only and passed through `redact`.
 */

/** How the client treats an errcode. */
export type ErrcodeKind =
  /** Worth retrying with backoff: the same request can succeed later. */
  | "transient"
  /** The access token was refused: fetch a new one once, then give up. */
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

/** The errcodes documented for the managed APIs and the token endpoints (see the README's Troubleshooting). */
export const ERRCODES: Readonly<Record<number, ErrcodeAdvice>> = {
  [-1]: { kind: "transient", meaning: "system busy", fix: "retried with backoff; if it persists, try again later" },
  [-1000]: { kind: "transient", meaning: "system error", fix: "retried with backoff; if it persists, try again later" },
  40001: {
    kind: "token",
    meaning: "invalid credential (the access token is wrong or was superseded)",
    fix: "check the credentials in the `wechat:` stack config; a token issued elsewhere may have replaced ours",
  },
  40013: {
    kind: "final",
    meaning: "invalid appid",
    fix: "check the appid (wx followed by 16 lowercase hex characters; appids are case-sensitive)",
  },
  40014: {
    kind: "token",
    meaning: "invalid access_token (malformed, or issued for another account)",
    fix: "check that the token belongs to this authorizer",
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
  42001: {
    kind: "token",
    meaning: "access_token expired",
    fix: "a ready token in wechat:accessToken has aged out (2 hours): issue a new one",
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
    fix: "set wechat:componentVerifyTicket to the latest ticket WeChat pushed to the platform (every 10 minutes)",
  },
  61006: {
    kind: "final",
    meaning: "component verify ticket invalid",
    fix: "set wechat:componentVerifyTicket to the latest ticket WeChat pushed to the platform (every 10 minutes)",
  },
  61023: {
    kind: "final",
    meaning: "authorizer refresh token invalid",
    fix: "update this account's entry in wechat:authorizerRefreshTokens (the account may have re-authorized)",
  },
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

/** WeChat answered with a non-zero errcode. */
export class WeChatApiError extends Error {
  override readonly name = "WeChatApiError";
  readonly kind: ErrcodeKind;

  constructor(
    readonly context: CallContext,
    readonly errcode: number,
    readonly errmsg: string,
    /** How many attempts were made before giving up. */
    readonly attempts = 1,
  ) {
    const advice = adviceFor(errcode);
    const tries = attempts > 1 ? ` after ${attempts} attempts` : "";
    super(redact(`${subject(context)} failed${tries}: errcode ${errcode} ${advice.meaning} (errmsg "${errmsg}"). Fix: ${advice.fix}.`));
    this.kind = advice.kind;
  }
}

/** The request never got a WeChat answer: network failure, timeout, HTTP error status, or a body that is not JSON. */
export class WeChatTransportError extends Error {
  override readonly name = "WeChatTransportError";

  constructor(
    readonly context: CallContext,
    /** A short description of what went wrong, already free of URLs and tokens. */
    readonly reason: string,
    readonly attempts: number,
  ) {
    super(
      redact(
        `${subject(context)} failed after ${attempts} attempt${attempts === 1 ? "" : "s"}: ${reason}. ` +
          "Fix: check that this machine can reach wechat:apiBaseUrl; the call is safe to retry with `pulumi up`.",
      ),
    );
  }
}

/** The provider's configuration (stack config `wechat:*` or `WECHAT_*` variables) is missing or contradictory. */
export class WeChatConfigError extends Error {
  override readonly name = "WeChatConfigError";
  constructor(message: string) {
    super(redact(message));
  }
}

/**
 * Values that must never be printed: every configured secret and every token issued during this process. The
 * credentials module registers them as it learns them; `redact` replaces them wherever they appear.
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
