/**
 * Lifecycle acceptance tests: Pulumi programs driven through preview, up, edits, refresh, drift, removal and destroy
 * by the real Pulumi CLI (the engine harness where the CLI is not installed) against the WeChat emulator.
 *
 * Each describe is one stack of one program, and its `it`s are the steps of an acceptance test in Terraform's style:
 * a step edits the declaration (or the accounts, out of band), runs one command, and checks what the emulator
 * received, what every account holds (ExpectedAccounts: the declared settings, and nothing touched elsewhere) and
 * what the state records. Steps run in order; a failed step skips the rest. The checks that hold after every step
 * (the run succeeded, or failed where the step says so; no credential in stdout, stderr, the event log or the state;
 * every `__provider` a small require of the provider by package name; a preview changes nothing the state records)
 * are LifecycleStack.run()'s.
 *
 * - The fixture program (test/fixtures/settings), whose resources are a JSON spec in stack config so that steps can
 *   edit values, identities and deleteBehavior: one step list per resource type.
 * - The three examples: one table, a row per example (its program, config, and what each step declares and the
 *   accounts must hold), run through the same steps.
 * - A stack whose credential changes after `up`: what refresh and destroy sign in with.
 */
import { strict as assert } from "node:assert";
import * as path from "node:path";
import { AuthorizerOptions, CallbackConfigData, WeChatEmulator } from "./emulator/server";
import { Command, ResourceState } from "./harness";
import { ExpectedAccounts, assertStateMatchesAccounts, rule, sectionsOf } from "./support/accounts";
import {
  Authorized,
  DEMO_AUTHORIZED,
  DEMO_CREDENTIALS,
  EmulatorContext,
  StackSettings,
  accountCredentials,
  platformCredentials,
  useEmulator,
} from "./support/emulator";
import { AccountEntry, fleetPush, writeAccountsFile } from "./support/fleet";
import { LifecycleStack, RunOptions, SET_CALLBACK_CONFIG, SET_OPTION, StepResult, setsOf, stepsInOrder, stepsOf } from "./support/stack";
import {
  AUTHORIZER_OPTION,
  CALLBACK_CONFIG,
  ROOT,
  nameOf,
  packageRecords,
  recorded,
  resourceNamed,
  savedConfig,
  wechatResources,
} from "./support/state";

/** A step is one CLI run of ~4-6 s; generous for a loaded 2-core machine. */
const STEP_TIMEOUT = 120_000;
const A = DEMO_CREDENTIALS.appId;
const none = { create: 0, update: 0, replace: 0, delete: 0, same: 0 };
/** The options every program here declares for the demo account: location reports and speech on, one inbox. */
const DEMO_OPTIONS = { location_report: "1", voice_recognize: "1", customer_service: "0" };

/** A set_authorizer_option call as [appId, body]. */
const optionSet = (appId: string, optionName: string, optionValue: string) => [
  appId,
  { option_name: optionName, option_value: optionValue },
];

/** The calls of one set endpoint a step must make, and no other set: the endpoint, and each call as [appId, body]. */
type Sets = [path: string, calls: unknown[][]];

/** What a step must show besides its counts. What is left out is not checked here (but nothing else may change). */
interface Outcome {
  /** The resources the engine reports changed, as "op name", sorted. */
  steps?: string[];
  sets?: Sets;
  /** What the accounts hold after the step, as changes of what they held before it. */
  holds?: Record<string, { options?: Partial<AuthorizerOptions>; push?: Partial<CallbackConfigData> }>;
  outputs?: Record<string, unknown>;
}

/**
 * Runs one step, and checks its counts (every one of the five), its outcome, that the accounts hold the model
 * (ExpectedAccounts: nothing changed that the step does not say) and that the state claims no more than they hold.
 */
async function checkedRun(
  stack: LifecycleStack,
  held: ExpectedAccounts,
  command: Command,
  counts: Partial<StepResult["summary"]["changes"]>,
  outcome: Outcome = {},
  options?: RunOptions,
): Promise<StepResult> {
  const step = await stack.run(command, options);
  assert.deepEqual(step.summary.changes, { ...none, ...counts });
  if (outcome.steps) assert.deepEqual(stepsOf(step), outcome.steps);
  if (outcome.sets) {
    const [endpoint, calls] = outcome.sets;
    assert.deepEqual(setsOf(step, endpoint), calls);
    assert.equal(step.counts.set, calls.length);
  }
  if (outcome.outputs) assert.deepEqual(step.summary.outputs, outcome.outputs);
  for (const [appId, { options: values, push }] of Object.entries(outcome.holds ?? {})) {
    if (values) held.options(appId, values);
    if (push) held.callbackConfig(appId, push);
  }
  held.check();
  assertStateMatchesAccounts(step.state, stack.emulator);
  return step;
}

/** A preview of a stack with no resource yet: `n` creates, no API call, nothing in the state. */
async function previewCreates(stack: LifecycleStack, held: ExpectedAccounts, n: number, options?: RunOptions): Promise<void> {
  const step = await checkedRun(stack, held, "preview", { create: n }, {}, options);
  assert.equal(step.counts.total, 0);
  assert.equal(wechatResources(step.state).length, 0, "the state holds resources");
}

/**
 * A preview and an up of the same declaration: nothing changes, nothing is set. With `edit`, which only writes the
 * declaration another way, an up alone, which calls nothing at all. The package's resources are recorded as they were, and the
 * state saves the stack config of this up (the inputs of the default provider).
 */
async function unchanged(stack: LifecycleStack, held: ExpectedAccounts, n: number, options?: RunOptions, edit?: () => void): Promise<void> {
  if (edit) edit();
  else assert.equal((await checkedRun(stack, held, "preview", { same: n }, {}, options)).counts.total, 0);
  const up = await checkedRun(stack, held, "up", { same: n }, {}, options);
  assert.equal(edit ? up.counts.total : up.counts.set, 0);
  const records = recorded(stack.stateFile);
  assert.deepEqual(packageRecords(records), packageRecords(up.recordedBefore), "the package's resources are recorded as they were");
  assert.deepEqual(savedConfig(records), { ...stack.config, ...options?.config, ...stack.secrets }, "the state saves this up's config");
}

