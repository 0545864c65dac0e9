/**
 * What the lifecycle suite (test/lifecycle.test.ts) needs to drive a Pulumi program through preview, up, refresh and
 * destroy against the emulator, step by step, the way Terraform's acceptance tests drive a configuration: one stack
 * and state file per program, and after EVERY step the checks that hold for any step:
 *
 * - the run succeeded (exit 0, no failed step);
 * - no credential (app secrets, platform secret, verify ticket, refresh tokens, and every token the emulator issued)
 *   appears in stdout, stderr or the state file;
 * - every wechat resource in the state carries, in inputs and outputs, a `__provider` that is a require of the
 *   provider module by package name (`pulumi-wechat/provider/...`), with no path of this machine, at most
 *   MAX_PROVIDER_BYTES long;
 * - a preview leaves the state file exactly as it was.
 *
 * Step-specific assertions (what the emulator holds, what was sent) stay in the tests.
 */
import { strict as assert } from "node:assert";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import type { Context } from "mocha";
import { AuthorizerOptions, CallCounts, CallbackConfigData, DEMO_CREDENTIALS, RequestRecord, WeChatEmulator } from "../emulator/server";
import { Command, ResourceState, RunEngineResult, StackState, Summary, readState, runEngine, stateFileOf } from "../harness";

/** The repository root (this file runs from dist/test/support). */
export const ROOT = path.resolve(__dirname, "..", "..", "..");
export const EXAMPLES = path.join(ROOT, "examples");
/** The spec-driven fixture program (JavaScript, run from the source tree). */
export const SETTINGS_FIXTURE = path.join(ROOT, "test", "fixtures", "settings");

/**
 * The ceiling for `__provider` in this repository's npm-link layout, where the provider is a small object whose
 * methods require the implementation by package name (~2.4 KB). The installed layout's 512-byte target is proven by
 * the pack-and-install test.
 */
export const MAX_PROVIDER_BYTES = 2600;

export const AUTHORIZER_OPTION = "pulumi-nodejs:dynamic/wechat:AuthorizerOption";
export const CALLBACK_CONFIG = "pulumi-nodejs:dynamic/wechat:CallbackConfig";

/** The module each resource type's provider must require, by package name. */
export const PROVIDER_MODULES: Readonly<Record<string, string>> = {
  [AUTHORIZER_OPTION]: "pulumi-wechat/provider/authorizer-option",
  [CALLBACK_CONFIG]: "pulumi-wechat/provider/callback-config",
};

const PROVIDER_METHODS = ["configure", "check", "diff", "create", "read", "update", "delete"] as const;

// ---------------------------------------------------------------------------------------------------------------------
// Credentials for the programs
// ---------------------------------------------------------------------------------------------------------------------

/** Stack config and secrets of one run. */
export interface StackSettings {
  config: Record<string, string>;
  secrets: Record<string, string>;
}

/** The demo account's own credentials (stable_token), with retries fast enough for tests. */
export function accountCredentials(baseUrl: string): StackSettings {
  return {
    config: { "wechat:apiBaseUrl": baseUrl, "wechat:appId": DEMO_CREDENTIALS.appId, "wechat:retryBaseDelayMs": "1" },
    secrets: { "wechat:appSecret": DEMO_CREDENTIALS.appSecret },
  };
}

/** The demo platform acting for the given authorized accounts (appId → refresh token). */
export function platformCredentials(baseUrl: string, refreshTokens: Record<string, string>): StackSettings {
  return {
    config: { "wechat:apiBaseUrl": baseUrl, "wechat:componentAppId": DEMO_CREDENTIALS.componentAppId, "wechat:retryBaseDelayMs": "1" },
    secrets: {
      "wechat:componentAppSecret": DEMO_CREDENTIALS.componentAppSecret,
      "wechat:componentVerifyTicket": DEMO_CREDENTIALS.componentVerifyTicket,
      "wechat:authorizerRefreshTokens": JSON.stringify(refreshTokens),
    },
  };
}

// ---------------------------------------------------------------------------------------------------------------------
// The serialized provider
// ---------------------------------------------------------------------------------------------------------------------

/**
 * The modules a serialized provider (`__provider`) loads: the text is evaluated as the provider host does (a module
 * exporting `handler`), with a `require` that records names and answers stand-ins, and every method is called once.
 * A provider in the npm-link layout requires inside its methods; one in the installed layout at the top: both show.
 */
