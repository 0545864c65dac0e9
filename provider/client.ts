/**
 * The one HTTP client: every request to WeChat goes through `WeChatClient.call`.
 *
 * WeChat answers errors as HTTP 200 with a non-zero `errcode`, so success is decided here, from the body, and only
 * after the endpoint's schema accepted it (api.ts). Retries are ours rather than got's, so that network failures,
 * HTTP 5xx and WeChat's "system busy" codes share one bounded backoff policy: at most `maxAttempts` attempts, each
 * waiting at most 30 s, so a request gives up within minutes and says how long it tried. A backoff does not hold one
 * of the `maxConcurrency` slots: other requests go on while it waits. Every call the provider makes is idempotent (a
 * set writes a value, a get reads one), which is what makes retrying after a timeout safe.
 */
import * as http from "node:http";
import * as https from "node:https";
import got, { RequestError } from "got";
import { Endpoint, Envelope, firstProblem } from "./api";
import { CallContext, WeChatAnswerError, WeChatApiError, WeChatError, WeChatTransportError, adviceFor } from "./errors";

/** How the client behaves; the values come from `wechat:` config (see config.ts for the defaults). */
export interface ClientOptions {
  readonly apiBaseUrl: string;
  readonly maxConcurrency: number;
  readonly maxAttempts: number;
  readonly retryBaseDelayMs: number;
  readonly requestTimeoutMs: number;
  /** How the bytes travel; got over keep-alive agents unless a tool (a benchmark) supplies its own. */
  readonly transport?: Transport;
}

/** One HTTP exchange: POST `body` (JSON) to `url`, answer the status and the body text. */
export type Transport = (request: { url: string; body: string; timeoutMs: number }) => Promise<{ statusCode: number; body: string }>;

/** How a transport reports that no answer came: `timedOut`, or a network error `code` such as ECONNRESET. */
export class TransportFailure extends Error {
  constructor(
    readonly code: string | undefined,
    readonly timedOut = false,
  ) {
    super(timedOut ? "timed out" : `network error ${code ?? "(unknown)"}`);
  }
}

/** One call: the account it acts for (for messages and tokens), the token for the query, the body. */
export interface CallRequest<Body> {
  readonly appId?: string;
  readonly token?: string;
  readonly body: Body;
}

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

/**
 * The wait before retry number `attempt`: exponential from `baseMs` (times 4 for the minute quota), capped at 30 s,
 * and drawn between half and all of that so that a fleet's retries do not arrive together.
 */
export function backoffMs(attempt: number, baseMs: number, quota: boolean, random = Math.random): number {
  const ceiling = Math.min(MAX_BACKOFF_MS, baseMs * (quota ? QUOTA_BACKOFF_FACTOR : 1) * 2 ** (attempt - 1));
  return ceiling / 2 + random() * (ceiling / 2);
}

/** A first-in, first-out limit on tasks in flight. */
export class ConcurrencyLimit {
  private active = 0;
  private readonly waiting: Array<() => void> = [];

  constructor(readonly size: number) {}