/**
 * A stack of the fixture program for the calling describe, run as the demo platform acting for the demo account and
 * `fleet` more: `setUp` sets what the accounts hold before the program (and the first declaration), and every run
 * declares `spec()` (the program's resources) unless a step declares another. Its first step is the preview of
 * the stack's `resources` creates.
 */
function useFixture(
  options: { stack: string; fleet: number; resources: number; spec: () => object },
  setUp: (env: EmulatorContext) => void,
) {
  const env = useEmulator({ fleet: options.fleet, per: "suite" });
  const declare = (spec = options.spec()) => ({ config: { "wechat-settings:spec": JSON.stringify(spec) } });
  const fixture = {
    env,
    stack: undefined as unknown as LifecycleStack,
    held: undefined as unknown as ExpectedAccounts,
    /** One checked step (see checkedRun) of the current declaration, or of `spec`. */
    step: (command: Command, counts: Partial<typeof none>, outcome?: Outcome, spec?: object) =>
      checkedRun(fixture.stack, fixture.held, command, counts, outcome, declare(spec)),
    unchanged: (n: number) => unchanged(fixture.stack, fixture.held, n, declare()),
    /** An up after an edit of `name`'s identity: one replace; the state holds the new id, and no old half. */
    async replaced(name: string, id: string, outcome: Outcome): Promise<ResourceState> {
      const up = await fixture.step("up", { replace: 1, same: options.resources - 1 }, { steps: [`replace ${name}`], ...outcome });
      assert.equal(wechatResources(up.state).length, options.resources, "the old half is gone from the state");
      const resource = resourceNamed(up.state, name);
      assert.equal(resource.id, id);
      return resource;
    },
    /** An up of `n` resources after a change of `name`'s deleteBehavior alone: the state takes it, WeChat hears nothing. */
    async deleteBehaviorOnly(name: string, deleteBehavior: string, n: number): Promise<void> {
      const up = await fixture.step("up", { update: 1, same: n - 1 }, { steps: [`update ${name}`] });
      assert.equal(up.counts.total, 0);
      assert.equal(resourceNamed(up.state, name).outputs.deleteBehavior, deleteBehavior);
    },
  };
  before(() => {
    setUp(env);
    fixture.held = new ExpectedAccounts(env.emulator);
    const credentials = platformCredentials(env.baseUrl, [DEMO_AUTHORIZED, ...env.fleet]);
    const cwd = path.join(ROOT, "test", "fixtures", "settings");
    fixture.stack = new LifecycleStack({ emulator: env.emulator, cwd, stack: options.stack, ...credentials });
  });
  after(() => fixture.stack?.dispose());
  it(`1. preview shows ${options.resources} creates, calls no API and writes no resource to state`, () =>
    previewCreates(fixture.stack, fixture.held, options.resources, declare()));
  return fixture;
}

// =====================================================================================================================
// The fixture program: AuthorizerOption
// =====================================================================================================================

interface OptionSpec {
  name: string;
  authorizerAppId: string;
  optionName: "location_report" | "voice_recognize" | "customer_service";
  optionValue: number | string;
  deleteBehavior?: "retain" | "reset" | "restore";
  aliases?: { name: string }[];
}

