/**
 * Lifecycle acceptance tests: Pulumi programs driven through preview, up, edits, refresh, drift, removal and destroy
 * by the engine harness (the real program runtime and dynamic-provider host over gRPC) against the WeChat emulator.
 *
 * Each describe is one stack of one program and reads as an acceptance test: its `it`s are the steps, run in order
 * (a failed step skips the rest), each asserting on what the emulator received, on what every account in it holds
 * (ExpectedAccounts: the declared settings, and nothing touched elsewhere) and on the state file. The checks that hold
 * after every step (the run succeeded; no credential in stdout, stderr or state; every `__provider` a small require
 * of the provider by package name; a preview leaves the state file alone) are made by LifecycleStack.run().
 *
 * The programs: the three examples (quickstart and cloudbase with the demo account's own credentials, platform-fleet
 * with the demo platform), and test/fixtures/settings, whose resources are a JSON spec in stack config so that steps
 * can edit values, identities and deleteBehavior of both resources.
 */
import { strict as assert } from "node:assert";
import * as fs from "node:fs";
import * as path from "node:path";
import { CallbackConfigData, DEMO_CREDENTIALS, FleetAccount, WeChatEmulator } from "./emulator/server";
import {
  AUTHORIZER_OPTION,
  CALLBACK_CONFIG,
  EXAMPLES,
  ExpectedAccounts,
  LifecycleStack,
  SETTINGS_FIXTURE,
  SET_CALLBACK_CONFIG,
  SET_OPTION,
  StepResult,
  accountCredentials,
  assertStateMatchesAccounts,
  bodiesOf,
  platformCredentials,
  resourceNamed,
  sectionsOf,
  stepsInOrder,
  wechatResources,
} from "./support/lifecycle";

/** A step is one or two harness runs of ~2-3 s each; generous for a loaded 2-core machine. */
const STEP_TIMEOUT = 120_000;
const A = DEMO_CREDENTIALS.appId;

/** One emulator (demo account and platform, plus a fleet of accounts authorized to the platform) per describe. */
function useEmulator(fleetSize = 0) {
  const context = { emulator: undefined as unknown as WeChatEmulator, baseUrl: "", fleet: [] as FleetAccount[] };
  before(async () => {
    context.emulator = new WeChatEmulator();
    context.emulator.addDemo();
    context.fleet = context.emulator.addFleet(DEMO_CREDENTIALS.componentAppId, fleetSize);
    context.baseUrl = await context.emulator.start();
  });
  after(async () => {
    await context.emulator?.stop();
  });
  return context;
}

/** appId → refresh token, for the demo account and the fleet. */
function refreshTokens(fleet: readonly FleetAccount[]): Record<string, string> {
  return Object.fromEntries([
    [A, DEMO_CREDENTIALS.authorizerRefreshToken],
    ...fleet.map((account) => [account.appId, account.refreshToken]),
  ]);
}

const none = { create: 0, update: 0, replace: 0, delete: 0, same: 0 };
/** The step's changes: all five counts, so that an assertion names every one. */
const changes = (step: StepResult) => step.summary.changes;
/** What a step did, as "op name", sorted. */
const stepsOf = (step: StepResult) => step.summary.steps.map(({ op, urn }) => `${op} ${urn.split("::").slice(3).join("::")}`).sort();
/** The set calls of a step as [appId, body], in order. */
const setsOf = (step: StepResult, requestPath: string) => step.requests.filter((r) => r.path === requestPath).map((r) => [r.appId, r.body]);
/** A callback rule as the API (and the emulator) holds it. */
const rule = (msgType: string, env: string, functionName: string, event = "", enable = true) => ({
  msgType,
  event,
  env,
  functionName,
  enable,
});

