/**
 * The promises about credentials and answers, each through the engine (the real Pulumi CLI when installed) with the
 * settings fixture (test/fixtures/settings: resources from the JSON stack config `wechat-settings:spec`), asserting
 * what the emulator received and holds, what the run printed, and what the state file contains.
 */
import { strict as assert } from "node:assert";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { DEMO_CREDENTIALS, WeChatEmulator } from "./emulator/server";
import { RunEngineOptions, RunEngineResult, StackState, isSecret, readState, runEngine, stateFileOf } from "./harness";

const FIXTURE = path.resolve(__dirname, "..", "..", "test", "fixtures", "settings");
const FLEET_EXAMPLE = path.resolve(__dirname, "..", "..", "examples", "platform-fleet");
const A = DEMO_CREDENTIALS.appId;
const SET_OPTION = "/cgi-bin/component/set_authorizer_option";
const GET_OPTION = "/cgi-bin/component/get_authorizer_option";

type Spec = { options?: Record<string, unknown>[]; callbackConfigs?: Record<string, unknown>[] };
const loc = (extra: Record<string, unknown> = {}) => ({
  name: "loc",
  authorizerAppId: A,
  optionName: "location_report",
  optionValue: 1,
  ...extra,
});

/** A stack of the fixture with its own emulator and file backend, run with the demo account's own credentials. */
function useStack() {
  const stack = {
    emulator: undefined as unknown as WeChatEmulator,
    baseUrl: "",
    backendDir: "",
    config: {} as Record<string, string>,
    secrets: {} as Record<string, string>,
    async run(command: RunEngineOptions["command"], spec: Spec, extra: Partial<RunEngineOptions> = {}): Promise<RunEngineResult> {
      return runEngine({
        command,
        cwd: FIXTURE,
        stack: "trust",
        backendDir: stack.backendDir,
        transpileOnly: true,
        ...extra,
        config: { ...stack.config, "wechat-settings:spec": JSON.stringify(spec), ...extra.config },
        secrets: { ...stack.secrets, ...extra.secrets },
      });
    },
    state(): StackState {
      return (
        readState(stateFileOf({ cwd: FIXTURE, stack: "trust", backendDir: stack.backendDir }), { decrypt: true }) ?? {
          resources: [],
          outputs: {},
        }
      );
    },
    /** The wechat resources of the state, by name. */
    settings() {
      const entries = stack.state().resources.filter((r) => r.type.startsWith("pulumi-nodejs:dynamic/"));
      return Object.fromEntries(entries.map((r) => [r.urn.split("::").pop()!, r]));
    },
  };
  beforeEach(async () => {
    stack.emulator = new WeChatEmulator();
    stack.emulator.addDemo();
    stack.baseUrl = await stack.emulator.start();
    stack.backendDir = fs.mkdtempSync(path.join(os.tmpdir(), "pulumi-wechat-trust-"));
    stack.config = { "wechat:apiBaseUrl": stack.baseUrl, "wechat:appId": A, "wechat:retryBaseDelayMs": "1" };
    stack.secrets = { "wechat:appSecret": DEMO_CREDENTIALS.appSecret };
  });
  afterEach(async () => {
    await stack.emulator.stop();
    fs.rmSync(stack.backendDir, { recursive: true, force: true });
  });
  return stack;
}

const output = (result: RunEngineResult) => `${result.stdout}\n${result.stderr}`;
const failed = (result: RunEngineResult, pattern: RegExp) => {
  assert.notEqual(result.code, 0, `the run should fail:\n${output(result)}`);
  assert.match(output(result), pattern);
};
const succeeded = (result: RunEngineResult) => assert.equal(result.code, 0, output(result));

describe("trust: a production token is never broken", function () {
  this.timeout(300_000);
  const stack = useStack();

  it("after another server forced a new token, the next up asks stable_token in normal mode and applies", async () => {
    succeeded(await stack.run("up", { options: [loc()] }));
    stack.emulator.rotateStableToken(A);
    stack.emulator.clearRequests();
    succeeded(await stack.run("up", { options: [loc({ optionValue: 2 })] }));
    const asked = stack.emulator
      .filter({ path: "/cgi-bin/stable_token" })
      .map((request) => (request.body as { force_refresh: unknown }).force_refresh);
    assert.deepEqual(asked, [false]);
    assert.equal(stack.emulator.options(A).location_report, "2");
    assert.equal(stack.settings().loc.outputs.optionValue, "2");
  });
});