describe("lifecycle: AuthorizerOption (test/fixtures/settings, platform credentials)", function () {
  this.timeout(STEP_TIMEOUT);
  stepsInOrder();
  let B: string;
  let C: string;
  let options: OptionSpec[];
  const option = (name: string) => options.find((candidate) => candidate.name === name)!;
  const fixture = useFixture({ stack: "options", fleet: 2, resources: 5, spec: () => ({ options }) }, (env) => {
    [B, C] = env.fleet.map((account) => account.appId);
    // What the accounts held before the program: restore must put these back.
    env.emulator.setOption(A, "customer_service", "1");
    env.emulator.setOption(B, "location_report", "2");
    env.emulator.setOption(C, "location_report", "2");
    options = [
      { name: "loc", authorizerAppId: A, optionName: "location_report", optionValue: 1 }, // retain, by default
      { name: "voice", authorizerAppId: A, optionName: "voice_recognize", optionValue: 1, deleteBehavior: "retain" },
      { name: "cs", authorizerAppId: A, optionName: "customer_service", optionValue: 0, deleteBehavior: "restore" },
      { name: "rename", authorizerAppId: C, optionName: "voice_recognize", optionValue: 1, deleteBehavior: "reset" },
      { name: "move", authorizerAppId: B, optionName: "location_report", optionValue: "1", deleteBehavior: "restore" },
    ];
  });
  const { env, step } = fixture;

  it("2. up takes the five options over: the accounts hold exactly the declared values", async () => {
    const holds = {
      [A]: { options: DEMO_OPTIONS },
      [B]: { options: { location_report: "1" } },
      [C]: { options: { voice_recognize: "1" } },
    };
    const up = await step("up", { create: 5 }, { holds });
    // Read then set, once per option; one component token, and one token per account for the whole run.
    assert.deepEqual(up.counts, { set: 5, get: 5, token: 4, total: 14 });
    const previous = Object.fromEntries(wechatResources(up.state).map((r) => [nameOf(r), r.outputs.previousValue]));
    assert.deepEqual(previous, { loc: "0", voice: "0", cs: "1", rename: "0", move: "2" });
    const loc = resourceNamed(up.state, "loc");
    assert.equal(loc.id, `${A}/location_report`);
    assert.equal(loc.outputs.optionValue, "1", "state keeps the API's string form");
    assert.equal(loc.outputs.deleteBehavior, "retain", "deleteBehavior defaults to retain");
    assert.deepEqual((up.summary.outputs.optionStates as unknown[])[0], {
      id: `${A}/location_report`,
      optionValue: "1",
      previousValue: "0",
    });
  });

  it("3. a second preview and a second up change nothing; preview calls no API, up sets nothing", () => fixture.unchanged(5));

  it("4. editing optionValue updates in place with exactly one set of that option", async () => {
    option("loc").optionValue = 2;
    const up = await step(
      "up",
      { update: 1, same: 4 },
      {
        steps: ["update loc"],
        sets: [SET_OPTION, [optionSet(A, "location_report", "2")]],
        holds: { [A]: { options: { location_report: "2" } } },
      },
    );
    const loc = resourceNamed(up.state, "loc");
    assert.equal(loc.outputs.optionValue, "2");
    assert.equal(loc.outputs.previousValue, "0", "an update keeps the value to restore");
  });

  it("5a. editing optionName replaces: the new option is set, the old one reset per its deleteBehavior", async () => {
    option("rename").optionName = "customer_service";
    // Create before delete: the new option first, then the old one's reset.
    const sets: Sets = [SET_OPTION, [optionSet(C, "customer_service", "1"), optionSet(C, "voice_recognize", "0")]];
    const rename = await fixture.replaced("rename", `${C}/customer_service`, {
      sets,
      holds: { [C]: { options: { voice_recognize: "0", customer_service: "1" } } },
    });
    assert.equal(rename.outputs.previousValue, "0");
  });

  it("5b. editing authorizerAppId replaces: the new account is set, the old one restored per its deleteBehavior", async () => {
    option("move").authorizerAppId = C;
    const sets: Sets = [SET_OPTION, [optionSet(C, "location_report", "1"), optionSet(B, "location_report", "2")]];
    const holds = { [B]: { options: { location_report: "2" } }, [C]: { options: { location_report: "1" } } };
    const move = await fixture.replaced("move", `${C}/location_report`, { sets, holds });
    assert.equal(move.outputs.previousValue, "2", "previousValue is the new account's");
  });

  it("6. refresh after up finds no change", async () => {
    const refresh = await step("refresh", { same: 5 });
    // A and C are the accounts left (B lost its only resource in 5b): one component token, two authorizer tokens.
    assert.deepEqual(refresh.counts, { set: 0, get: 5, token: 3, total: 8 });
    assert.deepEqual(recorded(fixture.stack.stateFile), refresh.recordedBefore);
  });

  it("7a. an out-of-band change shows up on refresh as an update, and the state holds the drifted value", async () => {
    env.emulator.setOption(A, "location_report", "0");
    const refresh = await step(
      "refresh",
      { update: 1, same: 4 },
      { steps: ["update loc"], holds: { [A]: { options: { location_report: "0" } } } },
    );
    assert.equal(refresh.counts.set, 0);
    const loc = resourceNamed(refresh.state, "loc");
    assert.equal(loc.outputs.optionValue, "0");
    assert.equal(loc.inputs.optionValue, "2", "refresh leaves the declared value in the inputs");
  });

  it("7b. the next up puts the declared value back", async () => {
    const sets: Sets = [SET_OPTION, [optionSet(A, "location_report", "2")]];
    await step("up", { update: 1, same: 4 }, { sets, holds: { [A]: { options: { location_report: "2" } } } });
  });

  it("8. removing resources from the program deletes them per deleteBehavior (reset, restore)", async () => {
    options = options.filter((candidate) => !["rename", "move"].includes(candidate.name));
    const up = await step(
      "up",
      { delete: 2, same: 3 },
      // rename (customer_service, reset) goes to 0; move (location_report, restore) back to C's own 2.
      { steps: ["delete move", "delete rename"], holds: { [C]: { options: { location_report: "2", customer_service: "0" } } } },
    );
    assert.equal(up.counts.set, 2);
    assert.deepEqual(wechatResources(up.state).map(nameOf).sort(), ["cs", "loc", "voice"]);
  });

  it("8b. changing only deleteBehavior updates the state and calls no API", () => {
    option("voice").deleteBehavior = "reset";
    return fixture.deleteBehaviorOnly("voice", "reset", 3);
  });

  it("8c. renaming a resource with an alias keeps it: nothing changes, nothing is called", async () => {
    // Without the alias this would be a create of "voice-recognize" (taking over the value it sees) and a delete of
    // "voice" that resets the very option the new resource just claimed.
    Object.assign(option("voice"), { name: "voice-recognize", aliases: [{ name: "voice" }] });
    const up = await step("up", { same: 3 });
    assert.equal(up.counts.total, 0);
    assert.deepEqual(wechatResources(up.state).map(nameOf).sort(), ["cs", "loc", "voice-recognize"]);
    assert.equal(resourceNamed(up.state, "voice-recognize").outputs.previousValue, "0", "the value to restore survives the rename");
  });

  it("9. destroy retains loc, resets voice, restores cs, and leaves no resource in the state", async () => {
    const destroy = await step(
      "destroy",
      { delete: 3 },
      { holds: { [A]: { options: { location_report: "2", voice_recognize: "0", customer_service: "1" } } } },
    );
    const sets = setsOf(destroy, SET_OPTION).sort(([, a], [, b]) => JSON.stringify(a).localeCompare(JSON.stringify(b)));
    assert.deepEqual(sets, [optionSet(A, "customer_service", "1"), optionSet(A, "voice_recognize", "0")]);
    assert.equal(destroy.counts.get, 0, "delete acts on the state, it reads nothing");
    assert.deepEqual(destroy.state?.resources ?? [], []);
  });
});

// =====================================================================================================================
// The fixture program: CallbackConfig
// =====================================================================================================================

interface CallbackConfigSpec {
  name: string;
  authorizerAppId: string;
  functionConfig?: {
    enable?: boolean;
    callbacks: { msgType: string; event?: string; env: string; functionName: string; enable?: boolean }[];
  };
  containerConfig?: { enable?: boolean; qbaseEnv: string; qbaseContainerPath: string; textMode: 1 | 2 };
  deleteBehavior?: "retain" | "disable" | "restore";
}