function assertNoResources(step: StepResult): void {
  assert.equal(wechatResources(step.state).size, 0, "the state holds resources");
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
  const env = useEmulator(2);
  let stack: LifecycleStack;
  let held: ExpectedAccounts;
  let B: string;
  let C: string;
  let options: OptionSpec[];
  const spec = () => ({ config: { "wechat-settings:spec": JSON.stringify({ options }) } });
  const option = (name: string) => options.find((candidate) => candidate.name === name)!;

  before(() => {
    [B, C] = env.fleet.map((account) => account.appId);
    // What the accounts held before the program: restore must put these back.
    env.emulator.setOption(A, "customer_service", "1");
    env.emulator.setOption(B, "location_report", "2");
    env.emulator.setOption(C, "location_report", "2");
    held = new ExpectedAccounts(env.emulator);
    options = [
      { name: "loc", authorizerAppId: A, optionName: "location_report", optionValue: 1 }, // retain, by default
      { name: "voice", authorizerAppId: A, optionName: "voice_recognize", optionValue: 1, deleteBehavior: "retain" },
      { name: "cs", authorizerAppId: A, optionName: "customer_service", optionValue: 0, deleteBehavior: "restore" },
      { name: "rename", authorizerAppId: C, optionName: "voice_recognize", optionValue: 1, deleteBehavior: "reset" },
      { name: "move", authorizerAppId: B, optionName: "location_report", optionValue: "1", deleteBehavior: "restore" },
    ];
    stack = new LifecycleStack({
      emulator: env.emulator,
      cwd: SETTINGS_FIXTURE,
      stack: "options",
      ...platformCredentials(env.baseUrl, refreshTokens(env.fleet)),
    });
  });
  after(() => stack?.dispose());

  it("1. preview shows five creates, calls no API and writes no resource to state", async () => {
    const step = await stack.run("preview", spec());
    assert.deepEqual(changes(step), { ...none, create: 5 });
    assert.equal(step.counts.total, 0);
    assertNoResources(step);
    held.check();
  });

  it("2. up takes the five options over: the accounts hold exactly the declared values", async () => {
    const step = await stack.run("up", spec());
    assert.deepEqual(changes(step), { ...none, create: 5 });
    held
      .options(A, { location_report: "1", voice_recognize: "1", customer_service: "0" })
      .options(B, { location_report: "1" })
      .options(C, { voice_recognize: "1" })
      .check();
    // Read then set, once per option; one component token, and one token per account for the whole run.
    assert.deepEqual(step.counts, { set: 5, get: 5, token: 4, total: 14 });
    assertStateMatchesAccounts(step.state, env.emulator);
    const previous = Object.fromEntries([...wechatResources(step.state)].map(([name, r]) => [name, r.outputs.previousValue]));
    assert.deepEqual(previous, { loc: "0", voice: "0", cs: "1", rename: "0", move: "2" });
    const loc = resourceNamed(step.state, "loc");
    assert.equal(loc.id, `${A}/location_report`);
    assert.equal(loc.outputs.optionValue, "1", "state keeps the API's string form");
    assert.equal(loc.outputs.deleteBehavior, "retain", "deleteBehavior defaults to retain");
    assert.deepEqual((step.summary.outputs.optionStates as unknown[])[0], {
      id: `${A}/location_report`,
      optionValue: "1",
      previousValue: "0",
    });
  });

  it("3. a second preview and a second up change nothing; preview calls no API, up sets nothing", async () => {
    const preview = await stack.run("preview", spec());
    assert.deepEqual(changes(preview), { ...none, same: 5 });
    assert.equal(preview.counts.total, 0);
    const before = stack.recorded();
    const up = await stack.run("up", spec());
    assert.deepEqual(changes(up), { ...none, same: 5 });
    assert.equal(up.counts.set, 0);
    assert.deepEqual(stack.recorded(), before);
    held.check();
  });

  it("4. editing optionValue updates in place with exactly one set of that option", async () => {
    option("loc").optionValue = 2;
    const step = await stack.run("up", spec());
    assert.deepEqual(changes(step), { ...none, update: 1, same: 4 });
    assert.deepEqual(stepsOf(step), ["update loc"]);
    assert.deepEqual(setsOf(step, SET_OPTION), [[A, { option_name: "location_report", option_value: "2" }]]);
    assert.equal(step.counts.set, 1);
    held.options(A, { location_report: "2" }).check();
    const loc = resourceNamed(step.state, "loc");
    assert.equal(loc.outputs.optionValue, "2");
    assert.equal(loc.outputs.previousValue, "0", "an update keeps the value to restore");
  });

  it("5a. editing optionName replaces: the new option is set, the old one reset per its deleteBehavior", async () => {
    option("rename").optionName = "customer_service";
    const step = await stack.run("up", spec());
    assert.deepEqual(changes(step), { ...none, replace: 1, same: 4 });
    assert.deepEqual(stepsOf(step), ["replace rename"]);
    // Create before delete: the new option first, then the old one's reset.
    assert.deepEqual(setsOf(step, SET_OPTION), [
      [C, { option_name: "customer_service", option_value: "1" }],
      [C, { option_name: "voice_recognize", option_value: "0" }],
    ]);
    held.options(C, { voice_recognize: "0", customer_service: "1" }).check();
    const rename = resourceNamed(step.state, "rename");
    assert.equal(rename.id, `${C}/customer_service`);
    assert.equal(rename.outputs.previousValue, "0");
    assert.equal(wechatResources(step.state).size, 5, "the old half is gone from the state");
  });

  it("5b. editing authorizerAppId replaces: the new account is set, the old one restored per its deleteBehavior", async () => {
    option("move").authorizerAppId = C;
    const step = await stack.run("up", spec());
    assert.deepEqual(changes(step), { ...none, replace: 1, same: 4 });
    assert.deepEqual(stepsOf(step), ["replace move"]);
    assert.deepEqual(setsOf(step, SET_OPTION), [
      [C, { option_name: "location_report", option_value: "1" }],
      [B, { option_name: "location_report", option_value: "2" }],
    ]);
    held.options(B, { location_report: "2" }).options(C, { location_report: "1" }).check();
    const move = resourceNamed(step.state, "move");
    assert.equal(move.id, `${C}/location_report`);
    assert.equal(move.outputs.previousValue, "2", "previousValue is the new account's");
    assert.equal(wechatResources(step.state).size, 5);
  });

  it("6. refresh after up finds no change", async () => {
    const before = stack.recorded();
    const step = await stack.run("refresh", spec());
    assert.deepEqual(changes(step), { ...none, same: 5 });
    // A and C are the accounts left (B lost its only resource in 5b): one component token, two authorizer tokens.
    assert.deepEqual(step.counts, { set: 0, get: 5, token: 3, total: 8 });
    assert.deepEqual(stack.recorded(), before);
    held.check();
    assertStateMatchesAccounts(step.state, env.emulator);
  });

  it("7a. an out-of-band change shows up on refresh as an update, and the state holds the drifted value", async () => {
    env.emulator.setOption(A, "location_report", "0");
    const step = await stack.run("refresh", spec());
    assert.deepEqual(changes(step), { ...none, update: 1, same: 4 });
    assert.deepEqual(stepsOf(step), ["update loc"]);
    assert.equal(step.counts.set, 0);
    held.options(A, { location_report: "0" }).check();
    const loc = resourceNamed(step.state, "loc");
    assert.equal(loc.outputs.optionValue, "0");
    assert.equal(loc.inputs.optionValue, "2", "refresh leaves the declared value in the inputs");
    assertStateMatchesAccounts(step.state, env.emulator);
  });

  it("7b. the next up puts the declared value back", async () => {
    const step = await stack.run("up", spec());
    assert.deepEqual(changes(step), { ...none, update: 1, same: 4 });
    assert.deepEqual(setsOf(step, SET_OPTION), [[A, { option_name: "location_report", option_value: "2" }]]);
    held.options(A, { location_report: "2" }).check();
    assertStateMatchesAccounts(step.state, env.emulator);
  });

  it("8. removing resources from the program deletes them per deleteBehavior (reset, restore)", async () => {
    options = options.filter((candidate) => !["rename", "move"].includes(candidate.name));
    const step = await stack.run("up", spec());
    assert.deepEqual(changes(step), { ...none, delete: 2, same: 3 });
    assert.deepEqual(stepsOf(step), ["delete move", "delete rename"]);
    assert.equal(step.counts.set, 2);
    // rename (customer_service, reset) goes to 0; move (location_report, restore) back to C's own 2.
    held.options(C, { location_report: "2", customer_service: "0" }).check();
    assert.deepEqual([...wechatResources(step.state).keys()].sort(), ["cs", "loc", "voice"]);
  });

  it("8b. changing only deleteBehavior updates the state and calls no API", async () => {
    option("voice").deleteBehavior = "reset";
    const step = await stack.run("up", spec());
    assert.deepEqual(changes(step), { ...none, update: 1, same: 2 });
    assert.deepEqual(stepsOf(step), ["update voice"]);
    assert.equal(step.counts.total, 0);
    assert.equal(resourceNamed(step.state, "voice").outputs.deleteBehavior, "reset");
    held.check();
  });

  it("8c. renaming a resource with an alias keeps it: nothing changes, nothing is called", async () => {
    // Without the alias this would be a create of "voice-recognize" (taking over the value it sees) and a delete of
    // "voice" that resets the very option the new resource just claimed.
    Object.assign(option("voice"), { name: "voice-recognize", aliases: [{ name: "voice" }] });
    const step = await stack.run("up", spec());
    assert.deepEqual(changes(step), { ...none, same: 3 });
    assert.equal(step.counts.total, 0);
    assert.deepEqual([...wechatResources(step.state).keys()].sort(), ["cs", "loc", "voice-recognize"]);
    assert.equal(resourceNamed(step.state, "voice-recognize").outputs.previousValue, "0", "the value to restore survives the rename");
    held.check();
  });

  it("9. destroy retains loc, resets voice, restores cs, and leaves no resource in the state", async () => {
    const step = await stack.run("destroy", spec());
    assert.deepEqual(changes(step), { ...none, delete: 3 });
    held.options(A, { location_report: "2", voice_recognize: "0", customer_service: "1" }).check();
    const sets = bodiesOf(step.requests, SET_OPTION).sort((a, b) => String(a.option_name).localeCompare(String(b.option_name)));
    assert.deepEqual(sets, [
      { option_name: "customer_service", option_value: "1" },
      { option_name: "voice_recognize", option_value: "0" },
    ]);
    assert.equal(step.counts.get, 0, "delete acts on the state, it reads nothing");
    assert.deepEqual(step.state?.resources ?? [], []);
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
  const env = useEmulator(4);
  let stack: LifecycleStack;
  let held: ExpectedAccounts;
  let B: string;
  let C: string;
  let D: string;
  let E: string;
  let configs: CallbackConfigSpec[];
  const spec = () => ({ config: { "wechat-settings:spec": JSON.stringify({ callbackConfigs: configs }) } });
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

  before(() => {
    [B, C, D, E] = env.fleet.map((account) => account.appId);
    env.emulator.setCallbackConfig(A, legacyA);
    env.emulator.setCallbackConfig(B, { container_config: containerB });
    held = new ExpectedAccounts(env.emulator);
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
    stack = new LifecycleStack({
      emulator: env.emulator,
      cwd: SETTINGS_FIXTURE,
      stack: "callbacks",
      ...platformCredentials(env.baseUrl, refreshTokens(env.fleet)),
    });
  });
  after(() => stack?.dispose());

  it("1. preview shows four creates, calls no API and writes no resource to state", async () => {
    const step = await stack.run("preview", spec());
    assert.deepEqual(changes(step), { ...none, create: 4 });
    assert.equal(step.counts.total, 0);
    assertNoResources(step);
    held.check();
  });

  it("2. up takes the managed sections over, sending only those sections", async () => {
    const step = await stack.run("up", spec());
    assert.deepEqual(changes(step), { ...none, create: 4 });
    held
      .callbackConfig(A, { function_config: functionsA(), container_config: containerA() })
      .callbackConfig(B, { function_config: functionsB() })
      .callbackConfig(C, { container_config: containerC })
      .callbackConfig(E, { function_config: functionsE() })
      .check();
    const sent = Object.fromEntries(setsOf(step, SET_CALLBACK_CONFIG).map(([appId, body]) => [appId, Object.keys(body as object).sort()]));
    assert.deepEqual(sent, {
      [A]: ["container_config", "function_config"],
      [B]: ["function_config"],
      [C]: ["container_config"],
      [E]: ["function_config"],
    });
    assert.equal(step.counts.set, 4);
    assertStateMatchesAccounts(step.state, env.emulator);
    // What each resource found, for restore: its managed sections only.
    assert.deepEqual(resourceNamed(step.state, "both").outputs.previousConfig, sectionsOf(legacyA));
    assert.deepEqual(resourceNamed(step.state, "fnOnly").outputs.previousConfig, { functionConfig: { enable: false, callbacks: [] } });
    assert.deepEqual(resourceNamed(step.state, "move").outputs.previousConfig, {
      containerConfig: { enable: false, qbaseEnv: "", qbaseContainerPath: "", textMode: 1 },
    });
    assert.equal(resourceNamed(step.state, "fnOnly").outputs.containerConfig, undefined, "an unmanaged section is not in the state");
    assert.equal(resourceNamed(step.state, "both").id, `${A}/callback-config`);
  });

  it("3. a second preview and a second up change nothing; preview calls no API, up sets nothing", async () => {
    const preview = await stack.run("preview", spec());
    assert.deepEqual(changes(preview), { ...none, same: 4 });
    assert.equal(preview.counts.total, 0);
    const before = stack.recorded();
    const up = await stack.run("up", spec());
    assert.deepEqual(changes(up), { ...none, same: 4 });
    assert.equal(up.counts.set, 0);
    assert.deepEqual(stack.recorded(), before);
    held.check();
  });

  it("4a. editing a callback's functionName updates in place, sending only function_config", async () => {
    config("both").functionConfig!.callbacks[0].functionName = "onEnterV2";
    const step = await stack.run("up", spec());
    assert.deepEqual(changes(step), { ...none, update: 1, same: 3 });
    assert.deepEqual(stepsOf(step), ["update both"]);
    assert.deepEqual(setsOf(step, SET_CALLBACK_CONFIG), [[A, { function_config: functionsA("onEnterV2") }]]);
    held.callbackConfig(A, { function_config: functionsA("onEnterV2") }).check();
    assert.deepEqual(resourceNamed(step.state, "both").outputs.previousConfig, sectionsOf(legacyA), "an update keeps what to restore");
    assertStateMatchesAccounts(step.state, env.emulator);
  });

  it("4b. editing textMode updates in place, sending only container_config", async () => {
    config("both").containerConfig!.textMode = 2;
    const step = await stack.run("up", spec());
    assert.deepEqual(changes(step), { ...none, update: 1, same: 3 });
    assert.deepEqual(setsOf(step, SET_CALLBACK_CONFIG), [[A, { container_config: containerA(2) }]]);
    held.callbackConfig(A, { container_config: containerA(2) }).check();
    assertStateMatchesAccounts(step.state, env.emulator);
  });

  it("4c. reordering callbacks changes nothing: their order means nothing to WeChat", async () => {
    const reordered = configs.map((c) =>
      c.name === "both" ? { ...c, functionConfig: { ...c.functionConfig!, callbacks: [...c.functionConfig!.callbacks].reverse() } } : c,
    );
    const step = await stack.run("preview", { config: { "wechat-settings:spec": JSON.stringify({ callbackConfigs: reordered }) } });
    assert.deepEqual(changes(step), { ...none, same: 4 });
    assert.equal(step.counts.total, 0);
    held.check();
  });

  it("5. editing authorizerAppId replaces: the new account gets the section, the old one is retained", async () => {
    config("move").authorizerAppId = D;
    const step = await stack.run("up", spec());
    assert.deepEqual(changes(step), { ...none, replace: 1, same: 3 });
    assert.deepEqual(stepsOf(step), ["replace move"]);
    assert.deepEqual(setsOf(step, SET_CALLBACK_CONFIG), [[D, { container_config: containerC }]]);
    // C keeps what the resource set there (retain); D now holds it too.
    held.callbackConfig(D, { container_config: containerC }).check();
    assert.equal(resourceNamed(step.state, "move").id, `${D}/callback-config`);
    assert.equal(wechatResources(step.state).size, 4, "the old half is gone from the state");
  });

  it("6. refresh after up finds no change", async () => {
    const before = stack.recorded();
    const step = await stack.run("refresh", spec());
    assert.deepEqual(changes(step), { ...none, same: 4 });
    assert.equal(step.counts.set, 0);
    assert.equal(step.counts.get, 4);
    assert.deepEqual(stack.recorded(), before);
    held.check();
  });

  it("7a. an out-of-band change shows up on refresh; a change to an unmanaged section does not", async () => {
    env.emulator.setCallbackConfig(A, { container_config: { qbase_container_path: "/hijacked" } });
    env.emulator.setCallbackConfig(B, { container_config: { qbase_container_path: "/b2" } });
    const step = await stack.run("refresh", spec());
    assert.deepEqual(changes(step), { ...none, update: 1, same: 3 });
    assert.deepEqual(stepsOf(step), ["update both"]);
    held
      .callbackConfig(A, { container_config: containerA(2, "/hijacked") })
      .callbackConfig(B, { container_config: { ...containerB, qbase_container_path: "/b2" } })
      .check();
    const both = resourceNamed(step.state, "both");
    assert.equal((both.outputs.containerConfig as Record<string, unknown>).qbaseContainerPath, "/hijacked");
    assert.equal((both.inputs.containerConfig as Record<string, unknown>).qbaseContainerPath, "/push");
    assert.equal(resourceNamed(step.state, "fnOnly").outputs.containerConfig, undefined);
    assertStateMatchesAccounts(step.state, env.emulator);
  });

  it("7b. the next up puts the declared section back, and only that section", async () => {
    const step = await stack.run("up", spec());
    assert.deepEqual(changes(step), { ...none, update: 1, same: 3 });
    assert.deepEqual(setsOf(step, SET_CALLBACK_CONFIG), [[A, { container_config: containerA(2) }]]);
    // B's unmanaged section stays drifted.
    held.callbackConfig(A, { container_config: containerA(2) }).check();
    assertStateMatchesAccounts(step.state, env.emulator);
  });

  it("8. removing a resource from the program deletes it per deleteBehavior (disable)", async () => {
    configs = configs.filter((c) => c.name !== "gone");
    const step = await stack.run("up", spec());
    assert.deepEqual(changes(step), { ...none, delete: 1, same: 3 });
    assert.deepEqual(stepsOf(step), ["delete gone"]);
    assert.deepEqual(setsOf(step, SET_CALLBACK_CONFIG), [[E, { function_config: functionsE(false) }]]);
    held.callbackConfig(E, { function_config: functionsE(false) }).check();
    assert.deepEqual([...wechatResources(step.state).keys()].sort(), ["both", "fnOnly", "move"]);
  });

  it("8b. changing only deleteBehavior updates the state and calls no API", async () => {
    config("fnOnly").deleteBehavior = "disable";
    const step = await stack.run("up", spec());
    assert.deepEqual(changes(step), { ...none, update: 1, same: 2 });
    assert.deepEqual(stepsOf(step), ["update fnOnly"]);
    assert.equal(step.counts.total, 0);
    assert.equal(resourceNamed(step.state, "fnOnly").outputs.deleteBehavior, "disable");
    held.check();
  });

  it("9. destroy restores A, disables B's functions, retains D, and leaves no resource in the state", async () => {
    const step = await stack.run("destroy", spec());
    assert.deepEqual(changes(step), { ...none, delete: 3 });
    held
      .callbackConfig(A, legacyA)
      .callbackConfig(B, { function_config: functionsB(false) })
      .check();
    const sent = Object.fromEntries(setsOf(step, SET_CALLBACK_CONFIG));
    assert.deepEqual(sent, { [A]: legacyA, [B]: { function_config: functionsB(false) } });
    assert.deepEqual(step.state?.resources ?? [], []);
  });
});

// =====================================================================================================================
// examples/quickstart
// =====================================================================================================================

describe("lifecycle: examples/quickstart (the demo account's own credentials)", function () {
  this.timeout(STEP_TIMEOUT);
  stepsInOrder();
  const env = useEmulator();
  let stack: LifecycleStack;
  let held: ExpectedAccounts;
  const pushFor = (cloudbaseEnv: string) => ({
    function_config: { enable: true, callbacks: [rule("event", cloudbaseEnv, "onEnterSession", "user_enter_tempsession")] },
    container_config: { enable: true, qbase_env: cloudbaseEnv, qbase_container_path: "/wechat-push", text_mode: 1 },
  });

  before(() => {
    // customer_service is "restore": the account's own value must come back on destroy.
    env.emulator.setOption(A, "customer_service", "1");
    held = new ExpectedAccounts(env.emulator);
    const credentials = accountCredentials(env.baseUrl);
    stack = new LifecycleStack({
      emulator: env.emulator,
      cwd: path.join(EXAMPLES, "quickstart"),
      stack: "quickstart",
      config: { ...credentials.config, "wechat-quickstart:authorizerAppId": A },
      secrets: credentials.secrets,
    });
  });
  after(() => stack?.dispose());

  it("1. preview (type-checked by ts-node, as pulumi runs it) shows four creates and calls no API", async () => {
    const step = await stack.run("preview", { transpileOnly: false });
    assert.deepEqual(changes(step), { ...none, create: 4 });
    assert.equal(step.counts.total, 0);
    assertNoResources(step);
    held.check();
  });

  it("2. up applies: the account holds exactly the declared options and push configuration", async () => {
    const step = await stack.run("up");
    assert.deepEqual(changes(step), { ...none, create: 4 });
    held
      .options(A, { location_report: "1", voice_recognize: "1", customer_service: "0" })
      .callbackConfig(A, pushFor("prod-6gni9ity244a6ea3"))
      .check();
    assert.deepEqual(step.summary.outputs, { locationReport: "1", locationBefore: "0", pushConfigId: `${A}/callback-config` });
    assert.equal(step.counts.token, 1, "one stable_token for the account, shared by both resource types");
    assertStateMatchesAccounts(step.state, env.emulator);
    const types = [...wechatResources(step.state).values()].map((r) => r.type).sort();
    assert.deepEqual(types, [AUTHORIZER_OPTION, AUTHORIZER_OPTION, AUTHORIZER_OPTION, CALLBACK_CONFIG]);
  });

  it("3. a second preview and a second up change nothing", async () => {
    const preview = await stack.run("preview");
    assert.deepEqual(changes(preview), { ...none, same: 4 });
    assert.equal(preview.counts.total, 0);
    const up = await stack.run("up");
    assert.deepEqual(changes(up), { ...none, same: 4 });
    assert.equal(up.counts.set, 0);
    held.check();
    assertStateMatchesAccounts(up.state, env.emulator);
  });

  it("4. a new cloudbaseEnv updates message-push in place with one set", async () => {
    stack.config["wechat-quickstart:cloudbaseEnv"] = "staging-6gni9ity244a6ea3";
    const step = await stack.run("up");
    assert.deepEqual(changes(step), { ...none, update: 1, same: 3 });
    assert.deepEqual(stepsOf(step), ["update message-push"]);
    // The environment is in both sections, so both changed and both are sent.
    assert.deepEqual(setsOf(step, SET_CALLBACK_CONFIG), [[A, pushFor("staging-6gni9ity244a6ea3")]]);
    assert.equal(step.counts.set, 1);
    held.callbackConfig(A, pushFor("staging-6gni9ity244a6ea3")).check();
    assertStateMatchesAccounts(step.state, env.emulator);
  });

  it("6. refresh after up finds no change", async () => {
    const step = await stack.run("refresh");
    assert.deepEqual(changes(step), { ...none, same: 4 });
    assert.equal(step.counts.set, 0);
    held.check();
    assertStateMatchesAccounts(step.state, env.emulator);
  });

  it("7. an out-of-band change shows up on refresh, and the next up restores the declared value", async () => {
    env.emulator.setOption(A, "voice_recognize", "0");
    const refresh = await stack.run("refresh");
    assert.deepEqual(changes(refresh), { ...none, update: 1, same: 3 });
    assert.deepEqual(stepsOf(refresh), ["update voice-recognize"]);
    assert.equal(resourceNamed(refresh.state, "voice-recognize").outputs.optionValue, "0");
    held.options(A, { voice_recognize: "0" }).check();
    const up = await stack.run("up");
    assert.deepEqual(changes(up), { ...none, update: 1, same: 3 });
    assert.deepEqual(setsOf(up, SET_OPTION), [[A, { option_name: "voice_recognize", option_value: "1" }]]);
    held.options(A, { voice_recognize: "1" }).check();
    assertStateMatchesAccounts(up.state, env.emulator);
  });

  it("9. destroy retains what is retain and restores customer_service, leaving no resource in the state", async () => {
    const step = await stack.run("destroy");
    assert.deepEqual(changes(step), { ...none, delete: 4 });
    // location-report, voice-recognize and message-push are retained; customer-service goes back to "1".
    assert.deepEqual(setsOf(step, SET_OPTION), [[A, { option_name: "customer_service", option_value: "1" }]]);
    assert.equal(step.counts.set, 1);
    held.options(A, { customer_service: "1" }).check();
    assert.deepEqual(step.state?.resources ?? [], []);
  });
});

// =====================================================================================================================
// examples/platform-fleet
// =====================================================================================================================

interface FleetEntry {
  appId: string;
  locationReport?: 0 | 1 | 2;
  voiceRecognize?: 0 | 1;
  customerService?: 0 | 1;
  cloudbaseEnv?: string;
}

describe("lifecycle: examples/platform-fleet (the demo platform; accountsFile, then the accounts config)", function () {
  this.timeout(STEP_TIMEOUT);
  stepsInOrder();
  const env = useEmulator(2);
  let stack: LifecycleStack;
  let held: ExpectedAccounts;
  let F1: string;
  let F2: string;
  let accounts: FleetEntry[];
  let accountsFile: string;
  const writeAccounts = () => fs.writeFileSync(accountsFile, JSON.stringify(accounts, null, 2));
  const pushOn = (cloudbaseEnv: string, enable = true) => ({
    enable,
    callbacks: [rule("text", cloudbaseEnv, "wechatPush"), rule("event", cloudbaseEnv, "wechatPush", "user_enter_tempsession")],
  });

  before(() => {
    [F1, F2] = env.fleet.map((account) => account.appId);
    held = new ExpectedAccounts(env.emulator);
    accounts = [
      { appId: A, locationReport: 1, voiceRecognize: 1, customerService: 0, cloudbaseEnv: "prod-env" },
      { appId: F1, locationReport: 2, cloudbaseEnv: "f1-env" },
      { appId: F2, voiceRecognize: 1, customerService: 1 },
    ];
    stack = new LifecycleStack({
      emulator: env.emulator,
      cwd: path.join(EXAMPLES, "platform-fleet"),
      stack: "fleet",
      ...platformCredentials(env.baseUrl, refreshTokens(env.fleet)),
    });
    accountsFile = path.join(stack.backendDir, "accounts.json");
    writeAccounts();
    stack.config["wechat-platform-fleet:accountsFile"] = accountsFile;
  });
  after(() => stack?.dispose());

  it("1. preview (type-checked by ts-node) shows eight creates and calls no API", async () => {
    const step = await stack.run("preview", { transpileOnly: false });
    assert.deepEqual(changes(step), { ...none, create: 8 });
    assert.equal(step.counts.total, 0);
    assertNoResources(step);
    held.check();
  });

  it("2. up applies every account's settings", async () => {
    const step = await stack.run("up");
    assert.deepEqual(changes(step), { ...none, create: 8 });
    held
      .options(A, { location_report: "1", voice_recognize: "1", customer_service: "0" })
      .callbackConfig(A, { function_config: pushOn("prod-env") })
      .options(F1, { location_report: "2" })
      .callbackConfig(F1, { function_config: pushOn("f1-env") })
      .options(F2, { voice_recognize: "1", customer_service: "1" })
      .check();
    assert.deepEqual(step.summary.outputs, { managedAccounts: 3 });
    assert.equal(step.counts.token, 4, "one component token, one authorizer token per account");
    assertStateMatchesAccounts(step.state, env.emulator);
  });

  it("3. a second preview and a second up change nothing", async () => {
    const preview = await stack.run("preview");
    assert.deepEqual(changes(preview), { ...none, same: 8 });
    assert.equal(preview.counts.total, 0);
    const up = await stack.run("up");
    assert.deepEqual(changes(up), { ...none, same: 8 });
    assert.equal(up.counts.set, 0);
    held.check();
    assertStateMatchesAccounts(up.state, env.emulator);
  });

  it("3b. the same fleet as the `accounts` config (no file) is the same program: nothing changes", async () => {
    stack.config["wechat-platform-fleet:accountsFile"] = "";
    stack.config["wechat-platform-fleet:accounts"] = JSON.stringify(accounts);
    const step = await stack.run("up");
    assert.deepEqual(changes(step), { ...none, same: 8 });
    assert.equal(step.counts.total, 0);
    held.check();
    assertStateMatchesAccounts(step.state, env.emulator);
  });

  it("4. editing one account's option updates that option alone", async () => {
    accounts[1].locationReport = 1;
    stack.config["wechat-platform-fleet:accounts"] = JSON.stringify(accounts);
    const step = await stack.run("up");
    assert.deepEqual(changes(step), { ...none, update: 1, same: 7 });
    assert.deepEqual(stepsOf(step), [`update ${F1}-location_report`]);
    assert.deepEqual(setsOf(step, SET_OPTION), [[F1, { option_name: "location_report", option_value: "1" }]]);
    assert.equal(step.counts.set, 1);
    held.options(F1, { location_report: "1" }).check();
    assertStateMatchesAccounts(step.state, env.emulator);
  });

  it("6. refresh after up finds no change", async () => {
    const step = await stack.run("refresh");
    assert.deepEqual(changes(step), { ...none, same: 8 });
    assert.equal(step.counts.set, 0);
    held.check();
    assertStateMatchesAccounts(step.state, env.emulator);
  });

  it("7. an out-of-band change shows up on refresh, and the next up restores the declared value", async () => {
    env.emulator.setCallbackConfig(F1, { function_config: { enable: false } });
    const refresh = await stack.run("refresh");
    assert.deepEqual(changes(refresh), { ...none, update: 1, same: 7 });
    assert.deepEqual(stepsOf(refresh), [`update ${F1}-push`]);
    assert.equal((resourceNamed(refresh.state, `${F1}-push`).outputs.functionConfig as Record<string, unknown>).enable, false);
    held.callbackConfig(F1, { function_config: pushOn("f1-env", false) }).check();
    const up = await stack.run("up");
    assert.deepEqual(changes(up), { ...none, update: 1, same: 7 });
    assert.deepEqual(setsOf(up, SET_CALLBACK_CONFIG), [[F1, { function_config: pushOn("f1-env") }]]);
    held.callbackConfig(F1, { function_config: pushOn("f1-env") }).check();
    assertStateMatchesAccounts(up.state, env.emulator);
  });

  it("8. removing an account deletes its resources: options retained, push disabled", async () => {
    accounts = accounts.filter((account) => account.appId !== F1);
    stack.config["wechat-platform-fleet:accounts"] = JSON.stringify(accounts);
    const step = await stack.run("up");
    assert.deepEqual(changes(step), { ...none, delete: 2, same: 6 });
    assert.deepEqual(stepsOf(step), [`delete ${F1}-location_report`, `delete ${F1}-push`]);
    assert.deepEqual(setsOf(step, SET_CALLBACK_CONFIG), [[F1, { function_config: pushOn("f1-env", false) }]]);
    assert.equal(step.counts.set, 1);
    held.callbackConfig(F1, { function_config: pushOn("f1-env", false) }).check();
    assert.deepEqual(step.summary.outputs, { managedAccounts: 2 });
    assert.equal(wechatResources(step.state).size, 6);
  });

  it("9. destroy retains the options, disables the push, and leaves no resource in the state", async () => {
    const step = await stack.run("destroy");
    assert.deepEqual(changes(step), { ...none, delete: 6 });
    assert.deepEqual(setsOf(step, SET_CALLBACK_CONFIG), [[A, { function_config: pushOn("prod-env", false) }]]);
    assert.equal(step.counts.set, 1);
    held.callbackConfig(A, { function_config: pushOn("prod-env", false) }).check();
    assert.deepEqual(step.state?.resources ?? [], []);
  });
});

// =====================================================================================================================
// examples/cloudbase
// =====================================================================================================================

describe("lifecycle: examples/cloudbase (envId from config, the demo account's own credentials)", function () {
  this.timeout(STEP_TIMEOUT);
  stepsInOrder();
  const env = useEmulator();
  let stack: LifecycleStack;
  let held: ExpectedAccounts;
  const envId = "prod-6gni9ity244a6ea3";
  /** What the account routed to before the program: destroy (deleteBehavior restore) must put it back. */
  const legacy: CallbackConfigData = {
    function_config: { enable: true, callbacks: [rule("text", "legacy-env", "legacyHandler")] },
    container_config: { enable: false, qbase_env: "legacy-env", qbase_container_path: "/legacy", text_mode: 2 },
  };
  const functions = (textFunction = "onMessage") => ({
    enable: true,
    callbacks: [
      rule("text", envId, textFunction),
      rule("image", envId, "onMessage"),
      rule("event", envId, "onEnterSession", "user_enter_tempsession"),
    ],
  });
  const container = (qbaseContainerPath: string) => ({
    enable: true,
    qbase_env: envId,
    qbase_container_path: qbaseContainerPath,
    text_mode: 1,
  });

  before(() => {
    env.emulator.setCallbackConfig(A, legacy);
    held = new ExpectedAccounts(env.emulator);
    const credentials = accountCredentials(env.baseUrl);
    stack = new LifecycleStack({
      emulator: env.emulator,
      cwd: path.join(EXAMPLES, "cloudbase"),
      stack: "cloudbase",
      config: { ...credentials.config, "wechat-cloudbase:authorizerAppId": A, "wechat-cloudbase:envId": envId },
      secrets: credentials.secrets,
    });
  });
  after(() => stack?.dispose());

  it("1. preview (type-checked by ts-node) shows one create and calls no API", async () => {
    const step = await stack.run("preview", { transpileOnly: false });
    assert.deepEqual(changes(step), { ...none, create: 1 });
    assert.equal(step.counts.total, 0);
    assertNoResources(step);
    held.check();
  });

  it("2. up routes the account's messages to the environment from config", async () => {
    const step = await stack.run("up");
    assert.deepEqual(changes(step), { ...none, create: 1 });
    held.callbackConfig(A, { function_config: functions(), container_config: container("/wechat-push") }).check();
    assert.equal(step.summary.outputs.routedTo, envId);
    assert.deepEqual(step.summary.outputs.previousConfig, sectionsOf(legacy));
    assertStateMatchesAccounts(step.state, env.emulator);
  });

  it("3. a second preview and a second up change nothing", async () => {
    const preview = await stack.run("preview");
    assert.deepEqual(changes(preview), { ...none, same: 1 });
    assert.equal(preview.counts.total, 0);
    const up = await stack.run("up");
    assert.deepEqual(changes(up), { ...none, same: 1 });
    assert.equal(up.counts.set, 0);
    held.check();
    assertStateMatchesAccounts(up.state, env.emulator);
  });

  it("4. a new containerPath updates in place, sending only container_config", async () => {
    stack.config["wechat-cloudbase:containerPath"] = "/v2/push";
    const step = await stack.run("up");
    assert.deepEqual(changes(step), { ...none, update: 1 });
    assert.deepEqual(setsOf(step, SET_CALLBACK_CONFIG), [[A, { container_config: container("/v2/push") }]]);
    held.callbackConfig(A, { container_config: container("/v2/push") }).check();
    assertStateMatchesAccounts(step.state, env.emulator);
  });

  it("6. refresh after up finds no change", async () => {
    const step = await stack.run("refresh");
    assert.deepEqual(changes(step), { ...none, same: 1 });
    assert.equal(step.counts.set, 0);
    held.check();
    assertStateMatchesAccounts(step.state, env.emulator);
  });

  it("7. an out-of-band change shows up on refresh, and the next up restores the declared routing", async () => {
    env.emulator.setCallbackConfig(A, { function_config: functions("someoneElse") });
    const refresh = await stack.run("refresh");
    assert.deepEqual(changes(refresh), { ...none, update: 1 });
    held.callbackConfig(A, { function_config: functions("someoneElse") }).check();
    assertStateMatchesAccounts(refresh.state, env.emulator);
    const up = await stack.run("up");
    assert.deepEqual(changes(up), { ...none, update: 1 });
    assert.deepEqual(setsOf(up, SET_CALLBACK_CONFIG), [[A, { function_config: functions() }]]);
    held.callbackConfig(A, { function_config: functions() }).check();
    assertStateMatchesAccounts(up.state, env.emulator);
  });

  it("9. destroy restores the routing the account had before, and leaves no resource in the state", async () => {
    const step = await stack.run("destroy");
    assert.deepEqual(changes(step), { ...none, delete: 1 });
    assert.deepEqual(setsOf(step, SET_CALLBACK_CONFIG), [[A, legacy]]);
    held.callbackConfig(A, legacy).check();
    assert.deepEqual(step.state?.resources ?? [], []);
  });
});