  async run<T>(task: () => Promise<T>): Promise<T> {
    if (this.active >= this.size) await new Promise<void>((resolve) => this.waiting.push(resolve));
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
type Failure =
  | { readonly type: "transport"; readonly reason: string; readonly retryable: boolean }
  | { readonly type: "api"; readonly errcode: number; readonly errmsg: string }
  | { readonly type: "answer"; readonly problem: string };

type Outcome<Answer> = { readonly answer: Answer } | { readonly failure: Failure };

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** got over keep-alive agents: on a fleet, a fresh TLS handshake per call would cost more than the call itself. */
function gotTransport(maxSockets: number): Transport {
  const agentOptions = { keepAlive: true, maxSockets };
  const client = got.extend({
    method: "POST",
    responseType: "text",
    throwHttpErrors: false,
    retry: 0,
    followRedirect: false,
    agent: { http: new http.Agent(agentOptions), https: new https.Agent(agentOptions) },
    headers: { "user-agent": "pulumi-wechat", "content-type": "application/json" },
  });
  return async ({ url, body, timeoutMs }) => {
    try {
      const response = await client(url, { body, timeout: { request: timeoutMs } });
      return { statusCode: response.statusCode, body: response.body };
    } catch (error) {
      // got's own message and options carry the full URL, token included: keep its code only.
      if (error instanceof got.TimeoutError) throw new TransportFailure(error.code, true);
      throw new TransportFailure(error instanceof RequestError ? error.code : undefined);
    }
  };
}

export class WeChatClient {
  private readonly transport: Transport;
  private readonly limit: ConcurrencyLimit;

  constructor(private readonly options: ClientOptions) {
    this.limit = new ConcurrencyLimit(options.maxConcurrency);
    this.transport = options.transport ?? gotTransport(options.maxConcurrency);
  }

  /** Calls an endpoint, retrying what can be retried; resolves with its checked answer or throws a redacted error. */
  async call<Body, Answer>(endpoint: Endpoint<Body, Answer>, request: CallRequest<Body>): Promise<Answer> {
    const context: CallContext = { api: endpoint.name, appId: request.appId };
    const url = this.url(endpoint, request.token);
    const body = JSON.stringify(endpoint.body.parse(request.body));
    const started = Date.now();
    for (let attempt = 1; ; attempt++) {
      const outcome = await this.limit.run(() => this.attempt(endpoint, url, body));
      if ("answer" in outcome) return outcome.answer;
      const { failure } = outcome;
      if (!isRetryable(failure) || attempt >= this.options.maxAttempts) throw errorOf(context, failure, attempt, Date.now() - started);
      await sleep(backoffMs(attempt, this.options.retryBaseDelayMs, failure.type === "api" && failure.errcode === 45011));
    }
  }

  private url(endpoint: Endpoint<unknown, unknown>, token: string | undefined): string {
    const url = new URL(this.options.apiBaseUrl + endpoint.path);
    if (endpoint.token !== "none") {
      if (!token) throw new Error(`internal: ${endpoint.name} needs a token`);
      url.searchParams.set(endpoint.token === "component" ? "component_access_token" : "access_token", token);
    }
    return url.toString();
  }

  private async attempt<Answer>(endpoint: Endpoint<unknown, Answer>, url: string, body: string): Promise<Outcome<Answer>> {
    let response: { statusCode: number; body: string };
    try {
      response = await this.transport({ url, body, timeoutMs: this.options.requestTimeoutMs });
    } catch (error) {
      const failure = error instanceof TransportFailure ? error : new TransportFailure(undefined);
      const reason = failure.timedOut ? `no answer within ${this.options.requestTimeoutMs} ms (wechat:requestTimeoutMs)` : failure.message;
      return {
        failure: {
          type: "transport",
          reason,
          retryable: failure.timedOut || failure.code === undefined || RETRYABLE_NETWORK_CODES.has(failure.code),
        },
      };
    }
    if (response.statusCode !== 200) {
      const retryable = response.statusCode >= 500 || response.statusCode === 429;
      return { failure: { type: "transport", reason: `HTTP status ${response.statusCode}`, retryable } };
    }
    return parseAnswer(endpoint, response.body);
  }
}

/** The answer's JSON, its envelope (errcode), then the endpoint's own shape. */
function parseAnswer<Answer>(endpoint: Endpoint<unknown, Answer>, text: string): Outcome<Answer> {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    return { failure: { type: "transport", reason: "the answer was not JSON", retryable: true } };
  }
  const envelope = Envelope.safeParse(json);
  if (!envelope.success) return { failure: { type: "answer", problem: firstProblem(envelope.error) } };
  const { errcode, errmsg } = envelope.data;
  if (errcode) return { failure: { type: "api", errcode, errmsg: errmsg ?? "" } };
  const answer = endpoint.answer.safeParse(json);
  return answer.success ? { answer: answer.data } : { failure: { type: "answer", problem: firstProblem(answer.error) } };
}

function isRetryable(failure: Failure): boolean {
  if (failure.type === "transport") return failure.retryable;
  return failure.type === "api" && adviceFor(failure.errcode).kind === "transient";
}

function errorOf(context: CallContext, failure: Failure, attempts: number, elapsedMs: number): WeChatError {
  switch (failure.type) {
    case "transport":
      return new WeChatTransportError(context, failure.reason, attempts, elapsedMs);
    case "api":
      return new WeChatApiError(context, failure.errcode, failure.errmsg, attempts, elapsedMs);
    case "answer":
      return new WeChatAnswerError(context, failure.problem);
  }
}

/**
 * Whether a failed write may nevertheless have been applied: its answer was lost (timeout, dropped connection,
 * gateway error) or unreadable. A WeChat errcode is a refusal: nothing was applied.
 */
export function mayHaveApplied(error: unknown): boolean {
  return error instanceof WeChatTransportError || error instanceof WeChatAnswerError;
}