describe("lifecycle: CallbackConfig (test/fixtures/settings, platform credentials)", function () {
  this.timeout(STEP_TIMEOUT);
  stepsInOrder();
  let B: string;
  let C: string;
  let D: string;
  let E: string;
  let configs: CallbackConfigSpec[];
  const config = (name: string) => configs.find((candidate) => candidate.name === name)!;
  /** What A held before the program: `restore` must put exactly this back. */
  const legacyA: CallbackConfigData = {
    function_config: { enable: true, callbacks: [rule("text", "legacy-env", "legacyText")] },
    container_config: { enable: true, qbase_env: "legacy-env", qbase_container_path: "/legacy", text_mode: 2 },
  };
  /** B's container section, which no resource manages. */
  const containerB = { enable: true, qbase_env: "b-env", qbase_container_path: "/b", text_mode: 1 };
  const functionsA = (enterFunction = "onEnter") => ({
    enable: true,
    callbacks: [rule("event", "prod-env", enterFunction, "user_enter_tempsession"), rule("text", "prod-env", "onText")],
  });
  const containerA = (textMode = 1, qbaseContainerPath = "/push") => ({
    enable: true,
    qbase_env: "prod-env",
    qbase_container_path: qbaseContainerPath,
    text_mode: textMode,
  });
  const containerC = { enable: true, qbase_env: "c-env", qbase_container_path: "/c", text_mode: 2 };
  const functionsB = (enable = true) => ({ enable, callbacks: [rule("image", "b-env", "onImage")] });
  const functionsE = (enable = true) => ({ enable, callbacks: [rule("voice", "e-env", "onVoice")] });

  const fixture = useFixture({ stack: "callbacks", fleet: 4, resources: 4, spec: () => ({ callbackConfigs: configs }) }, (env) => {
    [B, C, D, E] = env.fleet.map((account) => account.appId);
    env.emulator.setCallbackConfig(A, legacyA);
    env.emulator.setCallbackConfig(B, { container_config: containerB });
    configs = [
      {
        name: "both",
        authorizerAppId: A,
        functionConfig: {
          enable: true,
          callbacks: [
            { msgType: "event", event: "user_enter_tempsession", env: "prod-env", functionName: "onEnter" },
            { msgType: "text", env: "prod-env", functionName: "onText" },
          ],
        },
        containerConfig: { qbaseEnv: "prod-env", qbaseContainerPath: "/push", textMode: 1 },
        deleteBehavior: "restore",
      },
      // Manages only B's functions (retain, by default).
      { name: "fnOnly", authorizerAppId: B, functionConfig: { callbacks: [{ msgType: "image", env: "b-env", functionName: "onImage" }] } },
      {
        name: "move",
        authorizerAppId: C,
        containerConfig: { qbaseEnv: "c-env", qbaseContainerPath: "/c", textMode: 2 },
        deleteBehavior: "retain",
      },
      {
        name: "gone",
        authorizerAppId: E,
        functionConfig: { callbacks: [{ msgType: "voice", env: "e-env", functionName: "onVoice" }] },
        deleteBehavior: "disable",
      },
    ];
  });
  const { env, step } = fixture;

  it("2. up takes the managed sections over, sending only those sections", async () => {
    const holds = {
      [A]: { push: { function_config: functionsA(), container_config: containerA() } },
      [B]: { push: { function_config: functionsB() } },
      [C]: { push: { container_config: containerC } },
      [E]: { push: { function_config: functionsE() } },
    };
    const up = await step("up", { create: 4 }, { holds });
    const sent = Object.fromEntries(setsOf(up, SET_CALLBACK_CONFIG).map(([appId, body]) => [appId, Object.keys(body as object).sort()]));
    assert.deepEqual(sent, {
      [A]: ["container_config", "function_config"],
      [B]: ["function_config"],
      [C]: ["container_config"],
      [E]: ["function_config"],
    });
    assert.equal(up.counts.set, 4);
    // What each resource found, for restore: its managed sections only.
    assert.deepEqual(resourceNamed(up.state, "both").outputs.previousConfig, sectionsOf(legacyA));
    assert.deepEqual(resourceNamed(up.state, "fnOnly").outputs.previousConfig, { functionConfig: { enable: false, callbacks: [] } });
    assert.deepEqual(resourceNamed(up.state, "move").outputs.previousConfig, {
      containerConfig: { enable: false, qbaseEnv: "", qbaseContainerPath: "", textMode: 1 },
    });
    assert.equal(resourceNamed(up.state, "fnOnly").outputs.containerConfig, undefined, "an unmanaged section is not in the state");
    assert.equal(resourceNamed(up.state, "both").id, `${A}/callback-config`);
  });

  it("3. a second preview and a second up change nothing; preview calls no API, up sets nothing", () => fixture.unchanged(4));

  it("4a. editing a callback's functionName updates in place, sending only function_config", async () => {
    config("both").functionConfig!.callbacks[0].functionName = "onEnterV2";
    const up = await step(
      "up",
      { update: 1, same: 3 },
      {
        steps: ["update both"],
        sets: [SET_CALLBACK_CONFIG, [[A, { function_config: functionsA("onEnterV2") }]]],
        holds: { [A]: { push: { function_config: functionsA("onEnterV2") } } },
      },
    );
    assert.deepEqual(resourceNamed(up.state, "both").outputs.previousConfig, sectionsOf(legacyA), "an update keeps what to restore");
  });

  it("4b. editing textMode updates in place, sending only container_config", async () => {
    config("both").containerConfig!.textMode = 2;
    const sets: Sets = [SET_CALLBACK_CONFIG, [[A, { container_config: containerA(2) }]]];
    await step("up", { update: 1, same: 3 }, { sets, holds: { [A]: { push: { container_config: containerA(2) } } } });
  });

  it("4c. reordering callbacks changes nothing: their order means nothing to WeChat", async () => {
    const reverse = (c: CallbackConfigSpec) => ({
      ...c,
      functionConfig: { ...c.functionConfig!, callbacks: [...c.functionConfig!.callbacks].reverse() },
    });
    const preview = await step("preview", { same: 4 }, {}, { callbackConfigs: configs.map((c) => (c.name === "both" ? reverse(c) : c)) });
    assert.equal(preview.counts.total, 0);
  });

  it("5. editing authorizerAppId replaces: the new account gets the section, the old one is retained", async () => {
    config("move").authorizerAppId = D;
    // C keeps what the resource set there (retain); D now holds it too.
    const sets: Sets = [SET_CALLBACK_CONFIG, [[D, { container_config: containerC }]]];
    await fixture.replaced("move", `${D}/callback-config`, { sets, holds: { [D]: { push: { container_config: containerC } } } });
  });

  it("6. refresh after up finds no change", async () => {
    const refresh = await step("refresh", { same: 4 });
    assert.equal(refresh.counts.set, 0);
    assert.equal(refresh.counts.get, 4);
    assert.deepEqual(recorded(fixture.stack.stateFile), refresh.recordedBefore);
  });

  it("7a. an out-of-band change shows up on refresh; a change to an unmanaged section does not", async () => {
    env.emulator.setCallbackConfig(A, { container_config: { qbase_container_path: "/hijacked" } });
    env.emulator.setCallbackConfig(B, { container_config: { qbase_container_path: "/b2" } });
    const holds = {
      [A]: { push: { container_config: containerA(2, "/hijacked") } },
      [B]: { push: { container_config: { ...containerB, qbase_container_path: "/b2" } } },
    };
    const refresh = await step("refresh", { update: 1, same: 3 }, { steps: ["update both"], holds });
    const both = resourceNamed(refresh.state, "both");
    assert.equal((both.outputs.containerConfig as Record<string, unknown>).qbaseContainerPath, "/hijacked");
    assert.equal((both.inputs.containerConfig as Record<string, unknown>).qbaseContainerPath, "/push");
    assert.equal(resourceNamed(refresh.state, "fnOnly").outputs.containerConfig, undefined);
  });

  it("7b. the next up puts the declared section back, and only that section", async () => {
    // B's unmanaged section stays drifted.
    const sets: Sets = [SET_CALLBACK_CONFIG, [[A, { container_config: containerA(2) }]]];
    await step("up", { update: 1, same: 3 }, { sets, holds: { [A]: { push: { container_config: containerA(2) } } } });
  });

  it("8. removing a resource from the program deletes it per deleteBehavior (disable)", async () => {
    configs = configs.filter((c) => c.name !== "gone");
    const sets: Sets = [SET_CALLBACK_CONFIG, [[E, { function_config: functionsE(false) }]]];
    const up = await step(
      "up",
      { delete: 1, same: 3 },
      { steps: ["delete gone"], sets, holds: { [E]: { push: { function_config: functionsE(false) } } } },
    );
    assert.deepEqual(wechatResources(up.state).map(nameOf).sort(), ["both", "fnOnly", "move"]);
  });

  it("8b. changing only deleteBehavior updates the state and calls no API", () => {
    config("fnOnly").deleteBehavior = "disable";
    return fixture.deleteBehaviorOnly("fnOnly", "disable", 3);
  });

  it("9. destroy restores A, disables B's functions, retains D, and leaves no resource in the state", async () => {
    const destroy = await step(
      "destroy",
      { delete: 3 },
      { holds: { [A]: { push: legacyA }, [B]: { push: { function_config: functionsB(false) } } } },
    );
    const sent = Object.fromEntries(setsOf(destroy, SET_CALLBACK_CONFIG));
    assert.deepEqual(sent, { [A]: legacyA, [B]: { function_config: functionsB(false) } });
    assert.deepEqual(destroy.state?.resources ?? [], []);
  });
});

