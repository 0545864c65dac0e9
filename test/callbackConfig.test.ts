/**
 * CallbackConfig, driven as Pulumi's host drives it (serialized stub, configure, then CRUD) against the emulator.
 * Assertions are on what the emulator received and holds, and on what the provider hands back to Pulumi.
 */
import { strict as assert } from "node:assert";
import { UNKNOWN } from "../provider/resource";
import { DEMO_CREDENTIALS, useEmulator } from "./support/emulator";
import { ProviderJson, hostedProvider, newHostProcess, useHostedProvider } from "./support/providerHost";

const appId = DEMO_CREDENTIALS.appId;
const env1 = "test-env-6gni9ity244a6ea3";
const setPath = "/tcb/setcallbackconfig";

const functionConfig = {
  enable: true,
  callbacks: [
    { msgType: "event", event: "user_enter_tempsession", env: env1, functionName: "callback", enable: true },
    { msgType: "image", env: env1, functionName: "images", enable: false },
  ],
};
const containerConfig = { enable: true, qbaseEnv: env1, qbaseContainerPath: "/container-echo", textMode: 1 };

/** The emulator and a hosted CallbackConfig provider for each test; `destroy` runs in a new host process, as `pulumi destroy` does. */
function useSuite() {
  const env = useEmulator();
  return Object.assign(
    useHostedProvider("CallbackConfig", () => env.accountConfig()),
    {
      env,
      async destroy(id: string, outs: Record<string, unknown>) {
        newHostProcess();
        await (await hostedProvider("CallbackConfig", env.accountConfig())).delete(id, outs);
      },
      sentBodies: () => env.emulator.filter({ path: setPath }).map((request) => request.body),
    },
  );
}

describe("CallbackConfig: create takes the managed sections over", () => {
  const suite = useSuite();
  it("sends both sections in the API's shape and keeps what the account had as previousConfig", async () => {
    const { id, outs } = await suite.up({ authorizerAppId: appId, functionConfig, containerConfig });
    assert.equal(id, `${appId}/callback-config`);
    assert.deepEqual(suite.sentBodies(), [
      {
        function_config: {
          enable: true,
          callbacks: [
            { msgType: "event", event: "user_enter_tempsession", env: env1, functionName: "callback", enable: true },
            { msgType: "image", event: "", env: env1, functionName: "images", enable: false },
          ],
        },
        container_config: { enable: true, qbase_env: env1, qbase_container_path: "/container-echo", text_mode: 1 },
      },
    ]);
    assert.deepEqual(suite.env.emulator.callbackConfig(appId), suite.sentBodies()[0] as object);
    assert.deepEqual(outs.previousConfig, {
      functionConfig: { enable: false, callbacks: [] },
      containerConfig: { enable: false, qbaseEnv: "", qbaseContainerPath: "", textMode: 1 },
    });
  });

  it("never sends a section the program leaves out, and does not record it", async () => {
    suite.env.emulator.setCallbackConfig(appId, {
      container_config: { enable: true, qbase_env: "other", qbase_container_path: "/keep", text_mode: 2 },
    });
    const { outs } = await suite.up({ authorizerAppId: appId, functionConfig });
    assert.deepEqual(Object.keys(suite.sentBodies()[0] as object), ["function_config"]);
    assert.deepEqual(suite.env.emulator.callbackConfig(appId).container_config, {
      enable: true,
      qbase_env: "other",
      qbase_container_path: "/keep",
      text_mode: 2,
    });
    assert.deepEqual(Object.keys(outs.previousConfig), ["functionConfig"]);
  });

  it("sends nothing when the account already matches", async () => {
    await suite.up({ authorizerAppId: appId, containerConfig });
    const second = await hostedProvider("CallbackConfig", suite.env.accountConfig());
    suite.env.emulator.clearRequests();
    const checked = await second.check({}, { authorizerAppId: appId, containerConfig });
    await second.create(checked.inputs);
    assert.deepEqual(suite.env.emulator.callCounts(), { set: 0, get: 1, token: 0, total: 1 });
  });

  it("keeps the resource with what the account holds when the set fails", async () => {
    suite.env.emulator.injectFault({ path: setPath, errcode: 48001 });
    const checked = await suite.provider.check({}, { authorizerAppId: appId, containerConfig });
    const failure = await suite.provider.create(checked.inputs).then(
      () => assert.fail("create should fail"),
      (error: { id?: string; properties?: ProviderJson; message: string }) => error,
    );
    assert.equal(failure.id, `${appId}/callback-config`);
    assert.deepEqual(failure.properties.containerConfig, { enable: false, qbaseEnv: "", qbaseContainerPath: "", textMode: 1 });
    assert.deepEqual(failure.properties.previousConfig.containerConfig, failure.properties.containerConfig);
    assert.match(failure.message, /permission set 49 or 64/);
  });
});