export function requiredModules(text: string): string[] {
  const required = new Set<string>();
  const standIn = new Proxy({} as Record<string, unknown>, { get: (_target, key) => (key === "then" ? undefined : () => undefined) });
  const recordingRequire = (name: string) => {
    required.add(name);
    return standIn;
  };
  const module = { exports: {} as Record<string, unknown> };
  // Sloppy mode on purpose: Pulumi's serializer emits `with` blocks.
  new Function("exports", "module", "require", text)(module.exports, module, recordingRequire);
  const handler = module.exports.handler;
  assert.equal(typeof handler, "function", "the serialized provider exports no handler()");
  const provider = (handler as () => Record<string, unknown>)();
  for (const method of PROVIDER_METHODS) {
    assert.equal(typeof provider[method], "function", `the serialized provider has no ${method}()`);
    (provider[method] as (...args: unknown[]) => unknown)({}, {}, {});
  }
  return [...required].sort();
}

/** Asserts that a resource's `__provider` (inputs and outputs) is a small require of its provider module by name. */
export function assertProvider(resource: ResourceState): void {
  const expected = PROVIDER_MODULES[resource.type];
  assert.ok(expected, `${resource.urn}: not a pulumi-wechat resource type (${resource.type})`);
  for (const side of ["inputs", "outputs"] as const) {
    const text = resource[side].__provider;
    assert.equal(typeof text, "string", `${resource.urn}: ${side}.__provider is missing or not plain text`);
    const bytes = Buffer.byteLength(text as string);
    assert.ok(bytes <= MAX_PROVIDER_BYTES, `${resource.urn}: ${side}.__provider is ${bytes} bytes (at most ${MAX_PROVIDER_BYTES})`);
    assert.ok(!(text as string).includes(ROOT), `${resource.urn}: ${side}.__provider names a path of this machine`);
    assert.deepEqual(
      requiredModules(text as string),
      [expected],
      `${resource.urn}: ${side}.__provider must require ${expected} and nothing else`,
    );
  }
}

// ---------------------------------------------------------------------------------------------------------------------
// State
// ---------------------------------------------------------------------------------------------------------------------

/**
 * The custom resources of a state by name: every one must be a pulumi-wechat dynamic resource, except the default
 * provider the engine records for them (`pulumi:providers:pulumi-nodejs`, whose inputs are the stack config).
 */
export function wechatResources(state: StackState | undefined): Map<string, ResourceState> {
  const byName = new Map<string, ResourceState>();
  for (const resource of state?.resources ?? []) {
    if (!resource.custom || resource.type.startsWith("pulumi:providers:")) continue;
    assert.ok(PROVIDER_MODULES[resource.type], `unexpected resource type in the state: ${resource.type} (${resource.urn})`);
    byName.set(resource.urn.split("::").slice(3).join("::"), resource);
  }
  return byName;
}

/** One resource of the state by name. */
export function resourceNamed(state: StackState | undefined, name: string): ResourceState {
  const resource = wechatResources(state).get(name);
  assert.ok(resource, `no resource "${name}" in the state (has: ${[...wechatResources(state).keys()].join(", ")})`);
  return resource;
}

/** A callback config as the account holds it, in the package's shape (what CallbackConfig outputs hold). */
export function sectionsOf(data: CallbackConfigData) {
  const { function_config: fc, container_config: cc } = data;
  return {
    functionConfig: {
      enable: fc.enable,
      callbacks: fc.callbacks.map(({ msgType, event, env, functionName, enable }) => ({ msgType, event, env, functionName, enable })),
    },
    containerConfig: { enable: cc.enable, qbaseEnv: cc.qbase_env, qbaseContainerPath: cc.qbase_container_path, textMode: cc.text_mode },
  };
}

/** The outputs of either resource, as far as comparing them with an account goes. */
type HeldOutputs = Record<string, unknown> & { authorizerAppId: string; optionName: keyof AuthorizerOptions; optionValue: string };