// =====================================================================================================================
// The examples: one table, a row per example, run through the same steps
// =====================================================================================================================

/** One example: its program and config, and what each step of the table declares and the accounts must hold. */
interface ExampleRow {
  /** The program's directory under examples/. */
  example: string;
  title: string;
  /** The stack's config and secrets; what the accounts held before the program is set here too. */
  setUp(env: EmulatorContext): StackSettings;
  /** Once the stack exists (e.g. a file in its directory). */
  prepare?(stack: LifecycleStack): void;
  declares: { options: number; callbackConfigs: number };
  up: Outcome & { title: string; tokens: number };
  /** Ups of the same declaration written another way: each changes and calls nothing. */
  unchanged?: { title: string; edit(stack: LifecycleStack): void }[];
  edit: Outcome & { title: string; edit(stack: LifecycleStack): void };
  drift: Outcome & { title: string; edit(emulator: WeChatEmulator): void; check?(step: StepResult): void; restore: Outcome };
  remove?: Outcome & { title: string; edit(stack: LifecycleStack): void; steps: string[] };
  destroy: Outcome & { title: string };
}

/** Two authorized accounts of the demo platform, besides the demo account. */
const F1 = "wx00000000000000f1";
const F2 = "wx00000000000000f2";

const quickstartPush = (cloudbaseEnv: string) => ({
  function_config: { enable: true, callbacks: [rule("event", cloudbaseEnv, "onEnterSession", "user_enter_tempsession")] },
  container_config: { enable: true, qbase_env: cloudbaseEnv, qbase_container_path: "/wechat-push", text_mode: 1 },
});

