/**
 * Parity of the engine harness with the real Pulumi CLI, which is the judge. Every scenario runs step by step through
 * both engines, each with its own file backend and its own fresh WeChat emulator, and after every step the two must
 * agree on: the step counts, the exit code, which resources failed, the state of every resource (id, inputs, outputs,
 * which values are secret, flags), the default provider's config, the stack's outputs, and what the emulator received
 * (path, account and body of every request, as a multiset: tokens differ). Each `it` then states the rule it shows,
 * on both engines at once.
 *
 * The program is test/fixtures/parity: its resources and their options are a JSON spec in stack config. Skipped,
 * with a message, where the CLI is not built (`npm run pulumi:install`).
 */
import { strict as assert } from "node:assert";
import * as crypto from "node:crypto";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { DEMO_CREDENTIALS, RequestRecord, WeChatEmulator } from "./emulator/server";
import { RunEngineOptions, RunEngineResult, StackState, isSecret, readState, runEngine, stateFileOf } from "./harness";
import { installedCli } from "./pulumi/install";
import { platformCredentials } from "./support/emulator";
import { stepsInOrder } from "./support/stack";
import { ROOT } from "./support/state";

const FIXTURE = path.join(ROOT, "test", "fixtures", "parity");
const STACK = "parity";
const PROVIDER_TYPE = "pulumi:providers:pulumi-nodejs";
const ENGINES = ["harness", "pulumi"] as const;
type Engine = (typeof ENGINES)[number];
type Spec = Record<string, unknown>[];
type Resource = StackState["resources"][number];

const A = DEMO_CREDENTIALS.appId;
/** Accounts authorized to the demo platform, besides the demo account, in every emulator. */
const [B, C, D, E] = ["b", "c", "d", "e"].map((letter) => `wx00000000000000${letter}1`);

/** An AuthorizerOption of the spec: location_report unless `extra` says otherwise. */
const option = (name: string, appId: string, optionValue: number, extra: Record<string, unknown> = {}) => ({
  kind: "AuthorizerOption",
  name,
  authorizerAppId: appId,
  optionName: "location_report",
  optionValue,
  ...extra,
});
/** A CallbackConfig of the spec routing text and image messages to two functions of `env`. */
const callbacks = (name: string, appId: string, env: string, extra: Record<string, unknown> = {}) => ({
  kind: "CallbackConfig",
  name,
  authorizerAppId: appId,
  functionConfig: { callbacks: [0, 1].map((i) => ({ msgType: ["text", "image"][i], env, functionName: `fn${i}` })) },
  ...extra,
});

/** One engine's side: its emulator and its file backend. */
interface Side {
  engine: Engine;
  emulator: WeChatEmulator;
  baseUrl: string;
  backendDir: string;
  /** appId → authorizer refresh token, for the platform's credentials. */
  refreshTokens: Record<string, string>;
}

/** What one run of one engine did. */
interface Run {
  result: RunEngineResult;
  /** The state after the run, secrets decrypted. */
  state: StackState | undefined;
  requests: RequestRecord[];
}

/** One command's runs, by engine. */
type Step = Partial<Record<Engine, Run>>;

const wechatResources = (run: Run) => (run.state?.resources ?? []).filter((r) => r.custom && r.type !== PROVIDER_TYPE);
const named = (run: Run, name: string) => wechatResources(run).filter((r) => r.urn.endsWith(`::${name}`));
const names = (run: Run) =>
  wechatResources(run)
    .map((r) => r.urn.split("::").pop())
    .sort();
const providerOf = (run: Run) => run.state?.resources.find((r) => r.type === PROVIDER_TYPE);
/** The set calls of a run as "appId option=value" (AuthorizerOption), in the order they arrived. */
const sets = (run: Run) =>
  run.requests
    .filter((r) => r.path === "/cgi-bin/component/set_authorizer_option")
    .map((r) => `${r.appId} ${(r.body as Record<string, string>).option_name}=${(r.body as Record<string, string>).option_value}`);

