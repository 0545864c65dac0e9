/**
 * One Pulumi stack of one program, run command after command against the emulator the way Terraform's acceptance
 * tests run a configuration step by step. run() checks after EVERY step that the run succeeded (or failed when told
 * to), that no credential leaked to its output, event log or state, that every wechat resource's `__provider` requires
 * its provider module by package name, and that a preview left what the state records as it was.
 */
import { strict as assert } from "node:assert";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import type { Context } from "mocha";
import { CallCounts, RequestRecord, WeChatEmulator } from "../emulator/server";
import { Command, RunEngineOptions, RunEngineResult, StackState, Summary, readState, runEngine, stateFileOf } from "../harness";
import { eventLogOf } from "../pulumi/run";
import { DEMO_CREDENTIALS, StackSettings } from "./emulator";
import { Recorded, assertProvider, nameOf, recorded, wechatResources } from "./state";

/** `__provider` in this repository's npm-link layout (~2.4 KB); the installed 512-byte target is package.test's. */
const MAX_PROVIDER_BYTES = 2600;

export const SET_OPTION = "/cgi-bin/component/set_authorizer_option";
export const SET_CALLBACK_CONFIG = "/tcb/setcallbackconfig";

export interface StepResult {
  result: RunEngineResult;
  summary: Summary;
  /** What the emulator received during the step (API calls only), and how many of each kind. */
  requests: RequestRecord[];
  counts: CallCounts;
  /** The state after the step (secrets still encrypted), undefined when there is none. */
  state: StackState | undefined;
  recordedBefore: Recorded;
}

/** What one run changes: config over the stack's, engine flags, and whether the run must fail. */
export type RunOptions = Pick<RunEngineOptions, "config" | "transpileOnly" | "runProgram" | "continueOnError"> & { fails?: boolean };

export class LifecycleStack {
  readonly backendDir = fs.mkdtempSync(path.join(os.tmpdir(), "pulumi-wechat-lifecycle-"));
  readonly stateFile: string;
  readonly emulator: WeChatEmulator;
  /** The stack's own config and secrets: edit them between steps. */
  readonly config: Record<string, string>;
  readonly secrets: Record<string, string>;
  /** Every credential seen so far, with a label that names it without printing it. */
  private readonly credentials = new Map<string, string>();

  constructor(private readonly options: StackSettings & { emulator: WeChatEmulator; cwd: string; stack: string }) {
    this.stateFile = stateFileOf({ cwd: options.cwd, stack: options.stack, backendDir: this.backendDir });
    ({ emulator: this.emulator, config: this.config, secrets: this.secrets } = options);
  }

  async run(command: Command, options: RunOptions = {}): Promise<StepResult> {
    const { emulator, cwd, stack } = this.options;
    this.collectCredentials();
    emulator.clearRequests();
    const before = recorded(this.stateFile);
    const { fails, config, transpileOnly = true, ...flags } = options;
    const engine = { command, cwd, stack, backendDir: this.backendDir, secrets: this.secrets, transpileOnly, ...flags };
    const result = await runEngine({ ...engine, config: { ...this.config, ...config } });
    const requests = emulator.requests.map((request) => ({ ...request }));
    const counts = emulator.callCounts();
    this.collectCredentials();

    const transcript = `--- stdout\n${result.stdout}\n--- stderr\n${result.stderr}`;
    assert.ok(result.summary, `${command} printed no summary\n${transcript}`);
    if (fails) assert.ok(result.code !== 0 && result.summary.failed.length > 0, `${command} should have failed\n${transcript}`);
    else assert.deepEqual([result.code, result.summary.failed], [0, []], `${command} failed\n${transcript}`);
    const read = (file: string) => (fs.existsSync(file) ? fs.readFileSync(file, "utf8") : "");
    this.assertNoCredentials(`${command}: the state file`, read(this.stateFile));
    this.assertNoCredentials(`${command}: the event log`, read(eventLogOf(this.backendDir, stack)));
    this.assertNoCredentials(`${command}: stdout`, result.stdout);
    this.assertNoCredentials(`${command}: stderr`, result.stderr);
    if (command === "preview") assert.deepEqual(recorded(this.stateFile), before, "preview changed what the state records");
    const state = readState(this.stateFile);
    for (const resource of wechatResources(state)) assertProvider(resource, MAX_PROVIDER_BYTES);
    return { result, summary: result.summary, requests, counts, state, recordedBefore: before };
  }

  dispose(): void {
    fs.rmSync(this.backendDir, { recursive: true, force: true });
  }

  /** Credentials given to the run, known to the emulator, or in its request log (every token used). */
  private collectCredentials(): void {
    const add = (value: unknown, label: string) => {
      // Short values (empty strings, flags) cannot be told from ordinary text.
      if (typeof value === "string" && value.length >= 8 && !this.credentials.has(value)) this.credentials.set(value, label);
    };
    add(DEMO_CREDENTIALS.componentAppSecret, "the demo platform's component app secret");
    add(DEMO_CREDENTIALS.componentVerifyTicket, "the demo platform's verify ticket");
    for (const [key, value] of Object.entries(this.secrets)) add(value, `the secret config ${key}`);
    for (const account of this.emulator.accountList()) {
      add(account.appSecret, `the app secret of ${account.appId}`);
      add(account.refreshToken, `the refresh token of ${account.appId}`);
    }
    for (const request of this.emulator.requests) {
      add(request.token, `a token the emulator issued (${request.tokenKind ?? "unknown"} token, sent to ${request.path})`);
      const body = (request.body ?? {}) as Record<string, unknown>;
      for (const key of ["secret", "component_appsecret", "component_verify_ticket", "authorizer_refresh_token"])
        add(body[key], `the ${key} sent to ${request.path}`);
    }
  }

  private assertNoCredentials(where: string, text: string): void {
    for (const [value, label] of this.credentials) assert.ok(!text.includes(value), `${where} contains ${label}`);
  }
}

export const stepsOf = (step: StepResult) => step.summary.steps.map((s) => `${s.op} ${nameOf(s)}`).sort();

export const setsOf = (step: StepResult, requestPath: string) =>
  step.requests.filter((r) => r.path === requestPath).map((r) => [r.appId, r.body]);

/**
 * The `it`s of the calling describe are steps of one sequence: once a step fails, the later ones are skipped (they
 * would only report the same failure again, from a state the sequence never meant to reach).
 */
export function stepsInOrder(): void {
  let failed: string | undefined;
  beforeEach(function (this: Context) {
    if (failed) this.skip();
  });
  afterEach(function (this: Context) {
    if (this.currentTest?.state === "failed") failed ??= this.currentTest.title;
  });
}