const quickstart: ExampleRow = {
  example: "quickstart",
  title: "the demo account's own credentials",
  setUp(env) {
    // customer_service is "restore": the account's own value must come back on destroy.
    env.emulator.setOption(A, "customer_service", "1");
    const { config, secrets } = accountCredentials(env.baseUrl);
    return { config: { ...config, "wechat-quickstart:authorizerAppId": A }, secrets };
  },
  declares: { options: 3, callbackConfigs: 1 },
  up: {
    title: "the declared options and push configuration",
    holds: { [A]: { options: DEMO_OPTIONS, push: quickstartPush("prod-6gni9ity244a6ea3") } },
    outputs: { locationReport: "1", locationBefore: "0", pushConfigId: `${A}/callback-config` },
    // One stable_token for the account, shared by both resource types.
    tokens: 1,
  },
  edit: {
    title: "a new cloudbaseEnv updates message-push in place with one set (both sections name the environment)",
    edit: (stack) => void (stack.config["wechat-quickstart:cloudbaseEnv"] = "staging-6gni9ity244a6ea3"),
    steps: ["update message-push"],
    sets: [SET_CALLBACK_CONFIG, [[A, quickstartPush("staging-6gni9ity244a6ea3")]]],
    holds: { [A]: { push: quickstartPush("staging-6gni9ity244a6ea3") } },
  },
  drift: {
    title: "voice_recognize switched off out of band shows up on refresh as an update",
    edit: (emulator) => emulator.setOption(A, "voice_recognize", "0"),
    steps: ["update voice-recognize"],
    holds: { [A]: { options: { voice_recognize: "0" } } },
    check: (step) => assert.equal(resourceNamed(step.state, "voice-recognize").outputs.optionValue, "0"),
    restore: {
      steps: ["update voice-recognize"],
      sets: [SET_OPTION, [optionSet(A, "voice_recognize", "1")]],
      holds: { [A]: { options: { voice_recognize: "1" } } },
    },
  },
  destroy: {
    // location-report, voice-recognize and message-push are retained; customer-service goes back to "1".
    title: "destroy retains what is retain and restores customer_service, leaving no resource in the state",
    sets: [SET_OPTION, [optionSet(A, "customer_service", "1")]],
    holds: { [A]: { options: { customer_service: "1" } } },
  },
};

/** The fleet the platform-fleet row declares; its steps edit it. */
let fleetAccounts: AccountEntry[] = [];
const declareFleetAccounts = (stack: LifecycleStack) =>
  void (stack.config["wechat-platform-fleet:accounts"] = JSON.stringify(fleetAccounts));

const platformFleet: ExampleRow = {
  example: "platform-fleet",
  title: "the demo platform; accountsFile, then the accounts config",
  setUp(env) {
    for (const appId of [F1, F2]) env.emulator.addAccount({ appId, platform: DEMO_CREDENTIALS.componentAppId });
    fleetAccounts = [
      { appId: A, locationReport: 1, voiceRecognize: 1, customerService: 0, cloudbaseEnv: "prod-env" },
      { appId: F1, locationReport: 2, cloudbaseEnv: "f1-env" },
      { appId: F2, voiceRecognize: 1, customerService: 1 },
    ];
    const authorized = env.emulator.accountList().filter((a): a is Authorized => a.platform === DEMO_CREDENTIALS.componentAppId);
    return platformCredentials(env.baseUrl, authorized);
  },
  prepare(stack) {
    const accountsFile = path.join(stack.backendDir, "accounts.json");
    writeAccountsFile(accountsFile, fleetAccounts);
    stack.config["wechat-platform-fleet:accountsFile"] = accountsFile;
  },
  declares: { options: 6, callbackConfigs: 2 },
  up: {
    title: "every account's settings",
    holds: {
      [A]: { options: DEMO_OPTIONS, push: { function_config: fleetPush("prod-env") } },
      [F1]: { options: { location_report: "2" }, push: { function_config: fleetPush("f1-env") } },
      [F2]: { options: { voice_recognize: "1", customer_service: "1" } },
    },
    outputs: { managedAccounts: 3 },
    // One component token, one authorizer token per account.
    tokens: 4,
  },
  unchanged: [
    {
      title: "the same fleet as the `accounts` config (no file) is the same program: nothing changes",
      edit(stack) {
        stack.config["wechat-platform-fleet:accountsFile"] = "";
        declareFleetAccounts(stack);
      },
    },
  ],
  edit: {
    title: "editing one account's option updates that option alone",
    edit(stack) {
      fleetAccounts[1].locationReport = 1;
      declareFleetAccounts(stack);
    },
    steps: [`update ${F1}-location_report`],
    sets: [SET_OPTION, [optionSet(F1, "location_report", "1")]],
    holds: { [F1]: { options: { location_report: "1" } } },
  },
  drift: {
    title: "an account's push switched off out of band shows up on refresh as an update",
    edit: (emulator) => emulator.setCallbackConfig(F1, { function_config: { enable: false } }),
    steps: [`update ${F1}-push`],
    holds: { [F1]: { push: { function_config: fleetPush("f1-env", false) } } },
    check: (step) => assert.equal((resourceNamed(step.state, `${F1}-push`).outputs.functionConfig as { enable: boolean }).enable, false),
    restore: {
      steps: [`update ${F1}-push`],
      sets: [SET_CALLBACK_CONFIG, [[F1, { function_config: fleetPush("f1-env") }]]],
      holds: { [F1]: { push: { function_config: fleetPush("f1-env") } } },
    },
  },
  remove: {
    title: "removing an account deletes its resources: options retained, push disabled",
    edit(stack) {
      fleetAccounts = fleetAccounts.filter((account) => account.appId !== F1);
      declareFleetAccounts(stack);
    },
    steps: [`delete ${F1}-location_report`, `delete ${F1}-push`],
    sets: [SET_CALLBACK_CONFIG, [[F1, { function_config: fleetPush("f1-env", false) }]]],
    holds: { [F1]: { push: { function_config: fleetPush("f1-env", false) } } },
    outputs: { managedAccounts: 2 },
  },
  destroy: {
    title: "destroy retains the options, disables the push, and leaves no resource in the state",
    sets: [SET_CALLBACK_CONFIG, [[A, { function_config: fleetPush("prod-env", false) }]]],
    holds: { [A]: { push: { function_config: fleetPush("prod-env", false) } } },
  },
};