describe("trust: a write never lands on another account", function () {
  this.timeout(300_000);
  const stack = useStack();

  it("a ready token without wechat:appId is refused before any call", async () => {
    const token = stack.emulator.issueAccessToken(A);
    const result = await stack.run(
      "up",
      { options: [loc()] },
      { config: { "wechat:appId": "" }, secrets: { "wechat:appSecret": "", "wechat:accessToken": token } },
    );
    failed(result, /Incomplete credentials for a ready authorizer access token .*set wechat:appId/);
    assert.equal(stack.emulator.callCounts().total, 0);
    assert.deepEqual(stack.settings(), {});
  });

  it("a resource naming another account fails at preview, and up sends nothing", async () => {
    const [b] = stack.emulator.addFleet(DEMO_CREDENTIALS.componentAppId, 1);
    const token = stack.emulator.issueAccessToken(A);
    const ready = { secrets: { "wechat:appSecret": "", "wechat:accessToken": token } };
    const spec = { options: [loc({ authorizerAppId: b.appId })] };
    failed(await stack.run("preview", spec, ready), /manage only that account: use wx0000000000000001/);
    failed(await stack.run("up", spec, ready), /manage only that account/);
    assert.equal(stack.emulator.callCounts().total, 0);
    assert.equal(stack.emulator.options(b.appId).location_report, "0");
    assert.deepEqual(stack.settings(), {});
  });
});

describe("trust: a configuration error", function () {
  this.timeout(300_000);
  const stack = useStack();

  it("fails every resource with that error, and the WECHAT_* environment is never used instead", async () => {
    const fallback = new WeChatEmulator();
    fallback.addDemo();
    const fallbackUrl = await fallback.start();
    try {
      const env = { WECHAT_API_BASE_URL: fallbackUrl, WECHAT_APP_ID: A, WECHAT_APP_SECRET: DEMO_CREDENTIALS.appSecret };
      const spec = {
        options: [loc(), loc({ name: "voice", optionName: "voice_recognize" })],
        callbackConfigs: [{ name: "push", authorizerAppId: A, containerConfig: { qbaseEnv: "e1", qbaseContainerPath: "/p", textMode: 1 } }],
      };
      const result = await stack.run("up", spec, { env, config: { "wechat:maxConcurrency": "abc" } });
      failed(result, /wechat:maxConcurrency must be a whole number \(got "abc"\)/);
      assert.equal(fallback.callCounts().total, 0, "the environment's API was never called");
      assert.equal(stack.emulator.callCounts().total, 0);
      assert.deepEqual(stack.settings(), {});
    } finally {
      await fallback.stop();
    }
  });

  it("a plain-http URL that only starts like a loopback address is refused", async () => {
    const port = new URL(stack.baseUrl).port;
    failed(
      await stack.run("up", { options: [loc()] }, { config: { "wechat:apiBaseUrl": `http://127.0.0.1.nip.io:${port}` } }),
      /must use https/,
    );
    assert.equal(stack.emulator.callCounts().total, 0);
  });

  it("swapped refresh-token keys and values are named by position, the refresh token never printed", async () => {
    const refreshToken = "refreshtoken@@@swapped-secret-value";
    const platform = {
      config: { "wechat:appId": "", "wechat:componentAppId": DEMO_CREDENTIALS.componentAppId },
      secrets: {
        "wechat:appSecret": "",
        "wechat:componentAppSecret": DEMO_CREDENTIALS.componentAppSecret,
        "wechat:componentVerifyTicket": DEMO_CREDENTIALS.componentVerifyTicket,
        "wechat:authorizerRefreshTokens": JSON.stringify({ [refreshToken]: A }),
      },
    };
    const result = await stack.run("up", { options: [loc()] }, platform);
    failed(
      result,
      /The key of entry 1 of wechat:authorizerRefreshTokens is not an authorizer appid \(its value is an appid: are key and value swapped\?\)/,
    );
    assert.doesNotMatch(output(result), /swapped-secret-value/);
    assert.doesNotMatch(
      fs.readFileSync(stateFileOf({ cwd: FIXTURE, stack: "trust", backendDir: stack.backendDir }), "utf8"),
      /swapped-secret-value/,
    );
  });
});