/** What must be equal between the engines, with what differs by nature (URLs, ids of providers, request ids) masked. */
function comparable(side: Side, run: Run) {
  const mask = (v: unknown) =>
    JSON.parse(
      JSON.stringify(v ?? null)
        .split(side.baseUrl)
        .join("<emulator>")
        .replace(/rid: [0-9a-f]+/g, "rid: <rid>"),
    ) as unknown;
  // The serialized provider is the SDK's, the same on both sides: a digest of it keeps a difference readable.
  const digest = (m: Resource["inputs"]) =>
    typeof m.__provider === "string"
      ? { ...m, __provider: crypto.createHash("sha256").update(m.__provider).digest("hex").slice(0, 12) }
      : m;
  const compared = [
    "urn",
    "id",
    "delete",
    "protect",
    "pendingReplacement",
    "retainOnDelete",
    "ignoreChanges",
    "replaceOnChanges",
    "dependencies",
    "initErrors",
  ] as const;
  const resource = (r: Resource) =>
    JSON.stringify(
      mask({
        ...Object.fromEntries(compared.map((key) => [key, r[key]])),
        inputs: digest(r.inputs),
        outputs: digest(r.outputs),
        provider: r.provider?.replace(/::[^:]+$/, "::<id>"),
        // The SDK lists dependencies in the order they resolved.
        dependencies: r.dependencies && [...r.dependencies].sort(),
      }),
    );
  const summary = run.result.summary;
  return {
    exitCode: run.result.code,
    changes: summary?.changes,
    steps: summary?.steps.map((s) => `${s.op} ${s.urn}`).sort(),
    failed: [...new Set(summary?.failed.map((f) => f.urn))].sort(),
    messages: [...new Set(summary?.failed.filter((f) => f.urn).map((f) => mask(f.message)))].sort(),
    resources: wechatResources(run).map(resource).sort(),
    providerConfig: mask(providerOf(run)?.inputs),
    stackOutputs: run.state?.outputs,
    requests: run.requests.map((r) => JSON.stringify(mask([r.path, r.appId ?? "", r.body]))).sort(),
  };
}

/** The same scenario on both engines, step by step. */
class Twin {
  private constructor(private readonly sides: Side[]) {}

  static async start(engines: readonly Engine[] = ENGINES): Promise<Twin> {
    const sides = await Promise.all(
      engines.map(async (engine) => {
        const emulator = new WeChatEmulator();
        emulator.addDemo();
        const refreshTokens: Record<string, string> = { [A]: DEMO_CREDENTIALS.authorizerRefreshToken };
        for (const appId of [B, C, D, E]) {
          refreshTokens[appId] = `refreshtoken@@@${appId}`;
          emulator.addAccount({ appId, platform: DEMO_CREDENTIALS.componentAppId, refreshToken: refreshTokens[appId] });
        }
        const backendDir = fs.mkdtempSync(path.join(os.tmpdir(), `pulumi-wechat-parity-${engine}-`));
        return { engine, emulator, baseUrl: await emulator.start(), backendDir, refreshTokens };
      }),
    );
    return new Twin(sides);
  }

  /** Does the same to both emulators (drift, faults). */
  each(fn: (emulator: WeChatEmulator) => void): void {
    for (const side of this.sides) fn(side.emulator);
  }

  /** Runs one command on every engine at once (they share nothing) and asserts that they agree. */
  async run(command: RunEngineOptions["command"], spec: Spec, extra: Partial<RunEngineOptions> = {}): Promise<Step> {
    const runs = await Promise.all(this.sides.map((side) => this.runOn(side, command, spec, extra)));
    if (runs.length === 2) {
      const [harness, pulumi] = runs.map((run, i) => comparable(this.sides[i], run));
      const transcript = runs
        .map((run, i) => `--- ${ENGINES[i]}: exit ${run.result.code}\n${run.result.stdout}\n${run.result.stderr}`)
        .join("\n");
      assert.deepStrictEqual(harness, pulumi, `${command}: the harness and the CLI disagree\n${transcript}`);
    }
    return Object.fromEntries(this.sides.map((side, i) => [side.engine, runs[i]]));
  }

  private async runOn(side: Side, command: RunEngineOptions["command"], spec: Spec, extra: Partial<RunEngineOptions>): Promise<Run> {
    const authorized = Object.entries(side.refreshTokens).map(([appId, refreshToken]) => ({ appId, refreshToken }));
    const credentials = platformCredentials(side.baseUrl, authorized);
    side.emulator.clearRequests();
    const options = { cwd: FIXTURE, stack: STACK, backendDir: side.backendDir };
    const result = await runEngine({
      ...options,
      ...extra,
      command,
      // Another engine on this side's backend and emulator: the one engine reading what the other recorded.
      engine: extra.engine ?? side.engine,
      config: { ...credentials.config, "wechat-parity:spec": JSON.stringify(spec), ...extra.config },
      secrets: { ...credentials.secrets, ...extra.secrets },
    });
    const requests = side.emulator.requests.map((r) => ({ ...r }));
    return { result, state: readState(stateFileOf(options), { decrypt: true }), requests };
  }