const ENV_ID = "prod-6gni9ity244a6ea3";
/** What the account routed to before the cloudbase program: destroy (deleteBehavior restore) must put it back. */
const legacyPush: CallbackConfigData = {
  function_config: { enable: true, callbacks: [rule("text", "legacy-env", "legacyHandler")] },
  container_config: { enable: false, qbase_env: "legacy-env", qbase_container_path: "/legacy", text_mode: 2 },
};
const cloudbaseFunctions = (textFunction = "onMessage") => ({
  enable: true,
  callbacks: [
    rule("text", ENV_ID, textFunction),
    rule("image", ENV_ID, "onMessage"),
    rule("event", ENV_ID, "onEnterSession", "user_enter_tempsession"),
  ],
});
const cloudbaseContainer = (qbaseContainerPath: string) => ({
  enable: true,
  qbase_env: ENV_ID,
  qbase_container_path: qbaseContainerPath,
  text_mode: 1,
});

const cloudbase: ExampleRow = {
  example: "cloudbase",
  title: "envId from config, the demo account's own credentials",
  setUp(env) {
    env.emulator.setCallbackConfig(A, legacyPush);
    const { config, secrets } = accountCredentials(env.baseUrl);
    return { config: { ...config, "wechat-cloudbase:authorizerAppId": A, "wechat-cloudbase:envId": ENV_ID }, secrets };
  },
  declares: { options: 0, callbackConfigs: 1 },
  up: {
    title: "the account's routing to the environment from config",
    holds: { [A]: { push: { function_config: cloudbaseFunctions(), container_config: cloudbaseContainer("/wechat-push") } } },
    outputs: { routedTo: ENV_ID, previousConfig: sectionsOf(legacyPush) },
    tokens: 1,
  },
  edit: {
    title: "a new containerPath updates in place, sending only container_config",
    edit: (stack) => void (stack.config["wechat-cloudbase:containerPath"] = "/v2/push"),
    steps: ["update message-push"],
    sets: [SET_CALLBACK_CONFIG, [[A, { container_config: cloudbaseContainer("/v2/push") }]]],
    holds: { [A]: { push: { container_config: cloudbaseContainer("/v2/push") } } },
  },
  drift: {
    title: "text messages routed to another function out of band show up on refresh as an update",
    edit: (emulator) => emulator.setCallbackConfig(A, { function_config: cloudbaseFunctions("someoneElse") }),
    steps: ["update message-push"],
    holds: { [A]: { push: { function_config: cloudbaseFunctions("someoneElse") } } },
    restore: {
      steps: ["update message-push"],
      sets: [SET_CALLBACK_CONFIG, [[A, { function_config: cloudbaseFunctions() }]]],
      holds: { [A]: { push: { function_config: cloudbaseFunctions() } } },
    },
  },
  destroy: {
    title: "destroy restores the routing the account had before, and leaves no resource in the state",
    sets: [SET_CALLBACK_CONFIG, [[A, legacyPush]]],
    holds: { [A]: { push: legacyPush } },
  },
};

for (const row of [quickstart, platformFleet, cloudbase]) {
  describe(`lifecycle: examples/${row.example} (${row.title})`, function () {
    this.timeout(STEP_TIMEOUT);
    stepsInOrder();
    const env = useEmulator({ per: "suite" });
    const n = row.declares.options + row.declares.callbackConfigs;
    const removed = row.remove?.steps.length ?? 0;
    let stack: LifecycleStack;
    let held: ExpectedAccounts;
    const step = (command: Command, counts: Partial<typeof none>, outcome?: Outcome) => checkedRun(stack, held, command, counts, outcome);

    before(() => {
      const settings = row.setUp(env);
      held = new ExpectedAccounts(env.emulator);
      stack = new LifecycleStack({
        emulator: env.emulator,
        cwd: path.join(ROOT, "examples", row.example),
        stack: row.example,
        ...settings,
      });
      row.prepare?.(stack);
    });
    after(() => stack?.dispose());

    it(`1. preview (type-checked by ts-node, as pulumi runs it) shows ${n} create${n === 1 ? "" : "s"} and calls no API`, () =>
      previewCreates(stack, held, n, { transpileOnly: false }));

    it(`2. up applies ${row.up.title}`, async () => {
      const up = await step("up", { create: n }, row.up);
      assert.equal(up.counts.token, row.up.tokens, "a token per account, fetched once and shared");
      const types = wechatResources(up.state).map((r) => r.type);
      assert.deepEqual(types.sort(), [
        ...Array<string>(row.declares.options).fill(AUTHORIZER_OPTION),
        ...Array<string>(row.declares.callbackConfigs).fill(CALLBACK_CONFIG),
      ]);
    });

    it("3. a second preview and a second up change nothing; preview calls no API, up sets nothing", () => unchanged(stack, held, n));
    (row.unchanged ?? []).forEach(({ title, edit }, i) =>
      it(`3${"bcd"[i]}. ${title}`, () => unchanged(stack, held, n, {}, () => edit(stack))),
    );

    it(`4. ${row.edit.title}`, async () => {
      row.edit.edit(stack);
      await step("up", { update: 1, same: n - 1 }, row.edit);
    });

    it("6. refresh after up finds no change", async () => {
      assert.equal((await step("refresh", { same: n })).counts.set, 0);
    });

    it(`7a. ${row.drift.title}`, async () => {
      row.drift.edit(env.emulator);
      const refresh = await step("refresh", { update: 1, same: n - 1 }, row.drift);
      assert.equal(refresh.counts.set, 0);
      row.drift.check?.(refresh);
    });

    it("7b. the next up puts the declared value back", () => step("up", { update: 1, same: n - 1 }, row.drift.restore));

    if (row.remove) {
      const remove = row.remove;
      it(`8. ${remove.title}`, async () => {
        remove.edit(stack);
        const up = await step("up", { delete: removed, same: n - removed }, remove);
        assert.equal(wechatResources(up.state).length, n - removed);
      });
    }

    it(`9. ${row.destroy.title}`, async () => {
      const destroy = await step("destroy", { delete: n - removed }, row.destroy);
      assert.deepEqual(destroy.state?.resources ?? [], []);
    });
  });
}