/** Asserts that every resource's outputs say what the emulator's accounts hold (after an up or a refresh). */
export function assertStateMatchesAccounts(state: StackState | undefined, emulator: WeChatEmulator): void {
  for (const [name, resource] of wechatResources(state)) {
    const outputs = resource.outputs as HeldOutputs;
    if (resource.type === AUTHORIZER_OPTION) {
      const held = emulator.options(outputs.authorizerAppId)[outputs.optionName];
      assert.equal(
        outputs.optionValue,
        held,
        `${name}: state says ${outputs.optionName}=${outputs.optionValue}, the account holds ${held}`,
      );
    } else {
      const held = sectionsOf(emulator.callbackConfig(outputs.authorizerAppId));
      for (const section of ["functionConfig", "containerConfig"] as const) {
        if (outputs[section] === undefined) continue;
        assert.deepEqual(outputs[section], held[section], `${name}: state's ${section} differs from what ${outputs.authorizerAppId} holds`);
      }
    }
  }
}

// ---------------------------------------------------------------------------------------------------------------------
// What the accounts should hold
// ---------------------------------------------------------------------------------------------------------------------

type HeldAccounts = ReturnType<WeChatEmulator["state"]>["accounts"];

/**
 * A model of every account in the emulator: it starts as what the emulator holds, a step states what it changes, and
 * check() asserts that the emulator holds exactly the model: the declared settings, and nothing touched elsewhere.
 */
export class ExpectedAccounts {
  private readonly accounts: HeldAccounts;

  constructor(private readonly emulator: WeChatEmulator) {
    this.accounts = emulator.state().accounts;
  }

  /** The account's options become these values (the others stay as they are). */
  options(appId: string, values: Partial<AuthorizerOptions>): this {
    Object.assign(this.account(appId).options, values);
    return this;
  }

  /** The account's callback config sections become these (a section left out stays as it is). */
  callbackConfig(appId: string, sections: Partial<CallbackConfigData>): this {
    Object.assign(this.account(appId).callbackConfig, structuredClone(sections));
    return this;
  }

  /** Asserts that the emulator holds exactly the model, on every account. */
  check(): void {
    assert.deepEqual(this.emulator.state().accounts, this.accounts, "the accounts do not hold what the steps so far declared");
  }

  private account(appId: string): HeldAccounts[string] {
    const account = this.accounts[appId];
    assert.ok(account, `no account ${appId} in the emulator`);
    return account;
  }
}

// ---------------------------------------------------------------------------------------------------------------------
// A stack, run step by step
// ---------------------------------------------------------------------------------------------------------------------

export interface StackOptions extends StackSettings {
  emulator: WeChatEmulator;
  /** The program directory (with Pulumi.yaml). */
  cwd: string;
  stack: string;
}

export interface RunOptions {
  /** Added to (and overriding) the stack's config for this run. */
  config?: Record<string, string>;
  /** Default true; false type-checks the program with ts-node as `pulumi` does by default. */
  transpileOnly?: boolean;
}

/** What one step did: the run, and what the emulator received during it. */
export interface StepResult {
  result: RunEngineResult;
  summary: Summary;
  /** The emulator's request log of this step (API calls only). */
  requests: RequestRecord[];
  counts: CallCounts;
  /** The state file after the step (secrets still encrypted), undefined when there is none. */
  state: StackState | undefined;
}

/** One Pulumi stack of one program: its own state file, run command after command against the emulator. */
export class LifecycleStack {
  /** The stack's file backend: a directory of its own. */
  readonly backendDir: string;
  readonly stateFile: string;
  /** Every credential seen so far, with a label that names it without printing it. */
  private readonly credentials = new Map<string, string>();

  constructor(private readonly options: StackOptions) {
    this.backendDir = fs.mkdtempSync(path.join(os.tmpdir(), "pulumi-wechat-lifecycle-"));
    this.stateFile = stateFileOf({ cwd: options.cwd, stack: options.stack, backendDir: this.backendDir });
  }

  /** The stack's base config; change it (e.g. the fixture's spec) between steps. */
  get config(): Record<string, string> {
    return this.options.config;
  }

