/**
 * What the provider learns from WeChat becomes data only once the endpoint's schema accepted it, and an outcome it
 * does not know is never recorded as known: a set whose answer was lost is read back, and when even that fails,
 * the state claims nothing, so the next update sends.
 */
import { strict as assert } from "node:assert";
import { DEMO_CREDENTIALS, useEmulator } from "./support/emulator";
import { HostedProvider, ProviderJson, hostedProvider } from "./support/providerHost";

const appId = DEMO_CREDENTIALS.appId;
const GET_OPTION = "/cgi-bin/component/get_authorizer_option";
const SET_OPTION = "/cgi-bin/component/set_authorizer_option";
const GET_PUSH = "/tcb/getcallbackconfig";
const SET_PUSH = "/tcb/setcallbackconfig";
const option = { authorizerAppId: appId, optionName: "location_report", optionValue: "1", deleteBehavior: "retain" };
const container = { enable: true, qbaseEnv: "prod-env", qbaseContainerPath: "/push", textMode: 1 };
const push = { authorizerAppId: appId, containerConfig: container, deleteBehavior: "restore" };

/** The error an operation rejects with, with what Pulumi keeps of a partial failure. */
async function failure(operation: Promise<unknown>): Promise<Error & { id?: string; properties?: ProviderJson }> {
  return operation.then(
    () => assert.fail("the operation should fail"),
    (error: Error) => error,
  );
}

/** The emulator, and providers that try once with a short timeout: each fault below decides the outcome by itself. */
function useSuite() {
  const env = useEmulator();
  const provider = (resource: "AuthorizerOption" | "CallbackConfig"): Promise<HostedProvider> =>
    hostedProvider(resource, env.accountConfig({ "wechat:maxAttempts": "1", "wechat:requestTimeoutMs": "500" }));
  return { env, provider };
}