describe("CallbackConfig: diff is local and exact", () => {
  const suite = useSuite();
  it("ignores the order of callbacks", async () => {
    const { inputs, outs } = await suite.up({ authorizerAppId: appId, functionConfig });
    const reordered = await suite.provider.check(inputs, {
      authorizerAppId: appId,
      functionConfig: { ...functionConfig, callbacks: [...functionConfig.callbacks].reverse() },
    });
    assert.deepEqual(await suite.provider.diff("id", outs, reordered.inputs), { changes: false });
  });
  it("updates in place when a callback changes", async () => {
    const { inputs, outs } = await suite.up({ authorizerAppId: appId, functionConfig });
    const changed = await suite.provider.check(inputs, { ...inputs, functionConfig: { ...functionConfig, enable: false } });
    assert.deepEqual(await suite.provider.diff("id", outs, changed.inputs), { changes: true });
  });
  it("replaces when the account changes", async () => {
    const { inputs, outs } = await suite.up({ authorizerAppId: appId, containerConfig });
    assert.deepEqual(await suite.provider.diff("id", outs, { ...inputs, authorizerAppId: "wx00000000000000ff" }), {
      changes: true,
      replaces: ["authorizerAppId"],
    });
  });
  it("treats an environment id unknown during preview as a change", async () => {
    const { inputs, outs } = await suite.up({ authorizerAppId: appId, containerConfig });
    const news = { ...inputs, containerConfig: { ...inputs.containerConfig, qbaseEnv: UNKNOWN } };
    assert.deepEqual(await suite.provider.diff("id", outs, news), { changes: true });
  });
});

describe("CallbackConfig: update sends only what changed", () => {
  const suite = useSuite();
  it("sends only the changed section", async () => {
    const { id, inputs, outs } = await suite.up({ authorizerAppId: appId, functionConfig, containerConfig });
    suite.env.emulator.clearRequests();
    const { inputs: news } = await suite.provider.check(inputs, { ...inputs, containerConfig: { ...containerConfig, textMode: 2 } });
    await suite.provider.update(id, outs, news);
    assert.deepEqual(suite.sentBodies(), [
      { container_config: { enable: true, qbase_env: env1, qbase_container_path: "/container-echo", text_mode: 2 } },
    ]);
    assert.equal(suite.env.emulator.callbackConfig(appId).container_config.text_mode, 2);
  });

  it("reads a newly managed section first, so restore can put it back", async () => {
    suite.env.emulator.setCallbackConfig(appId, {
      container_config: { enable: true, qbase_env: "before", qbase_container_path: "/before", text_mode: 2 },
    });
    const { id, inputs, outs } = await suite.up({ authorizerAppId: appId, functionConfig, deleteBehavior: "restore" });
    const { inputs: news } = await suite.provider.check(inputs, { ...inputs, containerConfig });
    const updated = await suite.provider.update(id, outs, news);
    assert.deepEqual(updated.outs.previousConfig.containerConfig, {
      enable: true,
      qbaseEnv: "before",
      qbaseContainerPath: "/before",
      textMode: 2,
    });
    assert.equal(suite.env.emulator.callbackConfig(appId).container_config.qbase_env, env1);
    await suite.destroy(id, updated.outs);
    assert.deepEqual(suite.env.emulator.callbackConfig(appId).container_config, {
      enable: true,
      qbase_env: "before",
      qbase_container_path: "/before",
      text_mode: 2,
    });
  });

  it("leaves a section the program stops managing as it is on the account", async () => {
    const { id, inputs, outs } = await suite.up({ authorizerAppId: appId, functionConfig, containerConfig });
    suite.env.emulator.clearRequests();
    const { inputs: news } = await suite.provider.check(inputs, { authorizerAppId: appId, containerConfig });
    const updated = await suite.provider.update(id, outs, news);
    assert.equal(suite.env.emulator.callCounts().set, 0);
    assert.equal(suite.env.emulator.callbackConfig(appId).function_config.enable, true);
    assert.deepEqual(Object.keys(updated.outs.previousConfig), ["containerConfig"]);
  });
});

