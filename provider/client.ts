/**
 * The one HTTP client: every request to WeChat goes through `WeChatClient.post`.
 *
 * WeChat answers errors as HTTP 200 with a non-zero `errcode`, so success is decided here, from the body. Retries
 * are ours rather than got's, so that network failures, HTTP 5xx and WeChat's "system busy" codes share one bounded
 * backoff policy. Every call the provider makes is idempotent (a set writes a value, a get reads one), which is what
 * makes retrying after a timeout safe.
 */
import * as http from "node:http";
import * as https from "node:https";
import got, { Got, RequestError } from "got";
import { CallContext, WeChatApiError, WeChatTransportError, adviceFor } from "./errors";

/** How the client behaves; the values come from `wechat:` config (see config.ts for the defaults). */
export interface ClientOptions {
  readonly apiBaseUrl: string;
  readonly maxConcurrency: number;
  readonly maxAttempts: number;
  readonly retryBaseDelayMs: number;
  readonly requestTimeoutMs: number;
}

/** Counters a benchmark or a test can read: what this process sent. */
export interface ClientStats {
  requests: number;
  retries: number;
}

/** A request: which API (for messages), where, with which query parameters, what body. */
export interface WeChatRequest extends CallContext {
  readonly path: string;
  readonly query?: Readonly<Record<string, string>>;
  readonly body: Readonly<Record<string, unknown>>;
}

/** A successful WeChat answer: a JSON object whose errcode is 0 or absent. */
export type WeChatAnswer = Record<string, unknown> & { errcode?: number; errmsg?: string };

/** Network-level failures worth another attempt (the request may never have arrived, or its answer was lost). */
const RETRYABLE_NETWORK_CODES = new Set([
  "ECONNRESET",
  "ECONNREFUSED",
  "EPIPE",
  "ETIMEDOUT",
  "ESOCKETTIMEDOUT",
  "EAI_AGAIN",
  "ENETUNREACH",
  "EHOSTUNREACH",
  "ECONNABORTED",
]);

/** The minute quota (45011) is per minute: backing off as for "system busy" would just hit it again. */
const QUOTA_BACKOFF_FACTOR = 4;
const MAX_BACKOFF_MS = 30000;

/** A first-in, first-out limit on requests in flight, so Pulumi's parallel steps do not stampede the API. */
export class ConcurrencyLimit {
  private active = 0;
  private readonly waiting: Array<() => void> = [];

  constructor(private readonly limit: number) {}

  async run<T>(task: () => Promise<T>): Promise<T> {
    if (this.active >= this.limit) await new Promise<void>((resolve) => this.waiting.push(resolve));
    else this.active++;
    try {
      return await task();
    } finally {
      const next = this.waiting.shift();
      if (next) next();
      else this.active--;
    }
  }
}

/** Why one attempt failed, and whether another attempt may help. */
interface AttemptFailure {
  readonly retryable: boolean;
  readonly delayFactor: number;
  readonly error: WeChatApiError | WeChatTransportError;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export class WeChatClient {
  readonly stats: ClientStats = { requests: 0, retries: 0 };
  private readonly http: Got;
  private readonly limit: ConcurrencyLimit;

  constructor(private readonly options: ClientOptions) {
    this.limit = new ConcurrencyLimit(options.maxConcurrency);
    // Keep-alive matters on a fleet: a fresh TLS handshake per call would cost more than the call itself.
    const agentOptions = { keepAlive: true, maxSockets: options.maxConcurrency };
    this.http = got.extend({
      prefixUrl: options.apiBaseUrl,
      method: "POST",
      responseType: "text",
      throwHttpErrors: false,
      retry: 0,
      followRedirect: false,
      timeout: { request: options.requestTimeoutMs },
      agent: { http: new http.Agent(agentOptions), https: new https.Agent(agentOptions) },
      headers: { "user-agent": "pulumi-wechat" },
    });
  }

  /** Sends one request, retrying what can be retried; resolves with the answer or throws a redacted error. */
  async post(request: WeChatRequest): Promise<WeChatAnswer> {
    return this.limit.run(async () => {
      for (let attempt = 1; ; attempt++) {
        const outcome = await this.attempt(request, attempt);
        if (!("retryable" in outcome)) return outcome.answer;
        if (!outcome.retryable || attempt >= this.options.maxAttempts) throw outcome.error;
        this.stats.retries++;
        await sleep(this.backoff(attempt, outcome.delayFactor));
      }
    });
  }

  /** Exponential backoff with full jitter: base × 2^(attempt-1), scaled by the failure's factor, capped. */
  private backoff(attempt: number, factor: number): number {
    const ceiling = Math.min(MAX_BACKOFF_MS, this.options.retryBaseDelayMs * factor * 2 ** (attempt - 1));
    return ceiling / 2 + Math.random() * (ceiling / 2);
  }

  private async attempt(request: WeChatRequest, attempt: number): Promise<{ answer: WeChatAnswer } | AttemptFailure> {
    const transport = (reason: string, retryable: boolean): AttemptFailure => ({
      retryable,
      delayFactor: 1,
      error: new WeChatTransportError(request, reason, attempt),
    });
    this.stats.requests++;
    let status: number;
    let text: string;
    try {
      const response = await this.http(request.path.replace(/^\//, ""), {
        searchParams: request.query,
        json: request.body as Record<string, unknown>,
      });
      status = response.statusCode;
      text = response.body;
    } catch (error) {
      // got's own message and options carry the full URL, token included: describe the failure from its code only.
      const code = error instanceof RequestError ? error.code : undefined;
      if (error instanceof got.TimeoutError) {
        return transport(`no answer within ${this.options.requestTimeoutMs} ms (wechat:requestTimeoutMs)`, true);
      }
      return transport(`network error ${code ?? "(unknown)"}`, code === undefined || RETRYABLE_NETWORK_CODES.has(code));
    }
    if (status !== 200) {
      return transport(`HTTP status ${status}`, status >= 500 || status === 429);
    }
    let answer: WeChatAnswer;
    try {
      answer = JSON.parse(text) as WeChatAnswer;
      if (typeof answer !== "object" || answer === null || Array.isArray(answer)) throw new Error("not an object");
    } catch {
      return transport("the answer was not a JSON object", true);
    }
    const errcode = typeof answer.errcode === "number" ? answer.errcode : Number(answer.errcode ?? 0);
    if (!errcode) return { answer };
    const kind = adviceFor(errcode).kind;
    return {
      retryable: kind === "transient",
      delayFactor: errcode === 45011 ? QUOTA_BACKOFF_FACTOR : 1,
      error: new WeChatApiError(request, errcode, String(answer.errmsg ?? ""), attempt),
    };
  }
}