describe("answers: a success answer that does not fit the endpoint's shape is an error naming the API, never data", () => {
  const suite = useSuite();
  it('{"errcode":0,"option_value":null} from get_authorizer_option: nothing is set, nothing is recorded', async () => {
    suite.env.emulator.injectFault({ path: GET_OPTION, body: { errcode: 0, errmsg: "ok", option_value: null } });
    const error = await failure((await suite.provider("AuthorizerOption")).create(option));
    assert.match(
      error.message,
      /^WeChat API get_authorizer_option for authorizer wx0000000000000001 answered in a shape WeChat does not document \(option_value: /,
    );
    assert.match(error.message, /nothing from that answer was used/);
    assert.equal(error.id, undefined, "not a partial failure: no state is recorded");
    assert.equal(suite.env.emulator.callCounts().set, 0);
  });

  it('{"errcode":0,"option_value":"7"}: a value WeChat does not document for the option is not data either', async () => {
    suite.env.emulator.injectFault({ path: GET_OPTION, body: { errcode: 0, errmsg: "ok", option_value: "7" } });
    const error = await failure((await suite.provider("AuthorizerOption")).create(option));
    assert.match(error.message, /get_authorizer_option .*\(option_value: expected one of 0, 1, 2 for location_report, got "7"\)/);
    assert.equal(error.id, undefined);
    assert.equal(suite.env.emulator.callCounts().set, 0);
  });

  it("text_mode 3 from getcallbackconfig: restore would write back a mode WeChat does not document", async () => {
    const stored = { enable: true, qbase_env: "real-env", qbase_container_path: "/real", text_mode: 3 };
    suite.env.emulator.injectFault({ path: GET_PUSH, body: { errcode: 0, errmsg: "ok", data: { container_config: stored } } });
    const error = await failure((await suite.provider("CallbackConfig")).create(push));
    assert.match(error.message, /getcallbackconfig .*\(data\.container_config\.text_mode: /);
    assert.equal(suite.env.emulator.callCounts().set, 0);
  });

  it('{"errcode":0,"data":{}} from getcallbackconfig: no empty previousConfig that restore would write over the account', async () => {
    suite.env.emulator.setCallbackConfig(appId, {
      container_config: { enable: true, qbase_env: "real-env", qbase_container_path: "/real", text_mode: 2 },
    });
    suite.env.emulator.injectFault({ path: GET_PUSH, body: { errcode: 0, errmsg: "ok", data: {} }, times: 1 });
    const error = await failure((await suite.provider("CallbackConfig")).create(push));
    assert.match(error.message, /getcallbackconfig for authorizer wx0000000000000001 answered in a shape .*\(data\.container_config: /);
    assert.equal(suite.env.emulator.callCounts().set, 0);
    assert.equal(suite.env.emulator.callbackConfig(appId).container_config.qbase_env, "real-env");
  });

  it("a refresh that gets a malformed answer fails, leaving state as it was", async () => {
    const hosted = await suite.provider("AuthorizerOption");
    const outs = { ...option, previousValue: "0" };
    suite.env.emulator.injectFault({ path: GET_OPTION, body: { errcode: 0 } });
    const error = await failure(hosted.read(`${appId}/location_report`, outs));
    assert.match(error.message, /get_authorizer_option .* answered in a shape WeChat does not document \(option_value: /);
  });

  for (const [what, body] of [
    ['an errcode that is a string ({"errcode":"system busy"})', { errcode: "system busy" }],
    ['an errcode that is null ({"errcode":null})', { errcode: null }],
  ] as const) {
    it(`${what} on a set is not success: the option is read back and state says what the account holds`, async () => {
      suite.env.emulator.injectFault({ path: SET_OPTION, body, times: 1 });
      const error = await failure((await suite.provider("AuthorizerOption")).create(option));
      assert.match(error.message, /set_authorizer_option for authorizer wx0000000000000001 answered in a shape .*\(errcode: /);
      assert.equal(error.id, `${appId}/location_report`);
      assert.equal(error.properties?.optionValue, "0", "the read-back value, not the declared one");
      assert.equal(error.properties?.previousValue, "0");
      assert.equal(suite.env.emulator.options(appId).location_report, "0");
    });
  }

  it("a token answer without a token is an error naming stable_token", async () => {
    suite.env.emulator.injectFault({ path: "/cgi-bin/stable_token", body: { expires_in: 7200 } });
    const error = await failure((await suite.provider("AuthorizerOption")).create(option));
    assert.match(error.message, /^WeChat API stable_token for authorizer wx0000000000000001 answered in a shape .*\(access_token: /);
  });
});

describe("answers: a set whose answer was lost", () => {
  const suite = useSuite();
  it("is read back: WeChat applied it, so create succeeds and records the declared value", async () => {
    suite.env.emulator.injectFault({ path: SET_OPTION, drop: true, afterApply: true, times: 1 });
    const { outs } = await (await suite.provider("AuthorizerOption")).create(option);
    assert.equal(outs.optionValue, "1");
    assert.equal(suite.env.emulator.options(appId).location_report, "1");
    assert.equal(suite.env.emulator.filter({ path: GET_OPTION }).length, 2, "the value before, then the value after");
  });

  it("is read back after a timeout too, on update", async () => {
    const hosted = await suite.provider("AuthorizerOption");
    const olds = { ...option, previousValue: "0" };
    suite.env.emulator.setOption(appId, "location_report", "1");
    suite.env.emulator.injectFault({ path: SET_OPTION, delayMs: 1500, afterApply: true, times: 1 });
    const { outs } = await hosted.update(`${appId}/location_report`, olds, { ...option, optionValue: "2" });
    assert.equal(outs.optionValue, "2");
    assert.equal(suite.env.emulator.options(appId).location_report, "2");
  });

  it("and a read back that fails too: state claims no value, so reverting the program still sends the set", async () => {
    const hosted = await suite.provider("AuthorizerOption");
    const olds = { ...option, optionValue: "0", previousValue: "0" };
    suite.env.emulator.injectFault({ path: SET_OPTION, drop: true, afterApply: true, times: 1 });
    suite.env.emulator.injectFault({ path: GET_OPTION, drop: true, times: 1 });
    const error = await failure(hosted.update(`${appId}/location_report`, olds, { ...option, optionValue: "1" }));
    assert.match(error.message, /set_authorizer_option for authorizer wx0000000000000001 failed: network error/);
    assert.equal(error.id, `${appId}/location_report`);
    assert.ok(!("optionValue" in (error.properties ?? {})) || error.properties?.optionValue === undefined, "no value is claimed");
    assert.equal(suite.env.emulator.options(appId).location_report, "1", "WeChat did apply it");
    // The next up, with the program reverted to "0": the old state would have said "0" and sent nothing.
    suite.env.emulator.clearRequests();
    const next = await suite.provider("AuthorizerOption");
    await next.update(`${appId}/location_report`, error.properties, { ...option, optionValue: "0" });
    assert.deepEqual(
      suite.env.emulator.filter({ path: SET_OPTION }).map((request) => request.body),
      [{ option_name: "location_report", option_value: "0" }],
    );
    assert.equal(suite.env.emulator.options(appId).location_report, "0");
  });

  it("on a push configuration: read back, and when that fails the sent section is left out of state", async () => {
    const hosted = await suite.provider("CallbackConfig");
    suite.env.emulator.injectFault({ path: SET_PUSH, drop: true, afterApply: true, times: 1 });
    const { outs } = await hosted.create(push);
    assert.deepEqual(outs.containerConfig, container);

    const olds = { ...outs };
    const moved = { ...push, containerConfig: { ...container, qbaseContainerPath: "/moved" } };
    suite.env.emulator.injectFault({ path: SET_PUSH, drop: true, afterApply: true, times: 1 });
    suite.env.emulator.injectFault({ path: GET_PUSH, drop: true, times: 1 });
    const error = await failure((await suite.provider("CallbackConfig")).update(`${appId}/callback-config`, olds, moved));
    assert.equal(error.properties?.containerConfig, undefined, "no section is claimed");
    assert.deepEqual(error.properties?.previousConfig, outs.previousConfig, "what to restore survives");
    assert.equal(suite.env.emulator.callbackConfig(appId).container_config.qbase_container_path, "/moved");
  });

  it("destroy still restores a section whose last set was lost (state holds no value for it)", async () => {
    suite.env.emulator.setCallbackConfig(appId, {
      container_config: { enable: true, qbase_env: "real-env", qbase_container_path: "/real", text_mode: 2 },
    });
    const { outs } = await (await suite.provider("CallbackConfig")).create(push);
    const moved = { ...push, containerConfig: { ...container, qbaseContainerPath: "/moved" } };
    suite.env.emulator.injectFault({ path: SET_PUSH, drop: true, afterApply: true, times: 1 });
    suite.env.emulator.injectFault({ path: GET_PUSH, drop: true, times: 1 });
    const error = await failure((await suite.provider("CallbackConfig")).update(`${appId}/callback-config`, outs, moved));
    assert.equal(error.properties?.containerConfig, undefined);

    await (await suite.provider("CallbackConfig")).delete(`${appId}/callback-config`, error.properties);
    assert.deepEqual(suite.env.emulator.callbackConfig(appId).container_config, {
      enable: true,
      qbase_env: "real-env",
      qbase_container_path: "/real",
      text_mode: 2,
    });
  });
});