describe("trust: a value that came from a secret stays secret in state", function () {
  this.timeout(300_000);
  const stack = useStack();

  it("previousValue is secret when optionValue is, and previousConfig when a section holds a secret", async () => {
    stack.emulator.setOption(A, "location_report", "2");
    const push = {
      name: "push",
      authorizerAppId: A,
      containerConfig: { qbaseEnv: "secret-env-1", qbaseContainerPath: "/secret", textMode: 1 },
      secrets: ["containerConfig"],
    };
    succeeded(await stack.run("up", { options: [loc({ secrets: ["optionValue"] })], callbackConfigs: [push] }));
    const raw = readState(stateFileOf({ cwd: FIXTURE, stack: "trust", backendDir: stack.backendDir }))!;
    const byName = Object.fromEntries(raw.resources.map((r) => [r.urn.split("::").pop()!, r]));
    assert.ok(isSecret(byName.loc.outputs.optionValue) && isSecret(byName.loc.outputs.previousValue), "both values are stored encrypted");
    assert.ok(isSecret(byName.push.outputs.containerConfig) && isSecret(byName.push.outputs.previousConfig));
    // (The default provider's inputs hold the stack config, where this test's spec is plain: look at the resources.)
    assert.doesNotMatch(JSON.stringify([byName.loc, byName.push]), /secret-env-1|"\/secret"/);
    const opened = stack.settings();
    assert.deepEqual(opened.loc.outputs.previousValue, {
      "4dabf18193072939515e22adb298388d": "1b47061264138c4ac30d75fd1eb44270",
      value: "2",
    });
  });
});

describe("trust: an outcome the provider does not know is not recorded as known", function () {
  this.timeout(300_000);
  const stack = useStack();

  it("a set applied but unanswered, whose read-back fails too: reverting the program sets the value back", async () => {
    succeeded(await stack.run("up", { options: [loc()] }));
    stack.emulator.injectFault({ path: SET_OPTION, drop: true, afterApply: true, times: 1 });
    stack.emulator.injectFault({ path: GET_OPTION, drop: true, times: 1 });
    failed(
      await stack.run("up", { options: [loc({ optionValue: 2 })] }, { config: { "wechat:maxAttempts": "1" } }),
      /set_authorizer_option .*network error/,
    );
    assert.equal(stack.emulator.options(A).location_report, "2", "WeChat applied it");
    assert.equal(stack.settings().loc.outputs.optionValue, undefined, "state claims no value");
    stack.emulator.clearRequests();
    succeeded(await stack.run("up", { options: [loc()] }));
    assert.deepEqual(
      stack.emulator.filter({ path: SET_OPTION }).map((request) => request.body),
      [{ option_name: "location_report", option_value: "1" }],
    );
    assert.equal(stack.emulator.options(A).location_report, "1");
    assert.equal(stack.settings().loc.outputs.optionValue, "1");
  });
});