  /** Runs one command and applies the checks that hold after every step. */
  async run(command: Command, options: RunOptions = {}): Promise<StepResult> {
    const { emulator } = this.options;
    this.collectCredentials();
    emulator.clearRequests();
    const before = this.recorded();
    const result = await runEngine({
      command,
      cwd: this.options.cwd,
      stack: this.options.stack,
      backendDir: this.backendDir,
      config: { ...this.options.config, ...options.config },
      secrets: this.options.secrets,
      transpileOnly: options.transpileOnly ?? true,
    });
    const requests = emulator.requests.map((request) => ({ ...request }));
    const counts = emulator.callCounts();
    this.collectCredentials();

    const transcript = `--- stdout\n${result.stdout}\n--- stderr\n${result.stderr}`;
    assert.equal(result.code, 0, `${command} exited with ${result.code}\n${transcript}`);
    assert.ok(result.summary, `${command} printed no summary\n${transcript}`);
    assert.deepEqual(result.summary.failed, [], `${command} reported failures\n${transcript}`);

    const text = fs.existsSync(this.stateFile) ? fs.readFileSync(this.stateFile, "utf8") : undefined;
    this.assertNoCredentials(`${command}: stdout`, result.stdout);
    this.assertNoCredentials(`${command}: stderr`, result.stderr);
    if (text !== undefined) this.assertNoCredentials(`${command}: the state file`, text);
    const state = readState(this.stateFile);
    // The first run creates the stack, so its file may appear; what it records must not change.
    if (command === "preview") assert.deepEqual(this.recorded(), before, "preview changed the state");
    for (const resource of wechatResources(state).values()) assertProvider(resource);
    return { result, summary: result.summary, requests, counts, state };
  }

  /** The state file now. */
  state(): StackState | undefined {
    return readState(this.stateFile);
  }

  /**
   * What the state records, by URN: each resource's id, inputs and outputs, secrets decrypted. Two states record the
   * same when these are equal: the engine re-encrypts secrets with fresh nonces on every write and may reorder
   * resources, so the stored entries of an unchanged stack differ from run to run.
   */
  recorded(): Record<string, Pick<ResourceState, "type" | "id" | "inputs" | "outputs">> {
    const resources = readState(this.stateFile, { decrypt: true })?.resources ?? [];
    return Object.fromEntries(resources.map(({ urn, type, id, inputs, outputs }) => [urn, { type, id, inputs, outputs }]));
  }

  dispose(): void {
    fs.rmSync(this.backendDir, { recursive: true, force: true });
  }

  /** Credentials known to the emulator, given to the run, or seen in the emulator's request log (every token used). */
  private collectCredentials(): void {
    const add = (value: unknown, label: string) => {
      // Short values (empty strings, flags) cannot be told from ordinary text.
      if (typeof value === "string" && value.length >= 8 && !this.credentials.has(value)) this.credentials.set(value, label);
    };
    add(DEMO_CREDENTIALS.appSecret, "the demo account's app secret");
    add(DEMO_CREDENTIALS.componentAppSecret, "the platform's component app secret");
    add(DEMO_CREDENTIALS.componentVerifyTicket, "the platform's verify ticket");
    for (const [key, value] of Object.entries(this.options.secrets)) add(value, `the secret config ${key}`);
    for (const account of this.options.emulator.accountList()) {
      add(account.appSecret, `the app secret of ${account.appId}`);
      add(account.refreshToken, `the refresh token of ${account.appId}`);
    }
    for (const request of this.options.emulator.requests) {
      add(request.token, `a token the emulator issued (${request.tokenKind ?? "unknown"} token, sent to ${request.path})`);
      const body = (request.body ?? {}) as Record<string, unknown>;
      add(body.secret, `a secret sent to ${request.path}`);
      add(body.component_appsecret, `a secret sent to ${request.path}`);
      add(body.component_verify_ticket, `a verify ticket sent to ${request.path}`);
      add(body.authorizer_refresh_token, `a refresh token sent to ${request.path}`);
    }
  }

  private assertNoCredentials(where: string, text: string): void {
    for (const [value, label] of this.credentials) {
      assert.ok(!text.includes(value), `${where} contains ${label}`);
    }
  }
}

// ---------------------------------------------------------------------------------------------------------------------
// Mocha
// ---------------------------------------------------------------------------------------------------------------------

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

/** The request bodies of the given path, in order. */
export function bodiesOf(requests: readonly RequestRecord[], requestPath: string): Record<string, unknown>[] {
  return requests.filter((request) => request.path === requestPath).map((request) => request.body as Record<string, unknown>);
}

export const SET_OPTION = "/cgi-bin/component/set_authorizer_option";
export const SET_CALLBACK_CONFIG = "/tcb/setcallbackconfig";
