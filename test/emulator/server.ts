/**
 * The WeChat API emulator: a real HTTP server on 127.0.0.1 that answers like api.weixin.qq.com for the endpoints this
 * project uses, for the tests, the demo and the benchmarks. In three layers, each file's class extending the one before:
 *   wechat.ts  WeChatApi, what WeChat does: accounts, platforms, tokens, options, callback config, what each endpoint
 *              answers, and ERRMSG, the table of every errcode the emulator answers
 *   faults.ts  FaultyWeChatApi, injected faults: rules, random faults, and faultAnswer(), what a fault sends instead
 *   server.ts  WeChatEmulator, this file: the server, the request log, and dispatch (log, pick a fault, answer, send)
 *
 * GET /__emulator/state answers every account's settings (the examples' READMEs curl it); it needs no token and is
 * never logged, faulted or delayed. Any other path under /__emulator/ answers 404, unlogged too.
 */
import * as http from "node:http";
import { once } from "node:events";
import type { AddressInfo } from "node:net";
import { text } from "node:stream/consumers";
import { FaultyWeChatApi } from "./faults";
import { Answer, CallKind, RequestRecord, jsonAnswer, wechatError } from "./wechat";

export type { FaultHandle } from "./faults";
export type { AuthorizerOptions, CallbackConfigData, FleetAccount, FunctionConfig, OptionName, RequestRecord } from "./wechat";
export { DEMO_CREDENTIALS, defaultCallbackConfig } from "./wechat";

export type RequestFilter = Partial<Pick<RequestRecord, "kind" | "errcode">> & { path?: string | RegExp; fault?: boolean };

/** Requests by kind, and "total": every request to an API path, unknown paths included. */
export type CallCounts = Record<CallKind | "total", number>;

export class WeChatEmulator extends FaultyWeChatApi {
  private readonly log: RequestRecord[] = [];
  private counts: CallCounts = { set: 0, get: 0, token: 0, total: 0 };
  private latencyMs = 0;
  private server?: http.Server;

  /** logRequests false: no request log (the benchmark's long runs); callCounts() counts either way. */
  constructor(private readonly config: { logRequests?: boolean } = {}) {
    super();
  }

  /** Listens on 127.0.0.1 (port 0: any free port); resolves to "http://127.0.0.1:PORT". */
  async start(port = 0): Promise<string> {
    if (this.server) throw new Error("emulator already started");
    // Longer than clients' idle keep-alive, so the server never closes a socket a client is reusing.
    const options = { keepAlive: true, keepAliveTimeout: 65_000, headersTimeout: 66_000 };
    const server = http.createServer(options, (req, res) => this.onRequest(req, res));
    this.server = server;
    server.listen({ host: "127.0.0.1", port, backlog: 4096 });
    await once(server, "listening");
    return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  }

  /** Closes the server and every connection, idle keep-alive ones too; an answer still delayed goes nowhere. */
  async stop(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    if (!server) return;
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    server.closeAllConnections();
    await closed;
  }

  /** The live log of API requests, in order of arrival. */
  get requests(): readonly RequestRecord[] {
    return this.log;
  }

  clearRequests(): void {
    this.log.length = 0;
    this.counts = { set: 0, get: 0, token: 0, total: 0 };
  }

  /** The requests that match every field given; `fault` true: only faulted ones, false: only the others. */
  filter(f: RequestFilter): RequestRecord[] {
    return this.log.filter(
      (r) =>
        (f.path === undefined || (typeof f.path === "string" ? r.path === f.path : f.path.test(r.path))) &&
        (f.kind === undefined || r.kind === f.kind) &&
        (f.errcode === undefined || r.errcode === f.errcode) &&
        (f.fault === undefined || (r.fault !== undefined) === f.fault),
    );
  }

  /** Requests since the last clearRequests() or reset(), by kind; faulted ones count too. */
  callCounts(): CallCounts {
    return { ...this.counts };
  }

  /** Added to every API answer. */
  setLatency(ms: number): void {
    this.latencyMs = ms;
  }

  /** Settings back to the defaults; log, faults and fault counts cleared; with `tokens`, every token forgotten.
   *  Accounts and platforms stay. */
  reset(options: { tokens?: boolean } = {}): void {
    this.resetSettings();
    this.clearRequests();
    this.resetFaults();
    if (options.tokens) this.revokeTokens();
  }

  private onRequest(req: http.IncomingMessage, res: http.ServerResponse): void {
    text(req)
      .then((raw) => this.dispatch(req.method ?? "GET", req.url ?? "/", raw, res))
      .catch((err: Error) => {
        // A bug in the emulator must not hang the client.
        if (!res.headersSent) res.writeHead(500, { "content-type": "text/plain" });
        res.end(`emulator error: ${err.message}`);
      });
  }

  private dispatch(method: string, url: string, raw: string, res: http.ServerResponse): void {
    if (url.startsWith("/__emulator/")) {
      const state = method === "GET" && url.split("?")[0] === "/__emulator/state";
      return send(res, state ? jsonAnswer(this.state()) : { ...wechatError(40066), status: 404 });
    }
    const entry = this.parse(url, raw);
    if (this.config.logRequests !== false) this.log.push(entry);
    this.counts.total++;
    if (entry.kind) this.counts[entry.kind]++;
    const fault = this.pickFault(entry.path, entry.appId);
    if (fault) entry.fault = fault.label;
    // WeChat handles the request unless a fault answers instead, before the request got there.
    const wechat = !fault?.answer || fault.afterApply ? this.answer(method, entry) : undefined;
    const answer = fault?.answer ?? wechat!;
    const delayMs = this.latencyMs + (fault?.delayMs ?? 0);
    // unref: an answer still held when a suite ends keeps no process alive; stop() has closed its connection.
    if (delayMs > 0) setTimeout(() => send(res, answer, entry), delayMs).unref();
    else send(res, answer, entry);
  }
}

function send(res: http.ServerResponse, answer: Answer, entry?: RequestRecord): void {
  if (res.destroyed || res.writableEnded) return;
  if (answer === "drop") {
    res.socket?.destroy();
    return;
  }
  if (entry) entry.errcode = answer.errcode;
  res.writeHead(answer.status, { "content-type": answer.contentType, "content-length": Buffer.byteLength(answer.text) });
  res.end(answer.text);
}