describe("trust: a malformed success answer is an error, never data", function () {
  this.timeout(300_000);
  const stack = useStack();

  it("option_value null: nothing is set and nothing enters the state", async () => {
    stack.emulator.injectFault({ path: GET_OPTION, body: { errcode: 0, errmsg: "ok", option_value: null } });
    failed(
      await stack.run("up", { options: [loc()] }),
      /get_authorizer_option for authorizer wx0000000000000001 answered in a shape WeChat does not document/,
    );
    assert.equal(stack.emulator.callCounts().set, 0);
    assert.deepEqual(stack.settings(), {});
  });

  it("data {}: the account's real push configuration is neither recorded as empty nor restored over", async () => {
    const real = { enable: true, qbase_env: "real-env", qbase_container_path: "/real", text_mode: 2 };
    stack.emulator.setCallbackConfig(A, { container_config: real });
    stack.emulator.injectFault({ path: "/tcb/getcallbackconfig", body: { errcode: 0, errmsg: "ok", data: {} } });
    const push = {
      name: "push",
      authorizerAppId: A,
      containerConfig: { qbaseEnv: "e1", qbaseContainerPath: "/p", textMode: 1 },
      deleteBehavior: "restore",
    };
    failed(await stack.run("up", { callbackConfigs: [push] }), /getcallbackconfig .* answered in a shape .*data\.container_config/);
    succeeded(await stack.run("destroy", { callbackConfigs: [push] }));
    assert.deepEqual(stack.emulator.callbackConfig(A).container_config, real);
    assert.equal(stack.emulator.callCounts().set, 0);
  });

  it('{"errcode":"system busy"} on a set is not success: the next up sends the set again', async () => {
    stack.emulator.injectFault({ path: SET_OPTION, body: { errcode: "system busy" }, times: 1 });
    failed(
      await stack.run("up", { options: [loc()] }, { config: { "wechat:maxAttempts": "1" } }),
      /set_authorizer_option .* answered in a shape .*\(errcode: /,
    );
    assert.equal(stack.settings().loc.outputs.optionValue, "0", "state says what the account holds");
    succeeded(await stack.run("up", { options: [loc()] }));
    assert.equal(stack.emulator.options(A).location_report, "1");
  });
});

describe("trust: one setting, one owner", function () {
  this.timeout(300_000);
  const stack = useStack();

  it("two resources declaring the same setting: the one checked second fails check, at preview and at up", async () => {
    // The program registers both at once, so which is checked first (the owner) is up to the engine.
    const spec = { options: [loc(), loc({ name: "loc-again", optionValue: 2 })] };
    failed(await stack.run("preview", spec), /another resource of this program already manages wx0000000000000001\/location_report/);
    assert.equal(stack.emulator.callCounts().total, 0);
    failed(await stack.run("up", spec), /already manages wx0000000000000001\/location_report/);
    // Only the owner is in the state, and only its value was sent.
    const owners = Object.keys(stack.settings());
    assert.equal(owners.length, 1, `one owner in the state, got ${owners.join(", ")}`);
    const value = owners[0] === "loc" ? "1" : "2";
    assert.deepEqual(
      stack.emulator.filter({ path: SET_OPTION }).map((request) => request.body),
      [{ option_name: "location_report", option_value: value }],
    );
    assert.equal(stack.emulator.options(A).location_report, value);
  });

  it("a replacement, which the engine checks twice, goes through: the new option set, the old one reset", async () => {
    succeeded(await stack.run("up", { options: [loc({ deleteBehavior: "reset" })] }));
    succeeded(await stack.run("up", { options: [loc({ optionName: "voice_recognize", deleteBehavior: "reset" })] }));
    assert.deepEqual(stack.emulator.options(A), { location_report: "0", voice_recognize: "1", customer_service: "0" });
    assert.equal(stack.settings().loc.id, `${A}/voice_recognize`);
  });

  it("a rename without an alias (create the new, delete the old) stays legal and leaves the setting to the new one", async () => {
    succeeded(await stack.run("up", { options: [loc({ deleteBehavior: "reset" })] }));
    succeeded(await stack.run("up", { options: [loc({ name: "location", deleteBehavior: "reset" })] }));
    assert.equal(stack.emulator.options(A).location_report, "1", "the old resource's reset was not sent");
    assert.deepEqual(Object.keys(stack.settings()), ["location"]);
  });
});

describe("trust: bad input is named, with what was given", function () {
  this.timeout(300_000);
  const stack = useStack();

  it("optionValue true: the property, the value's kind and what is expected", async () => {
    failed(
      await stack.run("preview", { options: [loc({ optionValue: true })] }),
      /optionValue.*must be a number or a numeric string, e\.g\. 1, got true \(a boolean\)/,
    );
    assert.equal(stack.emulator.callCounts().total, 0);
  });

  it("an own __proto__ key in a program's inputs is named and refused, at the top level or nested", async () => {
    // Without the check, Pulumi's serializer fails on the first ("promises were still active") and drops the second.
    const top = `{"name":"loc","authorizerAppId":"${A}","optionName":"location_report","optionValue":1,"__proto__":{"deleteBehavior":"reset"}}`;
    const nested = `{"name":"push","authorizerAppId":"${A}","containerConfig":{"__proto__":{"enable":false},"qbaseEnv":"e1","qbaseContainerPath":"/p","textMode":1}}`;
    const top_ = await stack.run("preview", JSON.parse(`{"options":[${top}]}`) as Spec);
    failed(top_, /AuthorizerOption "loc": __proto__ is not a property these resources use: remove the "__proto__" key/);
    const nested_ = await stack.run("preview", JSON.parse(`{"callbackConfigs":[${nested}]}`) as Spec);
    failed(nested_, /CallbackConfig "push": containerConfig\.__proto__ is not a property these resources use/);
    assert.equal(stack.emulator.callCounts().total, 0);
  });
});

describe("trust: WeChat's errmsg is printed clean, and errors carry no stack trace", function () {
  this.timeout(300_000);
  const stack = useStack();

  it("escape sequences and control characters are stripped; the advice for 89503 is printed", async () => {
    stack.emulator.injectFault({ path: SET_OPTION, errcode: 89503, errmsg: "\u001b[2K\r\u001b[32mResources: all unchanged\u001b[0m\n" });
    const result = await stack.run("up", { options: [loc()] });
    failed(result, /errcode 89503 this IP awaits the administrator's confirmation .*confirm it in the WeChat admin console/);
    // eslint-disable-next-line no-control-regex
    assert.doesNotMatch(output(result), /\u001b\[2K|\u001b\[32m/);
    assert.doesNotMatch(output(result), /^\s*Resources: all unchanged/m);
    assert.doesNotMatch(output(result), /at .*provider[/\\](client|context|authorizerOption)\.js/);
  });
});

describe("trust: a 45011 storm", function () {
  this.timeout(300_000);
  const stack = useStack();

  it("converges: backoffs free their slot, so the fleet's other calls go on, and every account ends as declared", async () => {
    const fleet = stack.emulator.addFleet(DEMO_CREDENTIALS.componentAppId, 9);
    const platform = {
      config: {
        "wechat:appId": "",
        "wechat:componentAppId": DEMO_CREDENTIALS.componentAppId,
        "wechat:maxConcurrency": "2",
        "wechat:retryBaseDelayMs": "20",
      },
      secrets: {
        "wechat:appSecret": "",
        "wechat:componentAppSecret": DEMO_CREDENTIALS.componentAppSecret,
        "wechat:componentVerifyTicket": DEMO_CREDENTIALS.componentVerifyTicket,
        "wechat:authorizerRefreshTokens": JSON.stringify(Object.fromEntries(fleet.map((account) => [account.appId, account.refreshToken]))),
      },
    };
    for (const account of fleet) stack.emulator.injectFault({ path: SET_OPTION, appId: account.appId, errcode: 45011, times: 2 });
    const spec = { options: fleet.map((account) => loc({ name: account.appId, authorizerAppId: account.appId })) };
    succeeded(await stack.run("up", spec, platform));
    for (const account of fleet) assert.equal(stack.emulator.options(account.appId).location_report, "1");
    const sets = stack.emulator.filter({ path: SET_OPTION }).map((request) => request.appId);
    assert.equal(sets.length, 27, "two refusals and one success per account");
    const first = sets[0];
    assert.ok(
      sets.slice(1, sets.lastIndexOf(first)).some((appId) => appId !== first),
      "others went on while one backed off",
    );
  });
});

describe("trust: a token command (examples/platform-fleet's token-command.js, the dev stack's credential)", function () {
  this.timeout(300_000);
  const stack = useStack();

  it("is run once per account per run, and refresh and destroy need nothing that expires in the saved configuration", async () => {
    const fleet = stack.emulator.addFleet(DEMO_CREDENTIALS.componentAppId, 3);
    const service = path.join(stack.backendDir, "token-service.json");
    fs.writeFileSync(
      service,
      JSON.stringify({
        apiBaseUrl: stack.baseUrl,
        componentAppId: DEMO_CREDENTIALS.componentAppId,
        componentAppSecret: DEMO_CREDENTIALS.componentAppSecret,
        componentVerifyTicket: DEMO_CREDENTIALS.componentVerifyTicket,
        refreshTokens: Object.fromEntries(fleet.map((account) => [account.appId, account.refreshToken])),
      }),
    );
    const accounts = path.join(stack.backendDir, "accounts.json");
    fs.writeFileSync(
      accounts,
      JSON.stringify(fleet.map((account) => ({ appId: account.appId, voiceRecognize: 1, cloudbaseEnv: "prod-env" }))),
    );
    const run = (command: RunEngineOptions["command"]) =>
      runEngine({
        command,
        cwd: FLEET_EXAMPLE,
        stack: "dev",
        backendDir: stack.backendDir,
        transpileOnly: true,
        config: { "wechat-platform-fleet:accountsFile": accounts, "wechat:apiBaseUrl": stack.baseUrl },
        env: { TOKEN_SERVICE_CONFIG: service },
      });
    const tokenCalls = () => stack.emulator.filter({ path: "/cgi-bin/component/api_authorizer_token" }).length;
    for (const command of ["up", "refresh", "destroy"] as const) {
      stack.emulator.clearRequests();
      succeeded(await run(command));
      assert.equal(tokenCalls(), fleet.length, `${command}: the command ran once per account`);
      if (command === "up") for (const account of fleet) assert.equal(stack.emulator.options(account.appId).voice_recognize, "1");
    }
    // destroy switched each account's push off (deleteBehavior "disable"), with tokens from the command.
    for (const account of fleet) assert.equal(stack.emulator.callbackConfig(account.appId).function_config.enable, false);
  });
});