describe("CallbackConfig: read (refresh) tells the truth", () => {
  const suite = useSuite();
  it("reports an out-of-band change of a managed section, and ignores unmanaged ones", async () => {
    const { id, inputs, outs } = await suite.up({ authorizerAppId: appId, containerConfig });
    suite.env.emulator.setCallbackConfig(appId, { container_config: { text_mode: 2 }, function_config: { enable: true, callbacks: [] } });
    const { props } = await suite.provider.read(id, outs);
    assert.equal(props.containerConfig.textMode, 2);
    assert.equal(props.functionConfig, undefined);
    assert.deepEqual(await suite.provider.diff(id, props, inputs), { changes: true });
  });
});

describe("CallbackConfig: delete follows deleteBehavior", () => {
  const suite = useSuite();
  async function destroyWith(deleteBehavior: string) {
    suite.env.emulator.setCallbackConfig(appId, {
      container_config: { enable: true, qbase_env: "old-env", qbase_container_path: "/old", text_mode: 2 },
    });
    const created = await suite.up({ authorizerAppId: appId, functionConfig, containerConfig, deleteBehavior });
    suite.env.emulator.clearRequests();
    await suite.destroy(created.id, created.outs);
  }

  it("retain leaves the account as it is and calls nothing", async () => {
    await destroyWith("retain");
    assert.equal(suite.env.emulator.callbackConfig(appId).container_config.qbase_env, env1);
    assert.equal(suite.env.emulator.callCounts().total, 0);
  });
  it("disable sends the managed sections with enable: false", async () => {
    await destroyWith("disable");
    const held = suite.env.emulator.callbackConfig(appId);
    assert.equal(held.function_config.enable, false);
    assert.equal(held.container_config.enable, false);
    assert.equal(held.container_config.qbase_env, env1);
    assert.equal(held.function_config.callbacks.length, 2);
  });
  it("leaves the configuration to a resource that took it over in the same deployment (a rename without an alias)", async () => {
    const old = await suite.up({ authorizerAppId: appId, containerConfig, deleteBehavior: "disable" });
    const checked = await suite.provider.check({}, { authorizerAppId: appId, containerConfig, deleteBehavior: "disable" });
    const created = await suite.provider.create(checked.inputs);
    assert.equal(created.id, old.id);
    await suite.provider.delete(old.id, old.outs);
    assert.equal(suite.env.emulator.callbackConfig(appId).container_config.enable, true);
  });

  it("restore puts back what the account had before create", async () => {
    await destroyWith("restore");
    assert.deepEqual(suite.env.emulator.callbackConfig(appId), {
      function_config: { enable: false, callbacks: [] },
      container_config: { enable: true, qbase_env: "old-env", qbase_container_path: "/old", text_mode: 2 },
    });
  });
});