// =====================================================================================================================
// A credential that changes after `up`: refresh and destroy sign in with the configuration saved in the state
// =====================================================================================================================

describe("lifecycle: refresh and destroy sign in with the configuration saved at the last up, unless --run-program (examples/quickstart)", function () {
  this.timeout(STEP_TIMEOUT);
  stepsInOrder();
  const env = useEmulator({ per: "suite" });
  const STABLE_TOKEN = "/cgi-bin/stable_token";
  const SECOND = "rotated-app-secret-0002";
  const THIRD = "rotated-app-secret-0003";
  let stack: LifecycleStack;
  let held: ExpectedAccounts;
  /** The account's app secret changes in WeChat (the console's "reset"), and the user puts the new one in config. */
  const rotate = (secret: string) => {
    env.emulator.addAccount({ appId: A, appSecret: secret });
    stack.secrets["wechat:appSecret"] = secret;
  };
  /** The app secrets the provider signed in with during the step, in order. */
  const signedInWith = (step: StepResult) =>
    step.requests.filter((r) => r.path === STABLE_TOKEN).map((r) => (r.body as { secret: string }).secret);
  /** The app secret the state saved (with the whole stack config, as the inputs of the default provider). */
  const saved = () => savedConfig(recorded(stack.stateFile))?.["wechat:appSecret"];
  const urns = (step: StepResult, names: string[]) => names.map((name) => `urn:pulumi:${step.summary.stack}::wechat-quickstart::${name}`);
  const OPTION = (name: string) => `${AUTHORIZER_OPTION}::${name}`;

  before(() => {
    // customer-service is "restore": its delete must call WeChat, the other three are retained.
    env.emulator.setOption(A, "customer_service", "1");
    const { config, secrets } = accountCredentials(env.baseUrl);
    const settings = { config: { ...config, "wechat-quickstart:authorizerAppId": A }, secrets };
    stack = new LifecycleStack({ emulator: env.emulator, cwd: path.join(ROOT, "examples", "quickstart"), stack: "rotation", ...settings });
  });
  after(() => stack?.dispose());

  it("1. up signs in with the app secret of the stack config, and the state saves that configuration", async () => {
    const step = await stack.run("up");
    assert.deepEqual(step.summary.changes, { ...none, create: 4 });
    assert.deepEqual(signedInWith(step), [DEMO_CREDENTIALS.appSecret]);
    assert.equal(saved(), DEMO_CREDENTIALS.appSecret);
    assertStateMatchesAccounts(step.state, env.emulator);
    // The table above checks what up applies; from here on, the account holds this unless a step says otherwise.
    held = new ExpectedAccounts(env.emulator);
  });

  it("2. after the secret is rotated, refresh still signs in with the saved one: every read fails with 40125", async () => {
    rotate(SECOND);
    const step = await stack.run("refresh", { fails: true });
    assert.deepEqual(signedInWith(step), [DEMO_CREDENTIALS.appSecret], "the stale secret, once: the token failure is shared");
    assert.deepEqual(step.counts, { set: 0, get: 0, token: 1, total: 1 });
    const failed = step.summary.failed.filter((f) => f.urn);
    const resources = [
      OPTION("customer-service"),
      OPTION("location-report"),
      OPTION("voice-recognize"),
      `${CALLBACK_CONFIG}::message-push`,
    ];
    assert.deepEqual(failed.map((f) => f.urn).sort(), urns(step, resources));
    for (const { message } of failed)
      assert.match(message, new RegExp(`stable_token for authorizer ${A} failed: errcode 40125 .*wechat:appSecret`));
    assert.deepEqual(step.summary.changes, none);
    assert.deepEqual(recorded(stack.stateFile), step.recordedBefore, "a failed refresh records nothing");
    held.check();
  });

  it("3. refresh --run-program signs in with the current secret, finds no drift, and saves the current configuration", async () => {
    const step = await stack.run("refresh", { runProgram: true });
    assert.deepEqual(step.summary.changes, { ...none, same: 4 });
    assert.deepEqual(signedInWith(step), [SECOND]);
    assert.equal(saved(), SECOND);
    held.check();
    assertStateMatchesAccounts(step.state, env.emulator);
  });

  it("4. a plain refresh now signs in with the secret refresh --run-program saved", async () => {
    const step = await stack.run("refresh");
    assert.deepEqual(step.summary.changes, { ...none, same: 4 });
    assert.deepEqual(signedInWith(step), [SECOND]);
  });

  it("5. after another rotation, destroy deletes the three retained resources and fails where it must call WeChat", async () => {
    rotate(THIRD);
    const step = await stack.run("destroy", { fails: true });
    assert.deepEqual(signedInWith(step), [SECOND], "the saved secret");
    assert.deepEqual(step.summary.changes, { ...none, delete: 3 });
    assert.deepEqual(stepsOf(step), ["delete location-report", "delete message-push", "delete voice-recognize"]);
    const failed = step.summary.failed.filter((f) => f.urn);
    assert.deepEqual(
      failed.map((f) => f.urn),
      urns(step, [OPTION("customer-service")]),
    );
    assert.match(failed[0].message, /errcode 40125 /);
    assert.deepEqual(wechatResources(step.state).map(nameOf), ["customer-service"], "what was not restored stays in the state");
    assert.equal(step.counts.set, 0);
    held.check();
  });

  it("6. destroy --run-program signs in with the current secret and restores customer_service", async () => {
    const step = await stack.run("destroy", { runProgram: true });
    // The CLI reports the program's four registrations as unchanged, beside the one delete.
    assert.deepEqual(step.summary.changes, { ...none, delete: 1, same: 4 });
    assert.deepEqual(stepsOf(step), ["delete customer-service"]);
    assert.deepEqual(signedInWith(step), [THIRD]);
    assert.deepEqual(setsOf(step, SET_OPTION), [optionSet(A, "customer_service", "1")]);
    held.options(A, { customer_service: "1" }).check();
    assert.deepEqual(step.state?.resources ?? [], []);
  });
});
