/**
 * CallbackConfig, driven as Pulumi's host drives it (serialized stub, configure, then CRUD) against the emulator.
 * Assertions are on what the emulator received and holds, and on what the provider hands back to Pulumi.
 */
import { strict as assert } from "node:assert";
import { DEMO_CREDENTIALS, useEmulator } from "./support/emulator";
import { HostedProvider, ProviderJson, hostedProvider, newHostProcess } from "./support/providerHost";

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

describe("CallbackConfig", () => {
  const env = useEmulator();
  let provider: HostedProvider;
  beforeEach(async () => {
    provider = await hostedProvider("CallbackConfig", env.accountConfig());
  });

  /** `pulumi destroy` runs in a new host process. */
  async function destroy(id: string, outs: Record<string, unknown>) {
    newHostProcess();
    await (await hostedProvider("CallbackConfig", env.accountConfig())).delete(id, outs);
  }

  /**
   * One `pulumi up` of a new resource: check then create, as the engine does. What the test does next belongs to
   * the next deployment, which Pulumi configures anew (each deployment declares its settings afresh).
   */
  async function up(news: Record<string, unknown>) {
    const checked = await provider.check({}, news);
    assert.deepEqual(checked.failures ?? [], []);
    const created = await provider.create(checked.inputs);
    provider = await hostedProvider("CallbackConfig", env.accountConfig());
    return { inputs: checked.inputs, ...created };
  }
  const sentBodies = () => env.emulator.filter({ path: setPath }).map((request) => request.body);

  describe("create takes the managed sections over", () => {
    it("sends both sections in the API's shape and keeps what the account had as previousConfig", async () => {
      const { id, outs } = await up({ authorizerAppId: appId, functionConfig, containerConfig });
      assert.equal(id, `${appId}/callback-config`);
      assert.deepEqual(sentBodies(), [
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
      assert.deepEqual(env.emulator.callbackConfig(appId), sentBodies()[0] as object);
      assert.deepEqual(outs.previousConfig, {
        functionConfig: { enable: false, callbacks: [] },
        containerConfig: { enable: false, qbaseEnv: "", qbaseContainerPath: "", textMode: 1 },
      });
    });

    it("never sends a section the program leaves out, and does not record it", async () => {
      env.emulator.setCallbackConfig(appId, {
        container_config: { enable: true, qbase_env: "other", qbase_container_path: "/keep", text_mode: 2 },
      });
      const { outs } = await up({ authorizerAppId: appId, functionConfig });
      assert.deepEqual(Object.keys(sentBodies()[0] as object), ["function_config"]);
      assert.deepEqual(env.emulator.callbackConfig(appId).container_config, {
        enable: true,
        qbase_env: "other",
        qbase_container_path: "/keep",
        text_mode: 2,
      });
      assert.deepEqual(Object.keys(outs.previousConfig), ["functionConfig"]);
    });

    it("sends nothing when the account already matches", async () => {
      await up({ authorizerAppId: appId, containerConfig });
      const second = await hostedProvider("CallbackConfig", env.accountConfig());
      env.emulator.clearRequests();
      const checked = await second.check({}, { authorizerAppId: appId, containerConfig });
      await second.create(checked.inputs);
      assert.deepEqual(env.emulator.callCounts(), { set: 0, get: 1, token: 0, total: 1 });
    });

    it("keeps the resource with what the account holds when the set fails", async () => {
      env.emulator.injectFault({ path: setPath, errcode: 48001 });
      const checked = await provider.check({}, { authorizerAppId: appId, containerConfig });
      const failure = await provider.create(checked.inputs).then(
        () => assert.fail("create should fail"),
        (error: { id?: string; properties?: ProviderJson; message: string }) => error,
      );
      assert.equal(failure.id, `${appId}/callback-config`);
      assert.deepEqual(failure.properties.containerConfig, { enable: false, qbaseEnv: "", qbaseContainerPath: "", textMode: 1 });
      assert.deepEqual(failure.properties.previousConfig.containerConfig, failure.properties.containerConfig);
      assert.match(failure.message, /permission set 49 or 64/);
    });
  });

  describe("diff is local and exact", () => {
    it("ignores the order of callbacks", async () => {
      const { inputs, outs } = await up({ authorizerAppId: appId, functionConfig });
      const reordered = await provider.check(inputs, {
        authorizerAppId: appId,
        functionConfig: { ...functionConfig, callbacks: [...functionConfig.callbacks].reverse() },
      });
      assert.deepEqual(await provider.diff("id", outs, reordered.inputs), { changes: false });
    });
    it("updates in place when a callback changes", async () => {
      const { inputs, outs } = await up({ authorizerAppId: appId, functionConfig });
      const changed = await provider.check(inputs, { ...inputs, functionConfig: { ...functionConfig, enable: false } });
      assert.deepEqual(await provider.diff("id", outs, changed.inputs), { changes: true });
    });
    it("replaces when the account changes", async () => {
      const { inputs, outs } = await up({ authorizerAppId: appId, containerConfig });
      assert.deepEqual(await provider.diff("id", outs, { ...inputs, authorizerAppId: "wx00000000000000ff" }), {
        changes: true,
        replaces: ["authorizerAppId"],
      });
    });
    it("treats an environment id unknown during preview as a change", async () => {
      const { inputs, outs } = await up({ authorizerAppId: appId, containerConfig });
      const news = { ...inputs, containerConfig: { ...inputs.containerConfig, qbaseEnv: "04da6b54-80e4-46f7-96ec-b56ff0331ba9" } };
      assert.deepEqual(await provider.diff("id", outs, news), { changes: true });
    });
  });

  describe("update sends only what changed", () => {
    it("sends only the changed section", async () => {
      const { id, inputs, outs } = await up({ authorizerAppId: appId, functionConfig, containerConfig });
      env.emulator.clearRequests();
      const { inputs: news } = await provider.check(inputs, { ...inputs, containerConfig: { ...containerConfig, textMode: 2 } });
      await provider.update(id, outs, news);
      assert.deepEqual(sentBodies(), [
        { container_config: { enable: true, qbase_env: env1, qbase_container_path: "/container-echo", text_mode: 2 } },
      ]);
      assert.equal(env.emulator.callbackConfig(appId).container_config.text_mode, 2);
    });

    it("reads a newly managed section first, so restore can put it back", async () => {
      env.emulator.setCallbackConfig(appId, {
        container_config: { enable: true, qbase_env: "before", qbase_container_path: "/before", text_mode: 2 },
      });
      const { id, inputs, outs } = await up({ authorizerAppId: appId, functionConfig, deleteBehavior: "restore" });
      const { inputs: news } = await provider.check(inputs, { ...inputs, containerConfig });
      const updated = await provider.update(id, outs, news);
      assert.deepEqual(updated.outs.previousConfig.containerConfig, {
        enable: true,
        qbaseEnv: "before",
        qbaseContainerPath: "/before",
        textMode: 2,
      });
      assert.equal(env.emulator.callbackConfig(appId).container_config.qbase_env, env1);
      await destroy(id, updated.outs);
      assert.deepEqual(env.emulator.callbackConfig(appId).container_config, {
        enable: true,
        qbase_env: "before",
        qbase_container_path: "/before",
        text_mode: 2,
      });
    });

    it("leaves a section the program stops managing as it is on the account", async () => {
      const { id, inputs, outs } = await up({ authorizerAppId: appId, functionConfig, containerConfig });
      env.emulator.clearRequests();
      const { inputs: news } = await provider.check(inputs, { authorizerAppId: appId, containerConfig });
      const updated = await provider.update(id, outs, news);
      assert.equal(env.emulator.callCounts().set, 0);
      assert.equal(env.emulator.callbackConfig(appId).function_config.enable, true);
      assert.deepEqual(Object.keys(updated.outs.previousConfig), ["containerConfig"]);
    });
  });

  describe("read (refresh) tells the truth", () => {
    it("reports an out-of-band change of a managed section, and ignores unmanaged ones", async () => {
      const { id, inputs, outs } = await up({ authorizerAppId: appId, containerConfig });
      env.emulator.setCallbackConfig(appId, { container_config: { text_mode: 2 }, function_config: { enable: true, callbacks: [] } });
      const { props } = await provider.read(id, outs);
      assert.equal(props.containerConfig.textMode, 2);
      assert.equal(props.functionConfig, undefined);
      assert.deepEqual(await provider.diff(id, props, inputs), { changes: true });
    });
  });

  describe("delete follows deleteBehavior", () => {
    async function destroyWith(deleteBehavior: string) {
      env.emulator.setCallbackConfig(appId, {
        container_config: { enable: true, qbase_env: "old-env", qbase_container_path: "/old", text_mode: 2 },
      });
      const created = await up({ authorizerAppId: appId, functionConfig, containerConfig, deleteBehavior });
      env.emulator.clearRequests();
      await destroy(created.id, created.outs);
    }

    it("retain leaves the account as it is and calls nothing", async () => {
      await destroyWith("retain");
      assert.equal(env.emulator.callbackConfig(appId).container_config.qbase_env, env1);
      assert.equal(env.emulator.callCounts().total, 0);
    });
    it("disable sends the managed sections with enable: false", async () => {
      await destroyWith("disable");
      const held = env.emulator.callbackConfig(appId);
      assert.equal(held.function_config.enable, false);
      assert.equal(held.container_config.enable, false);
      assert.equal(held.container_config.qbase_env, env1);
      assert.equal(held.function_config.callbacks.length, 2);
    });
    it("leaves the configuration to a resource that took it over in the same deployment (a rename without an alias)", async () => {
      const old = await up({ authorizerAppId: appId, containerConfig, deleteBehavior: "disable" });
      const checked = await provider.check({}, { authorizerAppId: appId, containerConfig, deleteBehavior: "disable" });
      const created = await provider.create(checked.inputs);
      assert.equal(created.id, old.id);
      await provider.delete(old.id, old.outs);
      assert.equal(env.emulator.callbackConfig(appId).container_config.enable, true);
    });

    it("restore puts back what the account had before create", async () => {
      await destroyWith("restore");
      assert.deepEqual(env.emulator.callbackConfig(appId), {
        function_config: { enable: false, callbacks: [] },
        container_config: { enable: true, qbase_env: "old-env", qbase_container_path: "/old", text_mode: 2 },
      });
    });
  });
});
