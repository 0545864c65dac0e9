/**
 * Fault injection (the layers are described in server.ts). The errcodes and their errmsgs are in wechat.ts (ERRMSG).
 *
 * A fault's request is not applied, unless the rule says afterApply: then WeChat applies it first and only the answer
 * fails (a set that landed, whose answer was lost). A delay alone never holds back the change, only the answer.
 */
import { createHash } from "node:crypto";
import { STATUS_CODES } from "node:http";
import { Answer, Reply, WeChatApi, jsonAnswer, wechatError } from "./wechat";

export interface FaultRule {
  /** A string matches the URL path exactly, a RegExp is tested against it. Default: every API path. */
  path?: string | RegExp;
  /** Only requests concerning this account (RequestRecord.appId). */
  appId?: string;
  // What it answers: at most one of errcode, httpStatus, body and drop; with none, errcode -1, or with delayMs
  // alone the normal answer, late.
  /** HTTP 200 with this errcode, and errmsg. */
  errcode?: number;
  /** Sent verbatim; default ERRMSG's message with a request id. */
  errmsg?: string;
  /** This HTTP status with an HTML body, as a gateway in front of WeChat would answer. */
  httpStatus?: number;
  /** HTTP 200 with exactly this body, to feed a client malformed answers: a string as it is, anything else as JSON. */
  body?: unknown;
  /** Close the connection without an answer. */
  drop?: boolean;
  /** Answer (or drop) this many ms late. */
  delayMs?: number;
  afterApply?: boolean;
  /** How many matching requests it hits; default every one. */
  times?: number;
}

export interface FaultHandle {
  remove(): void;
}

/** The transient faults: every one is worth a retry. */
const RANDOM_FAULT_KINDS = ["errcode:-1", "errcode:-1000", "errcode:45011", "http:500", "http:502", "http:503", "drop"];

export interface RandomFaultOptions {
  /** Probability 0..1 that a request fails; 0 turns random faults off. */
  rate: number;
  /** Seed of the draws: the same seed and the same requests fail the same way. Default 1. */
  seed?: number;
  /** Share 0..1 of random faults that hit after the request was applied. Default 0. */
  afterApplyShare?: number;
}

export interface Fault {
  /** In the request log and faultCounts(): "errcode:45011", "http:502", "body", "drop", "delay". */
  label: string;
  /** undefined: WeChat's own answer (a delay alone). */
  answer?: Answer;
  delayMs: number;
  afterApply: boolean;
}

function faultAnswer(rule: FaultRule): Pick<Fault, "label" | "answer"> {
  if (rule.drop) return { label: "drop", answer: "drop" };
  if (rule.httpStatus !== undefined) return { label: `http:${rule.httpStatus}`, answer: gatewayError(rule.httpStatus) };
  if (rule.body !== undefined) return { label: "body", answer: bodyAnswer(rule.body) };
  if (rule.errcode === undefined && rule.delayMs !== undefined) return { label: "delay" };
  const errcode = rule.errcode ?? -1;
  return { label: `errcode:${errcode}`, answer: wechatError(errcode, rule.errmsg) };
}

function bodyAnswer(body: unknown): Reply {
  const errcode = (body as { errcode?: unknown } | null)?.errcode;
  const answer = jsonAnswer(body, typeof errcode === "number" ? errcode : undefined);
  // A string is the raw text of the answer, still under WeChat's JSON content type.
  return typeof body === "string" ? { ...answer, text: body } : answer;
}

function gatewayError(status: number): Reply {
  const title = `${status} ${STATUS_CODES[status] ?? "Error"}`;
  const text = `<html>\r\n<head><title>${title}</title></head>\r\n<body>\r\n<center><h1>${title}</h1></center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n`;
  return { status, contentType: "text/html", text };
}

export class FaultyWeChatApi extends WeChatApi {
  private rules: (FaultRule & { remaining: number })[] = [];
  private random?: RandomFaultOptions & { draw: () => number };
  private tally: Record<string, number> = {};

  injectFault(rule: FaultRule): FaultHandle {
    const ways = [rule.errcode !== undefined, rule.httpStatus !== undefined, rule.body !== undefined, rule.drop === true];
    if (ways.filter(Boolean).length > 1) throw new Error("a fault rule answers one way: errcode, httpStatus, body or drop");
    const active = { ...rule, remaining: rule.times ?? Infinity };
    this.rules.push(active);
    return { remove: () => (this.rules = this.rules.filter((r) => r !== active)) };
  }

  /** Removes every fault rule and turns random faults off; faultCounts() stay until reset(). */
  clearFaults(): void {
    this.rules = [];
    this.random = undefined;
  }

  setRandomFaults(options: RandomFaultOptions): void {
    this.random = options.rate === 0 ? undefined : { ...options, draw: seededRandom(options.seed ?? 1) };
  }

  /** Faults injected so far, by label ("errcode:-1", "http:502", "drop"...), and "total". */
  faultCounts(): Record<string, number> {
    return { ...this.tally };
  }

  protected resetFaults(): void {
    this.clearFaults();
    this.tally = {};
  }

  /** The fault that hits this request, if any: the first matching rule's, else maybe a random one. */
  protected pickFault(path: string, appId: string | undefined): Fault | undefined {
    const fault = this.fromRules(path, appId) ?? this.fromRandom();
    if (fault) {
      this.tally[fault.label] = (this.tally[fault.label] ?? 0) + 1;
      this.tally.total = (this.tally.total ?? 0) + 1;
    }
    return fault;
  }

  private fromRules(path: string, appId: string | undefined): Fault | undefined {
    for (const rule of this.rules) {
      if (rule.path !== undefined && (typeof rule.path === "string" ? rule.path !== path : !rule.path.test(path))) continue;
      if (rule.appId !== undefined && rule.appId !== appId) continue;
      if (--rule.remaining <= 0) this.rules = this.rules.filter((r) => r !== rule);
      return { ...faultAnswer(rule), delayMs: rule.delayMs ?? 0, afterApply: rule.afterApply === true };
    }
    return undefined;
  }

  private fromRandom(): Fault | undefined {
    const random = this.random;
    if (!random || !(random.draw() < random.rate)) return undefined;
    const kind = RANDOM_FAULT_KINDS[Math.floor(random.draw() * RANDOM_FAULT_KINDS.length)];
    const afterApply = random.draw() < (random.afterApplyShare ?? 0);
    const [what, n] = kind.split(":");
    const rule: FaultRule = what === "drop" ? { drop: true } : what === "http" ? { httpStatus: Number(n) } : { errcode: Number(n) };
    return { ...faultAnswer(rule), delayMs: 0, afterApply };
  }
}

/** Floats in [0, 1) drawn from the seed, because Math.random cannot be seeded and a faulted run must be reproducible. */
function seededRandom(seed: number): () => number {
  let draws = 0;
  return () => createHash("sha256").update(`${seed}:${draws++}`).digest().readUInt32BE(0) / 0x100000000;
}