  async dispose(): Promise<void> {
    for (const side of this.sides) {
      await side.emulator.stop();
      fs.rmSync(side.backendDir, { recursive: true, force: true });
    }
  }
}

/** A Twin for the calling describe (both engines, or the CLI alone), started before its first `it`. */
function useTwin(engines: readonly Engine[] = ENGINES): { twin: Twin } {
  const context = {} as { twin: Twin };
  before(async () => (context.twin = await Twin.start(engines)));
  after(async () => context.twin?.dispose());
  return context;
}

/** Asserts `check` on every engine's run of a step. */
function onEach(step: Step, check: (run: Run, engine: Engine) => void): void {
  for (const [engine, run] of Object.entries(step) as [Engine, Run][]) check(run, engine);
}

describe("parity of the engine harness with the Pulumi CLI", function () {
  this.timeout(600_000);
  before(function () {
    if (!installedCli()) {
      console.log("      (skipped: the Pulumi CLI is not built here; `npm run pulumi:install` builds it)");
      this.skip();
    }
  });

  describe("a resource's lifecycle", function () {
    stepsInOrder();
    const env = useTwin();
    const b = (extra: Record<string, unknown> = {}) => option("b", B, 1, { deleteBehavior: "reset", ...extra });
    let spec: Spec = [option("a", A, 1), b(), callbacks("c", C, "env-1")];

    it("up creates every resource the program declares", async function () {
      const step = await env.twin.run("up", spec);
      onEach(step, (run) => assert.deepEqual(run.result.summary?.changes, { create: 3, update: 0, replace: 0, delete: 0, same: 0 }));
    });

    it("a second up with nothing changed is all 'same' and calls no API", async function () {
      const step = await env.twin.run("up", spec);
      onEach(step, (run) => {
        assert.equal(run.result.summary?.changes.same, 3);
        assert.deepEqual(run.requests, []);
      });
    });

    it("a changed value is updated in place", async function () {
      spec = [option("a", A, 2), b(), callbacks("c", C, "env-1")];
      const step = await env.twin.run("up", spec);
      onEach(step, (run) => assert.deepEqual(sets(run), [`${A} location_report=2`]));
    });

    it("a changed identity replaces the resource: the new one is created before the old one is deleted", async function () {
      spec = [option("a", A, 2), option("b", D, 1, { deleteBehavior: "reset" }), callbacks("c", C, "env-1")];
      const step = await env.twin.run("up", spec);
      onEach(step, (run) => {
        assert.equal(run.result.summary?.changes.replace, 1);
        assert.deepEqual(sets(run), [`${D} location_report=1`, `${B} location_report=0`]);
      });
    });

    it("a resource the program no longer declares is deleted", async function () {
      spec = spec.slice(0, 2);
      const step = await env.twin.run("up", spec);
      onEach(step, (run) => {
        assert.equal(run.result.summary?.changes.delete, 1);
        assert.deepEqual(named(run, "c"), []);
      });
    });

    it("destroy deletes every resource, and the default provider with them", async function () {
      const step = await env.twin.run("destroy", spec);
      onEach(step, (run) => {
        assert.equal(run.result.summary?.changes.delete, 2);
        assert.deepEqual(run.state?.resources, []);
      });
    });
  });

  describe("secrets and the default provider", function () {
    const env = useTwin();
    let step: Step;
    before(async () => {
      step = await env.twin.run("up", [option("a", A, 1, { secret: ["optionValue"] })]);
    });

    it("a secret input stays secret in the state's inputs and outputs, and is encrypted on disk", function () {
      onEach(step, (run) => {
        const [a] = named(run, "a");
        assert.ok(isSecret(a.inputs.optionValue) && isSecret(a.outputs.optionValue), "optionValue is secret");
        assert.ok(isSecret(a.outputs.previousValue), "previousValue, read in place of a secret value, is secret too");
        assert.equal(isSecret(a.outputs.authorizerAppId), false, "what no secret went into is not");
      });
    });

    it("the state holds the stack config as the default provider's inputs, secrets encrypted, and each resource references it", function () {
      onEach(step, (run) => {
        const provider = providerOf(run)!;
        assert.equal(provider.urn, `urn:pulumi:${STACK}::wechat-parity::${PROVIDER_TYPE}::default`);
        assert.ok(isSecret(provider.inputs["wechat:componentAppSecret"]));
        assert.equal(named(run, "a")[0].provider, `${provider.urn}::${provider.id}`);
        assert.equal(fs.readFileSync(run.result.summary!.stateFile, "utf8").includes(DEMO_CREDENTIALS.componentAppSecret), false);
      });
    });
  });

  describe("a failed step", function () {
    /** a, then b after it (its account refuses), then e after b; c and d are removed (d would reset its account). */
    async function failedUp(continueOnError: boolean, engines: readonly Engine[] = ENGINES): Promise<Step> {
      const twin = await Twin.start(engines);
      try {
        await twin.run("up", [option("a", A, 1), option("b", B, 1), option("c", C, 1), option("d", D, 1, { deleteBehavior: "reset" })]);
        twin.each((emulator) => emulator.injectFault({ appId: B, errcode: 48001 }));
        const after = { dependsOn: ["a"] };
        const spec = [option("a", A, 2), option("b", B, 2, { options: after }), option("e", E, 2, { options: { dependsOn: ["b"] } })];
        return await twin.run("up", spec, { continueOnError });
      } finally {
        await twin.dispose();
      }
    }

    it("cancels the deployment: nothing after it is created, nothing removed is deleted, and the run fails", async function () {
      const step = await failedUp(false);
      onEach(step, (run) => {
        assert.equal(run.result.code, 1);
        assert.deepEqual(run.result.summary?.changes, { create: 0, update: 1, replace: 0, delete: 0, same: 0 });
        assert.equal(named(run, "b")[0].outputs.optionValue, "1", "the failed resource keeps its last state");
        assert.deepEqual(named(run, "e"), []);
        assert.equal(named(run, "d").length, 1, "the removed resource is still there");
      });
    });

    it("with continueOnError (the CLI alone) the rest goes on: removed resources are deleted, what depends on the failure is skipped", async function () {
      const step = await failedUp(true, ["pulumi"]);
      onEach(step, (run) => {
        assert.equal(run.result.code, 1);
        assert.deepEqual(run.result.summary?.changes, { create: 0, update: 1, replace: 0, delete: 2, same: 0 });
        assert.deepEqual(sets(run).slice(-1), [`${D} location_report=0`]);
        assert.deepEqual(named(run, "e"), []);
      });
    });

    it("the harness refuses continueOnError: the run fails before the program runs, and nothing is sent or recorded", async function () {
      const twin = await Twin.start(["harness"]);
      try {
        const { harness: run } = await twin.run("up", [option("a", A, 1)], { continueOnError: true });
        assert.equal(run!.result.code, 1);
        const message =
          "the engine harness does not implement --continue-on-error; run it with the Pulumi CLI (`npm run pulumi:install`, then `--engine pulumi`)";
        assert.deepEqual(
          run!.result.summary?.failed.map((f) => f.message),
          [message],
        );
        assert.deepEqual(run!.requests, [], "no request reached the emulator");
        assert.equal(run!.state, undefined, "no state was written");
      } finally {
        await twin.dispose();
      }
    });
  });

  describe("a check failure", function () {
    stepsInOrder();
    const env = useTwin();
    // b is invalid (location_report has no value 7); it comes after a, and z after it; r is removed.
    const spec = [
      option("a", A, 2),
      option("b", B, 7, { options: { dependsOn: ["a"] } }),
      option("z", C, 1, { options: { dependsOn: ["b"] } }),
    ];
    // The parity check compares the whole message with the CLI's; the provider's reason comes after this.
    const message = /^pulumi-nodejs:dynamic\/wechat:AuthorizerOption resource 'b': property optionValue value \{7\} has a problem: \S/;

    before(async () => {
      await env.twin.run("up", [option("a", A, 1), option("r", D, 1, { deleteBehavior: "reset" })]);
    });

    it("fails a preview at the invalid resource, with the CLI's message", async function () {
      const step = await env.twin.run("preview", spec);
      onEach(step, (run) => {
        assert.equal(run.result.code, 1);
        assert.deepEqual(run.result.summary?.changes, { create: 0, update: 1, replace: 0, delete: 0, same: 0 });
        assert.equal(run.result.summary?.failed.length, 1);
        assert.match(run.result.summary!.failed[0].message, message);
      });
    });

    it("stops an up at the invalid resource: nothing after it is created or deleted", async function () {
      const step = await env.twin.run("up", spec);
      onEach(step, (run) => {
        assert.equal(run.result.code, 1);
        assert.deepEqual(sets(run), [`${A} location_report=2`]);
        assert.deepEqual(names(run), ["a", "r"], "z was never created, r never deleted");
      });
    });
  });

  describe("resource options the harness leaves to the CLI", function () {
    const env = useTwin(["harness"]);
    const refused: Record<string, Record<string, unknown>> = {
      protect: { protect: true },
      retainOnDelete: { retainOnDelete: true },
      deleteBeforeReplace: { deleteBeforeReplace: true },
      ignoreChanges: { ignoreChanges: ["optionValue"] },
      replaceOnChanges: { replaceOnChanges: ["optionValue"] },
      additionalSecretOutputs: { additionalSecretOutputs: ["optionValue"] },
    };
    for (const [name, options] of Object.entries(refused)) {
      it(`refuses ${name}: the run fails at the resource, naming the option and the fix, and nothing is set or recorded`, async function () {
        const { harness: run } = await env.twin.run("up", [option("a", A, 1), option("b", B, 1, { options })]);
        assert.equal(run!.result.code, 1);
        const message =
          `the engine harness cannot run this resource: the harness does not implement the resource option ${name}; ` +
          "run it with the Pulumi CLI (`npm run pulumi:install`, then `--engine pulumi`)";
        assert.deepEqual(
          run!.result.summary?.failed.map((f) => [f.urn.split("::").pop(), f.message]),
          [["b", message]],
        );
        assert.deepEqual(
          sets(run!).filter((set) => set.startsWith(B)),
          [],
        );
        assert.ok(!names(run!).includes("b"), "the refused resource is not in the state");
      });
    }
  });

  describe("protect (the CLI alone: the harness refuses the option)", function () {
    stepsInOrder();
    const env = useTwin(["pulumi"]);
    const P = { options: { protect: true } };
    const after = { options: { dependsOn: ["a"] } };

    before(async () => {
      await env.twin.run("up", [
        option("a", A, 1, P),
        option("b", B, 1, P),
        option("c", C, 1),
        option("d", D, 1, { deleteBehavior: "reset" }),
      ]);
    });

    it("refuses to replace a protected resource: a preview shows the refused replacement, an up stops before it", async function () {
      const spec = [
        option("a", E, 1, P),
        option("b", B, 1, { ...P, ...after }),
        option("c", C, 1, after),
        option("d", D, 1, { deleteBehavior: "reset", ...after }),
      ];
      const preview = await env.twin.run("preview", spec);
      onEach(preview, (run) => {
        assert.equal(run.result.code, 1);
        assert.deepEqual(run.result.summary?.changes, { create: 0, update: 0, replace: 1, delete: 0, same: 3 });
        assert.match(
          run.result.summary!.failed[0].message,
          /^unable to replace resource ".*::a"\nas it is currently marked for protection/,
        );
      });
      const up = await env.twin.run("up", spec);
      onEach(up, (run) => {
        assert.equal(run.result.code, 1);
        assert.deepEqual(run.requests, []);
      });
    });

    it("refuses to delete a protected resource, in a preview and in an up, and deletes the others", async function () {
      const spec = [option("a", A, 1, P), option("c", C, 1)];
      const preview = await env.twin.run("preview", spec);
      onEach(preview, (run) => {
        assert.equal(run.result.code, 1);
        assert.equal(run.result.summary?.changes.delete, 1);
        assert.match(run.result.summary!.failed[0].message, /^Preview failed: resource ".*::b" cannot be deleted\nbecause it is protected/);
      });
      const up = await env.twin.run("up", spec);
      onEach(up, (run) => {
        assert.equal(run.result.code, 1);
        assert.deepEqual(sets(run), [`${D} location_report=0`]);
        assert.deepEqual(names(run), ["a", "b", "c"]);
      });
    });

    it("the harness honours a protect the CLI recorded: it refuses to delete those resources too", async function () {
      const { pulumi: run } = await env.twin.run("up", [option("c", C, 1)], { engine: "harness" });
      assert.equal(run!.result.summary?.engine, "harness");
      assert.equal(run!.result.code, 1);
      assert.deepEqual(run!.result.summary?.failed.map((f) => f.urn.split("::").pop()).sort(), ["a", "b"]);
      assert.deepEqual(names(run!), ["a", "b", "c"]);
      assert.deepEqual(run!.requests, []);
    });

    it("destroy deletes all but the protected resources, and fails", async function () {
      const step = await env.twin.run("destroy", []);
      onEach(step, (run) => {
        assert.equal(run.result.code, 1);
        assert.deepEqual(names(run), ["a", "b"]);
      });
    });
  });

  describe("ignoreChanges and replaceOnChanges (the CLI alone: the harness refuses the options)", function () {
    stepsInOrder();
    const env = useTwin(["pulumi"]);
    const options = (o: Record<string, unknown>) => ({ options: o });
    const spec = (value: number, envId: string, last: string) => {
      const c = callbacks("c", C, "env-1", options({ ignoreChanges: ["functionConfig.callbacks[0].env"] }));
      (c.functionConfig as { callbacks: Record<string, string>[] }).callbacks.forEach((cb, i) =>
        Object.assign(cb, i ? { functionName: last } : { env: envId }),
      );
      return [
        option("a", A, value, options({ replaceOnChanges: ["optionValue"] })),
        option("b", B, value, options({ ignoreChanges: ["optionValue"] })),
        c,
        option("d", D, value, options({ ignoreChanges: ["*"] })),
        option("e", E, value, options({ ignoreChanges: ['["optionValue"]'] })),
      ];
    };

    before(async () => {
      await env.twin.run("up", spec(1, "env-1", "fn1"));
    });

    let changed: Step;

    it("keep the old value at each path: a nested path, a top-level property, `*`, a quoted key", async function () {
      changed = await env.twin.run("up", spec(2, "env-2", "fn9"));
      onEach(changed, (run) => {
        const [c] = named(run, "c");
        const held = (c.outputs.functionConfig as { callbacks: Record<string, string>[] }).callbacks;
        assert.deepEqual([held[0].env, held[1].functionName], ["env-1", "fn9"]);
        for (const name of ["b", "d", "e"]) assert.equal(named(run, name)[0].outputs.optionValue, "1", `${name} kept its value`);
      });
    });

    it("replaceOnChanges leaves a dynamic resource's update an update: the provider host names no changed keys", function () {
      onEach(changed, (run) => {
        assert.deepEqual(run.result.summary?.steps.map((s) => `${s.op} ${s.urn.split("::").pop()}`).sort(), ["update a", "update c"]);
        assert.equal(named(run, "a")[0].outputs.optionValue, "2");
      });
    });
  });

  describe("refresh", function () {
    stepsInOrder();
    const env = useTwin();
    const spec = [
      option("a", A, 1),
      option("b", B, 1),
      callbacks("c", C, "env-1"),
      option("e", E, 1, { options: { dependsOn: ["a", "b", "c"] } }),
    ];
    let created: Step;
    let refreshed: Step;

    before(async () => {
      // e's set is refused once: it is created but not initialized (init errors, the account's value kept).
      env.twin.each((emulator) =>
        emulator.injectFault({ appId: E, path: "/cgi-bin/component/set_authorizer_option", errcode: 48001, times: 1 }),
      );
      created = await env.twin.run("up", spec);
      env.twin.each((emulator) => {
        emulator.setOption(A, "location_report", "2");
        const held = emulator.callbackConfig(C).function_config;
        emulator.setCallbackConfig(C, { function_config: { ...held, callbacks: [...held.callbacks].reverse() } });
      });
    });

    it("records what the accounts hold, and shows as drift what the provider's Diff calls a change", async function () {
      refreshed = await env.twin.run("refresh", spec);
      onEach(refreshed, (run) => {
        assert.deepEqual(run.result.summary?.steps.map((s) => `${s.op} ${s.urn.split("::").pop()}`).sort(), ["update a", "update e"]);
        assert.equal(named(run, "a")[0].outputs.optionValue, "2");
        const order = (named(run, "c")[0].outputs.functionConfig as { callbacks: { msgType: string }[] }).callbacks.map((cb) => cb.msgType);
        assert.deepEqual(order, ["image", "text"], "a change of order only is stored, and shown as unchanged");
      });
    });

    it("a clean Read clears the init errors of a resource", function () {
      onEach(created, (run) => assert.equal(named(run, "e")[0].initErrors?.length, 1));
      onEach(refreshed, (run) => assert.equal(named(run, "e")[0].initErrors, undefined));
    });

    it("the next up puts the declared values back", async function () {
      const step = await env.twin.run("up", spec);
      onEach(step, (run) => assert.deepEqual(sets(run).sort(), [`${A} location_report=1`, `${E} location_report=1`]));
    });
  });

  describe("the configuration refresh and destroy use", function () {
    stepsInOrder();
    const env = useTwin();
    const spec = [option("a", A, 1, { deleteBehavior: "reset" })];
    const wrong = { secrets: { "wechat:componentAppSecret": "not-the-platform-secret" } };

    before(async () => {
      await env.twin.run("up", spec);
    });

    it("refresh configures the provider from the config saved in state: a changed secret does not reach it", async function () {
      const step = await env.twin.run("refresh", spec, wrong);
      onEach(step, (run) => assert.equal(run.result.code, 0));
    });

    it("refresh --run-program uses the stack's current config, and saves it", async function () {
      const step = await env.twin.run("refresh", spec, { ...wrong, runProgram: true });
      onEach(step, (run) => {
        assert.equal(run.result.code, 1);
        assert.equal((providerOf(run)!.inputs["wechat:componentAppSecret"] as { value: string }).value, "not-the-platform-secret");
      });
    });

    it("destroy uses the saved config too: now the wrong one, whatever the stack says", async function () {
      const step = await env.twin.run("destroy", spec);
      onEach(step, (run) => {
        assert.equal(run.result.code, 1);
        assert.equal(named(run, "a").length, 1);
      });
    });

    it("destroy --run-program uses the stack's current config again", async function () {
      const step = await env.twin.run("destroy", spec, { runProgram: true });
      onEach(step, (run) => {
        assert.equal(run.result.code, 0);
        assert.deepEqual(sets(run), [`${A} location_report=0`]);
      });
    });
  });

  describe("delete-before-replace (the CLI alone: the harness refuses the option)", function () {
    stepsInOrder();
    const env = useTwin(["pulumi"]);
    const dbr = (appId: string, optionName = "location_report") => [
      option("a", appId, 1, { deleteBehavior: "reset", optionName, options: { deleteBeforeReplace: true } }),
    ];
    let pending: Run;

    before(async () => {
      await env.twin.run("up", dbr(A));
    });

    it("deletes the old resource first", async function () {
      const step = await env.twin.run("up", dbr(A, "voice_recognize"));
      onEach(step, (run) => assert.deepEqual(sets(run), [`${A} location_report=0`, `${A} voice_recognize=1`]));
    });

    it("keeps the deleted resource in the state, pending replacement, while the new one cannot be created", async function () {
      env.twin.each((emulator) => emulator.injectFault({ appId: C, errcode: 48001 }));
      const step = await env.twin.run("up", dbr(C));
      onEach(step, (run) => {
        assert.equal(run.result.code, 1);
        assert.deepEqual(sets(run), [`${A} voice_recognize=0`]);
        const [a] = named(run, "a");
        assert.equal(a.pendingReplacement, true);
        assert.equal(a.id, `${A}/voice_recognize`);
        pending = run;
      });
    });

    it("the harness refuses a state that holds a resource pending replacement, and changes nothing", async function () {
      const { pulumi: run } = await env.twin.run("up", dbr(C), { engine: "harness" });
      assert.equal(run!.result.summary?.engine, "harness");
      assert.equal(run!.result.code, 1);
      const message = `${named(pending, "a")[0].urn} is pending replacement (a delete-before-replace the Pulumi CLI began); `;
      assert.ok(run!.result.summary!.failed[0].message.startsWith(message), run!.result.summary!.failed[0].message);
      assert.deepEqual(run!.requests, []);
      assert.deepEqual(run!.state, pending.state);
    });

    it("the next up creates the replacement without deleting the old resource again", async function () {
      env.twin.each((emulator) => emulator.clearFaults());
      const step = await env.twin.run("up", dbr(C));
      onEach(step, (run) => {
        assert.deepEqual(sets(run), [`${C} location_report=1`]);
        assert.deepEqual(
          named(run, "a").map((r) => [r.id, r.pendingReplacement]),
          [[`${C}/location_report`, undefined]],
        );
      });
    });
  });
});
